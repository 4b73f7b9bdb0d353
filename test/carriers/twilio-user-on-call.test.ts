/**
 * The agent listening in user-on-call over Twilio, against the fake Twilio: once the target has answered
 * and is in the room, the carrier forks the target's leg (Streams resource, both tracks) to the real
 * `/media/ws` route of a running Switchboard (CARRIER=twilio); the fake plays the target's espeak speech on
 * `inbound` and the user's (what the target hears) on `outbound`, and `listen()` yields them byte for byte.
 * Activation stops the fork before the target is moved to the agent; the target hanging up ends listening;
 * forged or wrongly signed listening streams are refused and change nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { until, type TestSwitchboard } from '../helpers/switchboard.js';
import { FROM, handshake as twilioHandshake, startTwilioSwitchboard } from './twilio-harness.js';
import { FakeTwilio, sign, type FakeFork } from '../fakes/twilio/fake-twilio.js';
import { FakeMediaStreamClient } from '../fakes/twilio/media-stream-client.js';
import type { TwilioCarrier } from '../../src/carriers/twilio/twilio-carrier.js';
import type { CarrierEvent, ListenFrame, UserOnCallHandle } from '../../src/carriers/carrier.js';

const ACCOUNT = 'AC' + '00112233445566778899aabbccddeeff'.slice(0, 32);
const TOKEN = 'test-auth-token-user-on-call-0123';

/** Made by scripts/make-audio-fixtures.sh (espeak-ng → sox → μ-law 8 kHz mono). */
const GREETING = readFileSync(new URL('../fixtures/audio/greeting.ulaw', import.meta.url));
const MENU = readFileSync(new URL('../fixtures/audio/menu.ulaw', import.meta.url));

/** The operators (their speech: MENU) and the targets (their speech: GREETING; after activation they talk to the agent). */
const OPERATOR = '+15551250400';
const OPERATOR_2 = '+15551250401';
const OPERATOR_3 = '+15551250402';
const TARGET = '+15551250500';
const TARGET_2 = '+15551250501';
const TARGET_3 = '+15551250502';

/** Everything heard through `listen()`, and when the iteration ended. */
function listener(h: UserOnCallHandle) {
  const frames: ListenFrame[] = [];
  let over = false;
  const ended = (async () => {
    for await (const f of h.listen()) frames.push(f);
    over = true;
  })();
  const track = (t: ListenFrame['track']) => Buffer.concat(frames.filter((f) => f.track === t).map((f) => Buffer.from(f.frame)));
  return { frames, ended, track, isOver: () => over };
}

describe('Twilio user-on-call: the agent listening to the room before activation', () => {
  let t: TestSwitchboard;
  let fake: FakeTwilio;
  let carrier: TwilioCarrier;
  let publicUrl: string;

  beforeAll(async () => {
    const operator = { outcome: 'answer' as const, audio: { greeting: MENU } };
    const target = {
      outcome: 'answer' as const,
      greeting: 'City Clinic reception, how can I help?',
      reply: () => 'One moment please.',
      audio: { greeting: GREETING },
    };
    fake = new FakeTwilio(ACCOUNT, TOKEN, {
      [OPERATOR]: operator,
      [OPERATOR_2]: operator,
      [OPERATOR_3]: operator,
      [TARGET]: target,
      [TARGET_2]: target,
      [TARGET_3]: target,
    });
    await fake.start();
    ({ t, publicUrl, carrier } = await startTwilioSwitchboard(fake));
  }, 30_000);
  afterAll(async () => {
    await t?.close();
    await fake?.close();
  });

  const streamsPath = (callSid: string) => `/2010-04-01/Accounts/${ACCOUNT}/Calls/${callSid}/Streams.json`;
  const forkOf = (callSid: string) => until(async () => fake.calls.get(callSid)?.forks?.[0] ?? null, 10_000, 'the listening fork');
  const listening = (h: UserOnCallHandle) => until(async () => h.conferenceStatus().listening === 'listening', 10_000, 'listening');
  const heardAll = (l: ReturnType<typeof listener>) =>
    until(async () => l.track('inbound').length >= GREETING.length && l.track('outbound').length >= MENU.length, 10_000, 'the room heard');

  it('once the target is in the room, its leg is forked (both tracks, signed) and listen() yields the target on inbound and the user on outbound', async () => {
    const events: CarrierEvent[] = [];
    const h = await carrier.startUserOnCall({ callId: 'uoc-listen-1', sid: 'CAlisten1', user: OPERATOR, target: TARGET, language: 'en' }, (e) => events.push(e));
    const heard = listener(h);
    expect(h.conferenceStatus().listening).toBe('idle');
    const fork = await forkOf(h.targetCallSid);
    await listening(h);
    expect(h.conferenceStatus().phase).toBe('connected');

    // The Streams resource of the target's leg (never the user's), both tracks, to our media socket, with the signed parameters.
    const creates = fake.requests.filter((r) => r.method === 'POST' && /\/Streams\.json$/.test(r.path));
    expect(creates.map((r) => r.path)).toEqual([streamsPath(h.targetCallSid)]);
    const form = creates[0].form;
    expect(form.Track).toBe('both_tracks');
    expect(form.Url).toBe(`${publicUrl.replace(/^http/, 'ws')}/media/ws`);
    expect(form['Parameter1.Name']).toBe('callId');
    expect(form['Parameter1.Value']).toBe('uoc-listen-1');
    expect(form['Parameter2.Name']).toBe('token');
    expect(String(form['Parameter2.Value'])).toMatch(/^[\w-]{20,}$/);
    expect(fake.calls.get(h.userCallSid)!.forks).toBeUndefined();
    // The room is on: both legs in it, talking.
    expect(new Set(fake.roomMembers(h.room))).toEqual(new Set([h.userCallSid, h.targetCallSid]));

    // The agent hears the room byte for byte, each voice on its track.
    await heardAll(heard);
    expect(heard.track('inbound').equals(GREETING)).toBe(true);
    expect(heard.track('outbound').equals(MENU)).toBe(true);
    expect(heard.frames.slice(0, 4).map((f) => f.track)).toEqual(['inbound', 'outbound', 'inbound', 'outbound']);
    // Listening is silent: nothing was ever sent on the fork.
    expect(fork.client!.received).toEqual([]);
    expect(fork.status).toBe('in-progress');
    expect(heard.isOver()).toBe(false);
    expect(events.map((e) => e.type)).toEqual(['ringing']);

    // Activation: the fork is stopped first, then the target's leg is moved to the agent; listening ends.
    await h.activate({ dropUser: true });
    await heard.ended;
    expect(h.conferenceStatus().listening).toBe('stopped');
    expect(fork.status).toBe('stopped');
    expect(fork.stoppedBy).toBe('api');
    expect(fork.updates).toEqual([{ Status: 'stopped' }]);
    const stopAt = fake.requests.findIndex((r) => r.method === 'POST' && r.path === `/2010-04-01/Accounts/${ACCOUNT}/Calls/${h.targetCallSid}/Streams/${fork.sid}.json`);
    const redirectAt = fake.requests.findIndex((r) => r.method === 'POST' && r.path === `/2010-04-01/Accounts/${ACCOUNT}/Calls/${h.targetCallSid}.json` && r.form.Url);
    expect(stopAt).toBeGreaterThanOrEqual(0);
    expect(redirectAt).toBeGreaterThan(stopAt);
    expect(fake.requests[stopAt].form).toEqual({ Status: 'stopped' });
    expect(fork.client!.received).toEqual([]);
    expect(fork.client!.isOpen).toBe(false);

    // The target now talks with the agent over the relay.
    await until(async () => events.some((e) => e.type === 'answered'), 10_000, 'the agent answered');
    expect(h.conferenceStatus().phase).toBe('active');
    const target = fake.calls.get(h.targetCallSid)!;
    fake.hangup(target.sid);
    await until(async () => h.conferenceStatus().phase === 'completed', 10_000, 'completed');
    expect(h.conferenceStatus().listening).toBe('stopped');
  }, 30_000);

  it('the target hanging up ends listening (and the session); the user is dropped', async () => {
    const events: CarrierEvent[] = [];
    const h = await carrier.startUserOnCall({ callId: 'uoc-listen-2', sid: 'CAlisten2', user: OPERATOR_2, target: TARGET_2, language: 'en' }, (e) => events.push(e));
    const heard = listener(h);
    const fork = await forkOf(h.targetCallSid);
    await listening(h);
    await heardAll(heard);

    fake.hangup(h.targetCallSid);
    await heard.ended;
    expect(h.conferenceStatus().listening).toBe('stopped');
    await until(async () => h.conferenceStatus().phase === 'completed', 10_000, 'completed');
    // Twilio ended the fork with the call; nobody had to stop it.
    expect(fork.status).toBe('stopped');
    expect(fork.stoppedBy).toBe('call-ended');
    expect(fork.updates).toEqual([]);
    expect(events.map((e) => e.type)).toEqual(['ringing', 'ended']);
    await fake.calls.get(h.userCallSid)!.done;
    // A listen() after the end ends at once.
    const late: ListenFrame[] = [];
    for await (const f of h.listen()) late.push(f);
    expect(late).toEqual([]);
    await expect(h.activate({ dropUser: false })).rejects.toThrow();
  }, 30_000);

  it('a listening stream that is unsigned (403), or signed with a bad token or for the wrong leg (1008), is refused and changes nothing', async () => {
    const events: CarrierEvent[] = [];
    const callId = 'uoc-listen-3';
    const h = await carrier.startUserOnCall({ callId, sid: 'CAlisten3', user: OPERATOR_3, target: TARGET_3, language: 'en' }, (e) => events.push(e));
    const heard = listener(h);
    const fork: FakeFork = await forkOf(h.targetCallSid);
    await listening(h);
    const wsUrl = `${publicUrl.replace(/^http/, 'ws')}/media/ws`;
    const token = fork.parameters.token;
    expect(fork.parameters.callId).toBe(callId);

    // Unsigned or wrongly signed handshakes: 403 before any message.
    const handshake = (signature?: string) => twilioHandshake(wsUrl, signature);
    expect(await handshake()).toBe(403);
    expect(await handshake(sign('wrong-token', wsUrl))).toBe(403);

    // Signed handshakes whose stream is not the session's fork: closed 1008, their audio never heard.
    const JUNK = Buffer.alloc(800, 0x00);
    const intrude = async (customParameters: Record<string, string>, callSid: string, streamSid?: string) => {
      const c = await FakeMediaStreamClient.connect({ url: wsUrl, customParameters, callSid, accountSid: ACCOUNT, signature: sign(TOKEN, wsUrl), tracks: ['inbound', 'outbound'], streamSid });
      c.start();
      if (c.isOpen) {
        c.speak(JUNK, 'inbound');
        c.speak(JUNK, 'outbound');
      }
      return (await c.closed).code;
    };
    const badToken = token.slice(0, -2) + (token.endsWith('AA') ? 'BB' : 'AA');
    expect(await intrude({ callId, token: badToken }, h.targetCallSid, fork.sid)).toBe(1008);
    expect(await intrude({ callId }, h.targetCallSid, fork.sid)).toBe(1008);
    // The right token, but the user's leg (not the target's): not a fork of this session.
    expect(await intrude({ callId, token }, h.userCallSid)).toBe(1008);
    // The right token and leg, but a second stream while the session already has its fork.
    expect(await intrude({ callId, token }, h.targetCallSid)).toBe(1008);

    // Nothing changed: the real fork goes on and the agent heard exactly the room.
    await heardAll(heard);
    expect(heard.track('inbound').equals(GREETING)).toBe(true);
    expect(heard.track('outbound').equals(MENU)).toBe(true);
    expect(h.conferenceStatus()).toMatchObject({ phase: 'connected', listening: 'listening' });
    expect(fork.status).toBe('in-progress');
    expect(fork.client!.isOpen).toBe(true);
    expect(events.map((e) => e.type)).toEqual(['ringing']);
    expect(heard.isOver()).toBe(false);

    await h.hangup();
    await heard.ended;
    expect(h.conferenceStatus().listening).toBe('stopped');
    await until(async () => h.conferenceStatus().phase === 'completed', 10_000, 'completed');
    // After activation or the end, a stream with a valid token is refused too.
    expect(await intrude({ callId, token }, h.targetCallSid)).toBe(1008);
  }, 30_000);
});
