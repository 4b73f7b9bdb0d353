/**
 * The silence gate of the WebSocket speech-to-text streams (src/ai/stt/socket-stream.ts; docs/voice.md
 * "Speech-to-text chunking"), against the fake Deepgram (test/fakes/deepgram/), which keeps every audio byte it
 * received and ends turns by the silence it hears, measured in audio: once the callee has been quiet (our
 * detector's `speechPaused()`) for STT_SILENCE_MS, audio stops (KeepAlive goes on); a stream starts gated; on
 * `speechResumed()` the last 400 ms kept go at once, then the speech.
 *
 * The tests push frames as the pipeline does (src/engine/voice/audio-io.ts `hear`): each frame first, then the
 * detector's change — so the frames of the detector's onset are pushed before `speechResumed()`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DeepgramStt, type DeepgramSttOptions } from '../../../src/ai/stt/deepgram/index.js';
import type { SttOptions, SttStream } from '../../../src/ai/stt/stt.js';
import { frames, silence } from '../../fakes/stt-fake-common.js';
import { startFakeDeepgram, type FakeDeepgram } from '../../fakes/deepgram/fake-deepgram.js';
import { GREETING, MENU, record, turns, until, untilTurns, utterances } from './stt-test-helpers.js';

const KEY = 'dg-test-key';
const BYTES_PER_MS = 8;
const FRAME = 160;
/** Our detector calls speech started after this many frames of sound (vad.ts `onsetFrames`). */
const ONSET_FRAMES = 3;

/**
 * `n` frames of line silence, each marked with its index in its first four bytes as μ-law codes 0xF0–0xFF
 * (within ±31 of zero amplitude: silence to the fake's recogniser), so that the bytes heard can be traced.
 */
function markedSilence(n: number, from = 0): Uint8Array[] {
  return Array.from({ length: n }, (_, k) => {
    const i = from + k;
    const f = new Uint8Array(FRAME).fill(0xff);
    for (let d = 0; d < 4; d++) f[d] = 0xf0 | ((i >> (12 - 4 * d)) & 0x0f);
    return f;
  });
}

const join = (parts: Uint8Array[]) => Buffer.concat(parts.map((p) => Buffer.from(p)));

/** Pushes an utterance as the pipeline does: the onset frames, `speechResumed()`, the rest, 200 ms of quiet, `speechPaused()`. */
function utterance(stream: SttStream, audio: Uint8Array): void {
  const f = frames(audio);
  for (const frame of f.slice(0, ONSET_FRAMES)) stream.push(frame);
  stream.speechResumed();
  for (const frame of f.slice(ONSET_FRAMES)) stream.push(frame);
  for (const frame of frames(silence(200))) stream.push(frame);
  stream.speechPaused();
}

const quiet = (stream: SttStream, ms: number) => {
  for (const frame of frames(silence(ms))) stream.push(frame);
};

describe('the speech-to-text silence gate (Deepgram)', () => {
  let fake: FakeDeepgram | undefined;
  let streams: SttStream[] = [];

  afterEach(async () => {
    await Promise.all(streams.map((s) => s.close()));
    streams = [];
    await fake?.close();
    fake = undefined;
  });

  async function open(adapter: Partial<DeepgramSttOptions> = {}, sttOptions: Partial<SttOptions> = {}) {
    fake = await startFakeDeepgram({ apiKey: KEY, phrases: [GREETING, MENU] });
    const stt = new DeepgramStt({ apiKey: KEY, baseUrl: fake.url, keepAliveMs: 100, ...adapter });
    const stream = stt.stream({ language: 'en', endpointingMs: 500, interim: true, gateSilence: true, ...sttOptions });
    streams.push(stream);
    return { stream, events: record(stream), fake };
  }

  /** Waits until the socket is open (its first KeepAlive: Deepgram heard no audio yet). */
  const opened = (f: FakeDeepgram) => until(async () => (f.connections[0]?.keepAlives ?? 0) >= 1, 15_000, 'first KeepAlive');

  it('sends nothing before the callee speaks; on speech, the last 400 ms at once, then the speech, bytes in order', async () => {
    const { stream, events, fake } = await open();
    await opened(fake);
    const before = markedSilence(50); // 1 s of the callee silent at the start of the call
    for (const f of before) stream.push(f);
    await until(async () => fake.connections[0]!.keepAlives >= 3, 15_000, 'KeepAlives while gated');
    expect(fake.connections[0]!.audioBytes).toBe(0);
    expect(stream.audioSeconds).toBe(0);

    const speech = frames(GREETING.audio);
    for (const f of speech.slice(0, ONSET_FRAMES)) stream.push(f);
    stream.speechResumed();
    // 400 ms = 20 frames: the last 17 of the silence and the 3 onset frames, as four 100 ms messages at once.
    const preroll = join([...before.slice(50 - 17), ...speech.slice(0, ONSET_FRAMES)]);
    await until(async () => fake.connections[0]!.audioBytes >= preroll.length, 15_000, 'pre-roll');
    expect(fake.connections[0]!.audioMessages.slice(0, 4)).toEqual([800, 800, 800, 800]);
    expect(join(fake.connections[0]!.audio).subarray(0, preroll.length)).toEqual(preroll);

    for (const f of speech.slice(ONSET_FRAMES)) stream.push(f);
    quiet(stream, 200);
    stream.speechPaused();
    quiet(stream, 3000);
    await untilTurns(events, 1);
    // Everything after the pre-roll, up to 1500 ms (STT_SILENCE_MS) of the silence after speechPaused.
    const expected = join([preroll, ...speech.slice(ONSET_FRAMES), silence(200), silence(1500)]);
    await until(async () => fake.connections[0]!.audioBytes === expected.length, 15_000, 'audio up to the gate');
    expect(join(fake.connections[0]!.audio)).toEqual(expected);
    expect(utterances(events)).toEqual([GREETING.text]);
  });

  it('frames of any length: the pre-roll is exactly the last 400 ms pushed, in order', async () => {
    const { stream, fake } = await open();
    await opened(fake);
    // 10 000 bytes of near-zero μ-law codes in a pseudo-random order (a misplaced byte would show).
    let seed = 7;
    const input = Uint8Array.from({ length: 10_000 }, () => 0xf0 | ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) >> 16) & 0x0f);
    stream.push(input.subarray(0, 4000)); // longer than the ring: its last 400 ms
    for (let at = 4000; at < input.length; at += 70) stream.push(input.subarray(at, Math.min(at + 70, input.length))); // wrapping the ring
    stream.speechResumed();
    await until(async () => fake.connections[0]!.audioBytes >= 3200, 15_000, 'pre-roll');
    expect(join(fake.connections[0]!.audio)).toEqual(Buffer.from(input.subarray(input.length - 3200)));
  });

  it('after speech and STT_SILENCE_MS of silence no more audio goes, KeepAlive does; audioSeconds counts only what was sent', async () => {
    const { stream, events, fake } = await open();
    quiet(stream, 500);
    utterance(stream, GREETING.audio); // pushed before the socket opens: held, then sent once open
    quiet(stream, 5000);
    await untilTurns(events, 1);
    const sent = 400 * BYTES_PER_MS + GREETING.audio.length - ONSET_FRAMES * FRAME + 200 * BYTES_PER_MS + 1500 * BYTES_PER_MS;
    await until(async () => fake.connections[0]!.audioBytes === sent, 15_000, 'audio up to the gate');
    const keepAlives = fake.connections[0]!.keepAlives;
    await until(async () => fake.connections[0]!.keepAlives >= keepAlives + 3, 15_000, 'KeepAlives after the gate closed');
    quiet(stream, 1000);
    await until(async () => fake.connections[0]!.keepAlives >= keepAlives + 5, 15_000, 'more KeepAlives');
    expect(fake.connections[0]!.audioBytes).toBe(sent);
    expect(fake.connections[0]!.closed).toBe(false);
    // Billing: the audio sent, not the 7.7 s pushed.
    expect(stream.audioSeconds).toBe(sent / 8000);
    expect(stream.audioSeconds).toBeLessThan((500 + 5000 + 1000) / 1000);
    await stream.close();
    expect(fake.connections[0]!.controls.map((m) => JSON.parse(m).type).at(-1)).toBe('CloseStream');
    expect(fake.connections[0]!.audioBytes).toBe(sent); // a gated stream has nothing left to send on close
  });

  it('a turn Deepgram still hears when the gate closes (speech our detector took for quiet) is ended with Finalize', async () => {
    const { stream, events, fake } = await open();
    await opened(fake);
    const speech = frames(GREETING.audio);
    for (const f of speech.slice(0, ONSET_FRAMES)) stream.push(f);
    stream.speechResumed();
    stream.speechPaused(); // the detector hears quiet where the provider hears ≈ 2.5 s more of speech
    for (const f of speech.slice(ONSET_FRAMES)) stream.push(f);
    // Without Finalize the turn would wait for audio that the gate no longer sends.
    await untilTurns(events, 1);
    expect(fake.connections[0]!.finalizes).toBe(1);
    expect(fake.connections[0]!.audioBytes).toBe(ONSET_FRAMES * FRAME + 1500 * BYTES_PER_MS);
    expect(utterances(events)[0]!.length).toBeGreaterThan(0);
  });

  it('the provider still ends each turn, the next utterance after the gate closed too', async () => {
    const { stream, events, fake } = await open();
    await opened(fake);
    utterance(stream, GREETING.audio);
    quiet(stream, 3000);
    await untilTurns(events, 1);
    utterance(stream, MENU.audio);
    quiet(stream, 3000);
    await untilTurns(events, 2);
    expect(utterances(events)).toEqual([GREETING.text, MENU.text]);
    expect(turns(events)).toHaveLength(2);
  });

  it('a call whose endpointing is longer than STT_SILENCE_MS still ends its turn: the gate waits past the endpointing', async () => {
    const { stream, events, fake } = await open({ silenceMs: 1500 }, { endpointingMs: 2500 });
    await opened(fake);
    utterance(stream, GREETING.audio);
    quiet(stream, 5000);
    await untilTurns(events, 1);
    expect(utterances(events)).toEqual([GREETING.text]);
    // The gate closed at the endpointing plus its margin (3000 ms after speechPaused), not at 1500.
    const sent = GREETING.audio.length + 200 * BYTES_PER_MS + 3000 * BYTES_PER_MS;
    await until(async () => fake.connections[0]!.audioBytes === sent, 15_000, 'audio up to the gate');
  });

  it("STT_SILENCE_MS=all ('all') streams every frame, as without the gate", async () => {
    const { stream, events, fake } = await open({ silenceMs: 'all' });
    quiet(stream, 1000);
    utterance(stream, GREETING.audio);
    quiet(stream, 4000);
    await untilTurns(events, 1);
    const pushed = 1000 * BYTES_PER_MS + GREETING.audio.length + 200 * BYTES_PER_MS + 4000 * BYTES_PER_MS;
    await stream.close(); // the last part of a chunk goes with the close
    expect(fake.connections[0]!.audioBytes).toBe(pushed);
    expect(stream.audioSeconds).toBe(pushed / 8000);
  });

  it('a caller without a voice activity detector (no gateSilence: the room listener) has every frame sent', async () => {
    const { stream, fake } = await open({}, { gateSilence: undefined });
    quiet(stream, 1000);
    await until(async () => fake.connections[0]?.audioBytes === 1000 * BYTES_PER_MS, 15_000, 'all audio sent');
  });
});
