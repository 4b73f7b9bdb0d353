/**
 * Calls in audio mode through the Twilio carrier, against the fake Twilio: `/start_call` answers
 * `<Connect><Stream>`, the fake connects a signed Media Streams client to the real `/media/ws` route of a
 * running Switchboard (CARRIER=twilio), and the audio channel carries espeak-ng speech both ways. The engine
 * speaks text only for now, so calls are placed with TwilioCarrier.dial directly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { until, type TestSwitchboard } from '../helpers/switchboard.js';
import { FROM, handshake as twilioHandshake, startTwilioSwitchboard } from './twilio-harness.js';
import { FakeTwilio, sign, type FakeCall } from '../fakes/twilio/fake-twilio.js';
import { FakeMediaStreamClient } from '../fakes/twilio/media-stream-client.js';
import type { TwilioCarrier } from '../../src/carriers/twilio/twilio-carrier.js';
import type { AudioChannel, AudioInput, CarrierEvent, DialRequest } from '../../src/carriers/carrier.js';

const ACCOUNT = 'AC' + 'fedcba9876543210'.repeat(2);
const TOKEN = 'test-auth-token-media-0123456789';

/** Made by scripts/make-audio-fixtures.sh (espeak-ng → sox → μ-law 8 kHz mono). */
const GREETING = readFileSync(new URL('../fixtures/audio/greeting.ulaw', import.meta.url));
const MENU = readFileSync(new URL('../fixtures/audio/menu.ulaw', import.meta.url));

const ANNA = '+15551240001';
const ANNA_HOLDING = '+15551240002';

/** One call placed in audio mode, with everything the carrier reported and everything the callee sent. */
interface AudioCall {
  events: CarrierEvent[];
  inputs: AudioInput[];
  /** The callee's audio as received on the channel, frame by frame. */
  frames: Uint8Array[];
  /** Resolves when the channel's frame iterator ends. */
  framesEnded: Promise<void>;
  audio: AudioChannel;
  fc: FakeCall;
  ended: () => Promise<Extract<CarrierEvent, { type: 'ended' }>>;
}

const bytes = (frames: Uint8Array[]) => Buffer.concat(frames.map((f) => Buffer.from(f)));

describe('Twilio carrier in audio mode (Media Streams) against the fake Twilio', () => {
  let t: TestSwitchboard;
  let fake: FakeTwilio;
  let carrier: TwilioCarrier;
  let publicUrl: string;
  let n = 0;

  beforeAll(async () => {
    const anna = { outcome: 'answer' as const, audio: { greeting: GREETING, onDigits: (d: string) => (d.includes('2') ? MENU : null) } };
    fake = new FakeTwilio(ACCOUNT, TOKEN, { [ANNA]: anna, [ANNA_HOLDING]: { ...anna, holdMarks: true } });
    await fake.start();
    ({ t, publicUrl, carrier } = await startTwilioSwitchboard(fake));
    carrier.opts.streamReattachMs = 300;
    carrier.opts.streamEndedFallbackMs = 300;
  }, 30_000);
  afterAll(async () => {
    await t?.close();
    await fake?.close();
  });

  /** Places a call in audio mode and waits until it is answered with an audio channel. */
  async function dial(to: string, extra: Partial<DialRequest> = {}): Promise<AudioCall> {
    const events: CarrierEvent[] = [];
    const callId = `call_audio_${++n}`;
    await carrier.dial({ callId, sid: `sid_${n}`, to, language: 'en', record: false, voiceMode: 'audio', ...extra }, (e) => events.push(e));
    const answered = await until(async () => events.find((e) => e.type === 'answered'), 10_000, 'answered');
    if (answered.type !== 'answered' || answered.mode !== 'audio') throw new Error('not answered in audio mode');
    const audio = answered.audio;
    const inputs: AudioInput[] = [];
    audio.onInput((i) => inputs.push(i));
    const frames: Uint8Array[] = [];
    const framesEnded = (async () => {
      for await (const f of audio.frames()) frames.push(f);
    })();
    const fc = [...fake.calls.values()].filter((c) => c.to === to).at(-1)!;
    const ended = () => until(async () => events.find((e): e is Extract<CarrierEvent, { type: 'ended' }> => e.type === 'ended'), 10_000, 'ended');
    return { events, inputs, frames, framesEnded, audio, fc, ended };
  }

  const received = (c: AudioCall, bytesWanted: number) => until(async () => bytes(c.frames).length >= bytesWanted, 10_000, 'callee audio');

  it('/start_call answers <Connect><Stream> with a signed token; the callee’s espeak audio arrives on the audio channel byte for byte', async () => {
    expect(carrier.capabilities.mediaStream).toBe(true);
    const c = await dial(ANNA);
    expect(c.fc.twiml).toMatch(
      /^<\?xml[^>]*\?><Response><Connect><Stream url="ws:\/\/127\.0\.0\.1:\d+\/media\/ws"><Parameter name="callId" value="call_audio_\d+"\/><Parameter name="token" value="[\w-]{20,}"\/><\/Stream><\/Connect><\/Response>$/,
    );
    expect(c.fc.twiml).not.toContain('ConversationRelay');
    expect(c.events.map((e) => e.type)).toEqual(['ringing', 'answered']);
    await received(c, GREETING.length);
    expect(bytes(c.frames).equals(GREETING)).toBe(true);
    // In the order and framing Twilio sent them: 20 ms frames, the last one partial.
    expect(c.frames.slice(0, -1).every((f) => f.length === 160)).toBe(true);
    expect(c.frames.length).toBe(Math.ceil(GREETING.length / 160));
    await c.audio.hangup();
    await c.ended();
  }, 30_000);

  it('onFrame takes the callee’s audio as it arrives, byte for byte (what was queued first), and frames() then yields nothing', async () => {
    const c = await dial(ANNA);
    // The greeting has begun arriving on frames() (the dial helper iterates it); from here the listener takes over.
    await received(c, 160 * 10);
    const queuedBefore = bytes(c.frames).length;
    const heard: Uint8Array[] = [];
    c.audio.onFrame!((f) => heard.push(f));
    await until(async () => queuedBefore + bytes(heard).length >= GREETING.length, 10_000, 'the rest of the greeting');
    expect(Buffer.concat([bytes(c.frames), bytes(heard)]).equals(GREETING)).toBe(true);
    await c.audio.hangup();
    await c.ended();
  }, 30_000);

  it('audio played by our side reaches the callee in media messages of 80 ms (640 bytes) on its stream, and marks come back', async () => {
    const c = await dial(ANNA);
    const stream = c.fc.streams![0];
    expect(await c.audio.play(MENU)).toEqual({ played: true });
    expect(await c.audio.mark('utt-1')).toEqual({ played: true });
    expect(stream.played.equals(MENU)).toBe(true);
    const media = stream.received.filter((m) => m.event === 'media');
    expect(media.every((m) => m.streamSid === stream.streamSid)).toBe(true);
    const sizes = media.map((m) => Buffer.from(m.media.payload, 'base64').length);
    expect(sizes.slice(0, -1).every((s) => s === 640)).toBe(true);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(MENU.length);
    expect(stream.received.find((m) => m.event === 'mark' && m.mark.name === 'utt-1')).toEqual({ event: 'mark', streamSid: stream.streamSid, mark: { name: 'utt-1' } });
    await c.audio.hangup();
    await c.ended();
  }, 30_000);

  it('send queues audio with no report per frame: one mark per 80 ms of it (what clear counts as heard), not one per frame', async () => {
    const c = await dial(ANNA);
    const stream = c.fc.streams![0];
    const second = GREETING.subarray(0, 8000);
    // As the pacer hands it over: 80 ms at a time (the channel's outboundFrameMs), a media message each.
    expect(c.audio.outboundFrameMs).toBe(80);
    for (let i = 0; i < second.length; i += 640) c.audio.send!(second.subarray(i, i + 640));
    expect(await c.audio.mark('end')).toEqual({ played: true });
    expect(stream.played.equals(second)).toBe(true);
    expect(stream.received.filter((m) => m.event === 'media')).toHaveLength(13);
    // A progress mark after each full message (the last one, 320 bytes, is not 80 ms yet), then the caller's own.
    expect(stream.received.filter((m) => m.event === 'mark').map((m) => m.mark.name)).toEqual([...Array.from({ length: 12 }, (_, i) => `sent-${i + 1}`), 'end']);
    expect(stream.received.filter((m) => m.event !== 'connected').slice(0, 4).map((m) => m.event)).toEqual(['media', 'mark', 'media', 'mark']);
    await c.audio.hangup();
    await c.ended();
  }, 30_000);

  it('clear drops the audio not yet played (barge-in); what follows plays', async () => {
    const c = await dial(ANNA_HOLDING);
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
  }, 30_000);

  it('a digit the callee presses arrives on the channel', async () => {
    const c = await dial(ANNA);
    c.fc.streams![0].dtmf('5');
    c.fc.streams![0].dtmf('#');
    await until(async () => c.inputs.length >= 2, 10_000, 'dtmf');
    expect(c.inputs).toEqual([
      { type: 'dtmf', digits: '5' },
      { type: 'dtmf', digits: '#' },
    ]);
    await c.audio.hangup();
    await c.ended();
  }, 30_000);

  it('sendDigits reaches the callee as <Play digits>; a new stream re-attaches to the same channel and audio flows both ways', async () => {
    const c = await dial(ANNA);
    await received(c, GREETING.length);
    const first = c.fc.streams![0];
    await c.audio.sendDigits('w2');
    expect(c.fc.digits).toEqual(['w2']);
    const update = c.fc.updates.find((u) => u.Twiml);
    expect(update?.Twiml).toMatch(/^<Response><Play digits="w2"\/><Connect><Stream url="ws:\/\/127\.0\.0\.1:\d+\/media\/ws"><Parameter name="callId" value="call_audio_\d+"\/><Parameter name="token" value="[\w-]+"\/><\/Stream><\/Connect><\/Response>$/);
    expect(c.fc.streams).toHaveLength(2);
    const second = c.fc.streams![1];
    expect(second.streamSid).not.toBe(first.streamSid);
    expect(first.isOpen).toBe(false);
    // The menu the callee answers the digits with arrives on the same frame iterator, after the greeting.
    await received(c, GREETING.length + MENU.length);
    expect(bytes(c.frames).equals(Buffer.concat([GREETING, MENU]))).toBe(true);
    // Our audio goes to the new stream, under its streamSid.
    expect(await c.audio.play(GREETING.subarray(0, 800))).toEqual({ played: true });
    expect(second.played.equals(GREETING.subarray(0, 800))).toBe(true);
    expect(second.received.filter((m) => m.event === 'media').every((m) => m.streamSid === second.streamSid)).toBe(true);
    second.dtmf('9');
    await until(async () => c.inputs.length > 0, 10_000, 'dtmf');
    expect(c.inputs).toEqual([{ type: 'dtmf', digits: '9' }]);
    expect(c.events.map((e) => e.type)).toEqual(['ringing', 'answered']);
    await c.audio.hangup();
    await c.ended();
  }, 30_000);

  it('a media handshake that is unsigned or wrongly signed is refused with 403', async () => {
    const wsUrl = publicUrl.replace(/^http/, 'ws') + '/media/ws';
    const handshake = (signature?: string) => twilioHandshake(wsUrl, signature);
    expect(await handshake()).toBe(403);
    expect(await handshake(sign('wrong-token', wsUrl))).toBe(403);
    expect(await handshake(sign(TOKEN, `${publicUrl}/media/ws`))).toBe(403);
    expect(await handshake(sign(TOKEN, wsUrl))).toBe(101);
  });

  it('a signed stream with a wrong token, or a token for another call, is closed (1008) and the live call carries on', async () => {
    const c = await dial(ANNA);
    const wsUrl = publicUrl.replace(/^http/, 'ws') + '/media/ws';
    const callId = /name="callId" value="([^"]+)"/.exec(c.fc.twiml!)![1];
    const token = /name="token" value="([^"]+)"/.exec(c.fc.twiml!)![1];
    const intrude = async (customParameters: Record<string, string>, callSid: string) => {
      const s = await FakeMediaStreamClient.connect({ url: wsUrl, signature: sign(TOKEN, wsUrl), customParameters, callSid, accountSid: ACCOUNT });
      s.start();
      s.speak(MENU);
      return (await s.closed).code;
    };
    // The right call, a forged token.
    expect(await intrude({ callId, token: token.slice(0, -2) + (token.endsWith('AA') ? 'BB' : 'AA') }, c.fc.sid)).toBe(1008);
    // A real token, presented for a call it was not made for.
    expect(await intrude({ callId, token }, 'CA' + '7'.repeat(32))).toBe(1008);
    // No token at all.
    expect(await intrude({ callId }, c.fc.sid)).toBe(1008);
    // The call was not touched: one stream, not ended, and it still carries audio.
    expect(c.fc.streams).toHaveLength(1);
    expect(c.events.map((e) => e.type)).toEqual(['ringing', 'answered']);
    await received(c, GREETING.length);
    expect(bytes(c.frames).equals(GREETING)).toBe(true);
    expect(await c.audio.play(MENU.subarray(0, 320))).toEqual({ played: true });
    await c.audio.hangup();
    await c.ended();
  }, 30_000);

  it('hang-up ends the call over REST; the call ends completed and the channel hears the far end go', async () => {
    const c = await dial(ANNA);
    await c.audio.hangup();
    const e = await c.ended();
    // Audio mode: the carrier reports its media stream's time with the end (billing).
    expect(e).toEqual({ type: 'ended', status: 'completed', usage: { connectedSeconds: expect.any(Number), mediaSeconds: expect.any(Number) } });
    expect(e.usage!.mediaSeconds).toBe(e.usage!.connectedSeconds);
    await c.fc.done;
    expect(c.fc.updates.map((u) => u.Status)).toEqual(['completed']);
    expect(c.fc.callbacks.at(-1)?.status).toBe('completed');
    // The frames ended and the voice layer was told.
    await c.framesEnded;
    expect(c.inputs).toEqual([{ type: 'hangup' }]);
    expect(await c.audio.play(MENU)).toEqual({ played: false });
    expect(carrier.hasCall(c.fc.sid)).toBe(false);
  }, 30_000);

  it('a stream dropped with no status callback ends the call after the fallback', async () => {
    const c = await dial(ANNA);
    fake.dropStream(c.fc.sid);
    const e = await c.ended();
    expect(e).toMatchObject({ type: 'ended', status: 'completed', reason: 'media_closed' });
    expect(c.fc.callbacks.map((cb) => cb.status)).not.toContain('completed');
    await c.framesEnded;
    expect(c.inputs).toEqual([{ type: 'hangup' }]);
    expect(carrier.hasCall(c.fc.sid)).toBe(false);
  }, 30_000);
});
