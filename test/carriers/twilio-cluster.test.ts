/**
 * Two nodes sharing PostgreSQL and Redis, Twilio pointed at the second (as a load balancer might): the first
 * node places the call and carries its session; the TwiML request, the status callbacks, the relay socket and
 * the caller-ID result all reach the second node, which passes them on to the first over the bus.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { startSwitchboard, until, type TestSwitchboard } from '../helpers/switchboard.js';
import { RealClock } from '../../src/lib/clock.js';
import { openStore } from '../../src/store/index.js';
import { FakeTwilio, RECEPTIONIST } from '../fakes/twilio/fake-twilio.js';
import type { TwilioCarrier } from '../../src/carriers/twilio/twilio-carrier.js';
import type { AudioChannel, AudioInput, CarrierEvent, ListenFrame } from '../../src/carriers/carrier.js';
import { freePort, twilioEnv } from './twilio-harness.js';

const ACCOUNT = 'AC' + 'fedcba9876543210'.repeat(2);
const TOKEN = 'cluster-auth-token-0123456789';
const pgUrl = process.env.TEST_DATABASE_URL;
/** Made by scripts/make-audio-fixtures.sh (espeak-ng → sox → μ-law 8 kHz mono). */
const GREETING = readFileSync(new URL('../fixtures/audio/greeting.ulaw', import.meta.url));
const MENU = readFileSync(new URL('../fixtures/audio/menu.ulaw', import.meta.url));
const AUDIO = '+15551240010';
const AUDIO_HOLDING = '+15551240011';
const OPERATOR = '+15551250400';
const TARGET = '+15551250500';
const bytes = (frames: Uint8Array[]) => Buffer.concat(frames.map((f) => Buffer.from(f)));
const redisUrl = process.env.TEST_REDIS_URL;

describe.skipIf(!pgUrl || !redisUrl)('Twilio callbacks in a cluster (PostgreSQL + Redis)', () => {
  const schema = 't_' + randomBytes(6).toString('hex');
  const shared = { name: 'postgres' as const, open: () => openStore({ databaseUrl: pgUrl!, schema, poolSize: 5 }) };
  let a: TestSwitchboard;
  let b: TestSwitchboard;
  let fake: FakeTwilio;
  let publicUrl: string;
  const randomBytesKey = randomBytes(32).toString('base64');

  beforeAll(async () => {
    const audio = { outcome: 'answer' as const, audio: { greeting: GREETING, onDigits: (d: string) => (d.includes('2') ? MENU : null) } };
    fake = new FakeTwilio(ACCOUNT, TOKEN, { '+15551240001': RECEPTIONIST, [AUDIO]: audio, [AUDIO_HOLDING]: { ...audio, holdMarks: true },
      [OPERATOR]: { outcome: 'answer' as const, audio: { greeting: MENU } },
      [TARGET]: { outcome: 'answer' as const, greeting: 'City Clinic reception, how can I help?', reply: () => 'One moment please.', audio: { greeting: GREETING } },
    });
    await fake.start();
    const [portA, portB] = [await freePort(), await freePort()];
    // Twilio is told the second node's address: every callback lands there.
    publicUrl = `http://127.0.0.1:${portB}`;
    const env = (port: number) => ({ ...twilioEnv(fake, port, publicUrl), REDIS_URL: redisUrl!, REDIS_PREFIX: `sbtest:${schema}:`, CREDENTIALS_KEY: randomBytesKey });
    a = await startSwitchboard(shared, { ...env(portA), NODE_ID: 'node-a' }, { clock: new RealClock(1) as never });
    b = await startSwitchboard(shared, { ...env(portB), NODE_ID: 'node-b' }, { clock: new RealClock(1) as never });
    (a.sb.carrier as TwilioCarrier).opts.wordsPerSecond = 1000;
    await a.sb.listen();
    await b.sb.listen();
  }, 30_000);

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await fake?.close();
    const c = new pg.Client({ connectionString: pgUrl });
    // A connection lost while idle is an 'error' event: without a listener it would end the run.
    c.on('error', (err) => console.warn('database client error', err.message));
    await c.connect();
    await c.query(`drop schema if exists ${schema} cascade`);
    await c.end();
  });

  const headers = () => ({ authorization: `Bearer ${a.key}` });

  it('a call placed by one node runs to the end while Twilio talks only to the other', async () => {
    const bCarrier = b.sb.carrier as TwilioCarrier;
    const own = bCarrier.twimlFor.bind(bCarrier);
    const bOwnTwiml: Array<string | null> = [];
    bCarrier.twimlFor = (callSid, answeredBy) => {
      const t = own(callSid, answeredBy);
      bOwnTwiml.push(t);
      return t;
    };
    const r = await a.sb.app.inject({
      method: 'POST',
      url: '/v1/start-call',
      headers: headers(),
      payload: { phone_number: '+15551240001', language: 'en', task: 'Confirm my dinner booking for Tuesday at 7 pm, booking reference AB123', persona: { name: 'John Smith' } },
    });
    expect(r.statusCode, r.body).toBe(200);
    const sid = r.json().sid as string;
    const get = async () => (await b.sb.app.inject({ method: 'GET', url: `/v1/calls/${sid}`, headers: headers() })).json();
    const c = await until(async () => ((await get()).ended_at ? get() : null), 20_000, 'call to end');
    const fc = [...fake.calls.values()].find((f) => f.to === '+15551240001')!;
    await fc.done;
    // The second node answered Twilio's TwiML request with the first node's TwiML, relay on the second node.
    expect(fc.twiml).toContain(`<ConversationRelay url="ws://127.0.0.1:${publicUrl.split(':')[2]}/relay/ws"`);
    expect(fc.callbacks.map((x) => x.status)).toEqual(['initiated', 'ringing', 'in-progress', 'completed']);
    expect(fc.callbacks.every((x) => x.code === 204)).toBe(true);
    expect(c.status).toBe('completed');
    expect(c.outcome).toBe('goal_completed');
    expect(fc.agentTurns.some((t) => /John Smith/.test(t))).toBe(true);
    expect(c.transcripts.some((x: any) => x.role === 'user' && /What name is the booking under/.test(x.text))).toBe(true);
    // The second node never knew the call itself: its own answer to the TwiML request was none.
    expect(bOwnTwiml.length).toBeGreaterThan(0);
    expect(bOwnTwiml.every((t) => t === null)).toBe(true);
  }, 30_000);

  it("a caller-ID result that reaches the other node still settles the first node's verification", async () => {
    fake.typesCode.add('+15551240300');
    const r = await a.sb.app.inject({ method: 'POST', url: '/v1/verify-caller-id', headers: headers(), payload: { phone_number: '+15551240300' } });
    expect(r.statusCode, r.body).toBe(200);
    const id = r.json().verification_id as string;
    const status = async () => (await b.sb.app.inject({ method: 'GET', url: `/v1/verification-status/${id}`, headers: headers() })).json().status;
    expect(await until(async () => ((await status()) !== 'pending' ? status() : null), 10_000, 'verification result')).toBe('verified');
    expect(fake.validations.at(-1)!.callback).toEqual({ status: 'success', code: 204 });
  }, 30_000);

  /** Node A places a call in audio mode (the engine speaks text only for now, so through the carrier itself). */
  async function dialAudio(to: string) {
    const events: CarrierEvent[] = [];
    const carrier = a.sb.carrier as TwilioCarrier;
    const callId = `call_cluster_audio_${randomBytes(4).toString('hex')}`;
    await carrier.dial({ callId, sid: callId, to, language: 'en', record: false, voiceMode: 'audio' }, (e) => events.push(e));
    const answered = await until(async () => events.find((e) => e.type === 'answered'), 15_000, 'answered');
    if (answered.type !== 'answered' || answered.mode !== 'audio') throw new Error('not answered in audio mode');
    const audio: AudioChannel = answered.audio;
    const inputs: AudioInput[] = [];
    audio.onInput((i) => inputs.push(i));
    const frames: Uint8Array[] = [];
    const framesEnded = (async () => {
      for await (const f of audio.frames()) frames.push(f);
    })();
    const fc = [...fake.calls.values()].filter((c) => c.to === to).at(-1)!;
    const ended = () => until(async () => events.find((e) => e.type === 'ended'), 15_000, 'ended');
    return { events, inputs, frames, framesEnded, audio, fc, ended };
  }

  it("an audio call's media socket reaches the node that does not carry it: frames, marks and digits flow through the owner's channel", async () => {
    const c = await dialAudio(AUDIO);
    // The stream was opened on the second node (Twilio's public URL), which never knew the call.
    expect(c.fc.twiml).toContain(`<Stream url="ws://127.0.0.1:${publicUrl.split(':')[2]}/media/ws">`);
    expect((b.sb.carrier as TwilioCarrier).hasCall(c.fc.sid)).toBe(false);
    expect((a.sb.carrier as TwilioCarrier).hasCall(c.fc.sid)).toBe(true);
    // The callee's audio, sent to the second node, arrives on the owner's channel byte for byte and in order.
    await until(async () => bytes(c.frames).length >= GREETING.length, 15_000, 'callee audio');
    expect(bytes(c.frames).equals(GREETING)).toBe(true);
    // What the owner plays reaches the socket on the other node, in 80 ms (640-byte) media messages, and its mark comes back.
    const stream = c.fc.streams![0];
    expect(await c.audio.play(MENU)).toEqual({ played: true });
    expect(await c.audio.mark('utt-1')).toEqual({ played: true });
    expect(stream.played.equals(MENU)).toBe(true);
    const sizes = stream.received.filter((m) => m.event === 'media').map((m) => Buffer.from(m.media.payload, 'base64').length);
    expect(sizes.slice(0, -1).every((n) => n === 640)).toBe(true);
    // Digits pressed by the callee arrive on the owner's channel.
    stream.dtmf('5');
    stream.dtmf('#');
    await until(async () => c.inputs.length >= 2, 15_000, 'dtmf');
    expect(c.inputs).toEqual([
      { type: 'dtmf', digits: '5' },
      { type: 'dtmf', digits: '#' },
    ]);
    // Digits sent by the owner: <Play digits> and a new stream, which reaches the other node and is bridged again.
    await c.audio.sendDigits('w2');
    expect(c.fc.digits).toEqual(['w2']);
    expect(c.fc.streams).toHaveLength(2);
    await until(async () => bytes(c.frames).length >= GREETING.length + MENU.length, 15_000, 'menu audio');
    expect(bytes(c.frames).equals(Buffer.concat([GREETING, MENU]))).toBe(true);
    expect(await c.audio.play(GREETING.subarray(0, 800))).toEqual({ played: true });
    expect(c.fc.streams![1].played.equals(GREETING.subarray(0, 800))).toBe(true);
    await c.audio.hangup();
    expect(await c.ended()).toMatchObject({ type: 'ended', status: 'completed' });
    await c.framesEnded;
    expect(c.inputs.at(-1)).toEqual({ type: 'hangup' });
  }, 60_000);

  it('clear from the owner reaches the socket on the other node and drops the unplayed audio', async () => {
    const c = await dialAudio(AUDIO_HOLDING);
    const stream = c.fc.streams![0];
    const unheard = c.audio.play(MENU);
    await stream.waitFor((m) => m.event === 'mark');
    c.audio.clear();
    expect(await unheard).toEqual({ played: false });
    await stream.waitFor((m) => m.event === 'clear');
    expect(stream.played.length).toBe(0);
    const next = c.audio.play(GREETING.subarray(0, 1600));
    await stream.waitFor((m) => m.event === 'mark' && m.mark.name !== stream.received.find((x) => x.event === 'mark')!.mark.name);
    stream.playOut();
    expect(await next).toEqual({ played: true });
    expect(stream.played.equals(GREETING.subarray(0, 1600))).toBe(true);
    await c.audio.hangup();
    await c.ended();
  }, 60_000);

  it("a user-on-call listening fork that reaches the other node is heard by the owner's listen(), byte for byte", async () => {
    const carrier = a.sb.carrier as TwilioCarrier;
    const events: CarrierEvent[] = [];
    const h = await carrier.startUserOnCall({ callId: 'uoc-cluster-1', sid: 'CAuoccluster1', user: OPERATOR, target: TARGET, language: 'en' }, (e) => events.push(e));
    const frames: ListenFrame[] = [];
    const ended = (async () => {
      for await (const f of h.listen()) frames.push(f);
    })();
    const track = (t: ListenFrame['track']) => Buffer.concat(frames.filter((f) => f.track === t).map((f) => Buffer.from(f.frame)));
    const fork = await until(async () => fake.calls.get(h.targetCallSid)?.forks?.[0] ?? null, 15_000, 'the listening fork');
    // Twilio opened the fork on the second node, which does not carry the session.
    expect((b.sb.carrier as TwilioCarrier).hasCall(h.targetCallSid)).toBe(false);
    await until(async () => track('inbound').length >= GREETING.length && track('outbound').length >= MENU.length, 15_000, 'the room heard');
    expect(track('inbound').equals(GREETING)).toBe(true);
    expect(track('outbound').equals(MENU)).toBe(true);
    expect(fork.client!.received).toEqual([]);
    await h.activate({ dropUser: true });
    await ended;
    expect(fork.status).toBe('stopped');
    // The target then talks with the agent over a relay socket, which reaches the other node too.
    await until(async () => events.some((e) => e.type === 'answered'), 15_000, 'the agent answered');
    fake.hangup(h.targetCallSid);
    await until(async () => h.conferenceStatus().phase === 'completed', 15_000, 'completed');
  }, 60_000);
});
