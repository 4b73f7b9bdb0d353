/**
 * A barge-in through a GATED speech-to-text stream: the cascaded audio I/O with the real Deepgram adapter against
 * the fake Deepgram, which only has words for audio it received. While the agent talks and the callee is quiet,
 * the silence gate (src/ai/stt/socket-stream.ts) sends the provider nothing; when the callee talks over the
 * agent, the gate opens with the 400 ms before the detector's onset, the provider's words come back, and the
 * interruption rule (500 ms and a word) is met: the agent's audio is cleared, and the callee's words are the turn.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { AudioIO } from '../../../src/engine/voice/audio-io.js';
import { Pacer } from '../../../src/engine/voice/pacer.js';
import { DEFAULT_TURN_TAKING } from '../../../src/engine/voice/interruptions.js';
import { DeepgramStt } from '../../../src/ai/stt/deepgram/index.js';
import type { PlayoutResult, UserInput } from '../../../src/engine/io/io.js';
import { UsageMeter } from '../../../src/core/credits/usage.js';
import { fallbackLogger } from '../../../src/lib/logger.js';
import { startFakeDeepgram, type FakeDeepgram } from '../../fakes/deepgram/fake-deepgram.js';
import { frames } from '../../fakes/stt-fake-common.js';
import { GREETING, until } from '../../ai/stt/stt-test-helpers.js';
import { FrameTts, ManualClock, QUIET, RecordingChannel, settle } from './doubles.js';

const KEY = 'dg-test-key';
/** μ-law bytes in the gate's pre-roll: 400 ms (socket-stream.ts). */
const PREROLL_BYTES = 400 * 8;

/** A frame of line silence marked with its index in its first four bytes (μ-law 0xF0–0xFF: still quiet), so that what the provider heard can be found in what was pushed. */
function markedQuiet(i: number): Uint8Array {
  const f = new Uint8Array(160).fill(0xff);
  for (let d = 0; d < 4; d++) f[d] = 0xf0 | ((i >> (12 - 4 * d)) & 0x0f);
  return f;
}

describe('audio I/O: a barge-in through the gated speech-to-text', () => {
  let fake: FakeDeepgram | undefined;
  let io: AudioIO | undefined;

  afterEach(async () => {
    await io?.close();
    await fake?.close();
    io = undefined;
    fake = undefined;
  });

  it('quiet over the agent reaches no provider; speech over it opens the gate with its pre-roll, interrupts, and is the turn', async () => {
    fake = await startFakeDeepgram({ apiKey: KEY, phrases: [GREETING] });
    const clock = new ManualClock();
    const channel = new RecordingChannel(clock);
    const inputs: UserInput[] = [];
    io = new AudioIO({
      callId: 'call_gate',
      channel,
      stt: new DeepgramStt({ apiKey: KEY, baseUrl: fake.url, keepAliveMs: 100 }),
      tts: new FrameTts(),
      voice: () => ({ provider: 'espeak', voice: 'en-us' }),
      language: 'en',
      turnTaking: DEFAULT_TURN_TAKING,
      pacer: new Pacer(clock),
      usage: new UsageMeter(),
      log: fallbackLogger(),
    });
    io.onInput((i) => inputs.push(i));
    const dg = await until(async () => fake!.connections[0], 15_000, 'the speech-to-text socket');
    const pushed: Uint8Array[] = [];
    /** One callee frame in, then 20 ms of the line's time; every few frames the sockets get a moment. */
    const callee = async (frame: Uint8Array) => {
      pushed.push(frame);
      channel.inbox.push(frame);
      await settle();
      clock.advance(20);
      if (pushed.length % 5 === 0) await new Promise((r) => setTimeout(r, 5));
    };

    const result: { r?: PlayoutResult } = {};
    // A long clause (FrameTts: 20 ms of audio a character, about 7 s): the agent is still talking when the callee does.
    const clause = 'I can book a table for eight people tonight at seven, or at eight if you would rather come later. '.repeat(3).trim();
    io.playClause(clause, new AbortController().signal).then(
      (r) => (result.r = r),
      () => undefined,
    );
    await settle();

    // A second of the callee listening while the agent talks: the provider gets no audio (KeepAlive only).
    for (let i = 0; i < 50; i++) await callee(markedQuiet(i));
    await until(async () => dg.keepAlives >= 2, 15_000, 'KeepAlives while gated');
    expect(dg.audioBytes).toBe(0);
    expect(channel.clears).toBe(0);
    const agentFramesBefore = channel.sent.length;
    const quietFrames = pushed.length;

    // The callee talks over the agent, then stops.
    for (const f of frames(GREETING.audio)) await callee(f);
    await until(async () => channel.clears === 1, 15_000, 'the barge-in');
    for (let i = 0; i < 60; i++) await callee(QUIET);
    await until(async () => inputs.some((i) => i.type === 'transcript' && i.final), 15_000, 'the callee’s turn');

    // Interrupted: the agent's audio stopped and the clause reports it was cut.
    expect(inputs).toContainEqual({ type: 'speech_started' });
    expect(channel.sent.length).toBeGreaterThan(agentFramesBefore);
    await until(async () => result.r !== undefined, 15_000, 'the clause settled');
    expect(result.r).toMatchObject({ done: false });
    // What the provider heard: one run of what was pushed, from within the 400 ms before the speech (the
    // pre-roll ends at the detector's onset, a few frames into it) through the whole speech.
    const heard = Buffer.concat(dg.audio);
    const sent = Buffer.concat(pushed.map((p) => Buffer.from(p)));
    const start = sent.indexOf(heard.subarray(0, 160));
    const speechAt = quietFrames * 160;
    expect(heard.length).toBeGreaterThan(PREROLL_BYTES);
    expect(sent.subarray(start, start + heard.length).equals(heard)).toBe(true);
    expect(start).toBeGreaterThanOrEqual(speechAt - PREROLL_BYTES);
    expect(start).toBeLessThan(speechAt);
    expect(start + heard.length).toBeGreaterThanOrEqual(speechAt + GREETING.audio.length);
    // The callee's words are the turn.
    expect(inputs.filter((i) => i.type === 'transcript' && i.final).map((i) => (i as { text: string }).text)).toEqual([GREETING.text]);
  }, 60_000);
});
