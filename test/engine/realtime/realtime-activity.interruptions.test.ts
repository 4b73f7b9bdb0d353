/**
 * The Realtime activity under the cascaded pipeline's interruption rule (issue 10 §6; the same settings,
 * src/engine/voice/interruptions.ts): a cough or an "mm-hm" over the agent neither cuts its reply nor gets
 * an answer, sound without words yet holds the reply and a false interruption resumes it, and a real
 * interruption clears the line, cancels the reply and truncates it at the milliseconds heard. The agent's
 * audio is paced on a hand-moved clock, so what left for the carrier is counted in frames, not timed.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeOpenAIRealtime, tone } from '../../fakes/openai-realtime/fake-openai-realtime.js';
import { ManualClock } from '../voice/doubles.js';
import { realtimeRig, silence, utter, waitFor, type RealtimeRig } from './realtime-harness.js';

const WORDS = 'one two three four five six seven eight nine ten';
/** μ-law bytes of one 20 ms frame. */
const FRAME = 160;

describe('realtime activity: what interrupts the agent', () => {
  const fake = new FakeOpenAIRealtime({ apiKey: 'sk-test' });
  let rig: RealtimeRig | undefined;
  beforeAll(() => fake.start());
  afterAll(() => fake.close());
  afterEach(() => {
    rig?.activity.close();
    rig = undefined;
    fake.o.latencyMs = 0;
  });

  /** The activity answers the callee's first words with a 2 s reply (all of it received at once). */
  async function replying(clock: ManualClock, transcripts: string[], reply: { pauseAfterDeltas?: number } = {}): Promise<RealtimeRig> {
    fake.transcripts = transcripts;
    fake.script = (t) => (t.n === 0 ? { say: WORDS, audio: tone(2000), ...reply } : undefined);
    const r = (rig = realtimeRig(fake, { clock }));
    r.activity.start('human');
    r.channel.speak(utter(300));
    await waitFor(() => r.conn()?.sent.filter((e) => e.type === 'response.output_audio.delta').length === (reply.pauseAfterDeltas ?? 20), 'the reply received');
    await waitFor(() => r.channel.heard.length > 0, 'the first frames');
    return r;
  }

  const count = (r: RealtimeRig, type: string) => r.sent().filter((e) => e.type === type).length;
  const serverSent = (r: RealtimeRig, type: string) => (r.conn()?.sent ?? []).filter((e) => e.type === type).length;

  it('a cough over the agent does not clear, truncate or get an answer: the reply goes on to its end', async () => {
    const clock = new ManualClock();
    const r = await replying(clock, ['Hello?', '']);
    // Two frames of lead went at once; 400 ms more are played.
    clock.advance(400);
    expect(r.channel.heard.length).toBe(22 * FRAME);
    // A 150 ms cough: the server hears speech start and stop, and transcribes nothing.
    r.channel.speak(utter(150));
    await waitFor(() => serverSent(r, 'conversation.item.input_audio_transcription.completed') === 2, 'the cough transcribed');
    await new Promise((res) => setImmediate(res));
    // Not held: the reply keeps flowing frame by frame.
    clock.advance(200);
    expect(r.channel.heard.length).toBe(32 * FRAME);
    clock.advance(2000);
    await waitFor(() => r.events.some((e) => e.type === 'speech_done'), 'the reply to end');
    await r.activity.settle();
    expect(r.channel.heard.length).toBe(2000 * 8);
    expect(r.channel.clears).toBe(0);
    expect(count(r, 'conversation.item.truncate')).toBe(0);
    expect(count(r, 'response.cancel')).toBe(0);
    expect(count(r, 'response.create')).toBe(1); // the answer to "Hello?" only: nothing answers the cough
    expect(r.lines()).toContain(`speech 1 done: "${WORDS}"`);
    expect(r.activity.history).toEqual([
      { role: 'callee', text: 'Hello?' },
      { role: 'agent', text: WORDS },
    ]);
  });

  it('an "mm-hm" over the agent holds the reply while it is unsure, then the reply resumes; not a turn', async () => {
    const clock = new ManualClock();
    const r = await replying(clock, ['Hello?', 'Mm-hm, yeah.']);
    clock.advance(400);
    expect(r.channel.heard.length).toBe(22 * FRAME);
    // A drawn-out "mm-hm" (700 ms): past the minimum duration without words yet, so the reply is held;
    // its words come late (the server transcribes once the speech is over).
    fake.o.latencyMs = 150;
    r.channel.speak(utter(700));
    await waitFor(() => serverSent(r, 'input_audio_buffer.speech_stopped') === 2, 'the mm-hm to end');
    clock.advance(200);
    expect(r.channel.heard.length).toBe(22 * FRAME); // held: no frame left
    await waitFor(() => serverSent(r, 'conversation.item.input_audio_transcription.completed') === 2, 'the mm-hm transcribed');
    await new Promise((res) => setImmediate(res));
    // Backchannel words do not take the turn: the held audio resumes where it stopped (its two frames of
    // lead at once, then one a tick).
    expect(r.channel.heard.length).toBe(24 * FRAME);
    clock.advance(200);
    expect(r.channel.heard.length).toBe(34 * FRAME);
    clock.advance(2000);
    await waitFor(() => r.events.some((e) => e.type === 'speech_done'), 'the reply to end');
    await r.activity.settle();
    expect(r.channel.clears).toBe(0);
    expect(count(r, 'conversation.item.truncate')).toBe(0);
    expect(count(r, 'response.cancel')).toBe(0);
    expect(count(r, 'response.create')).toBe(1);
    expect(r.lines()).toContain(`speech 1 done: "${WORDS}"`);
    // The backchannel is not a line of the call's transcript.
    expect(r.activity.history).toEqual([
      { role: 'callee', text: 'Hello?' },
      { role: 'agent', text: WORDS },
    ]);
  });

  it('a real interruption clears the line at once, cancels the reply and truncates it at the ms heard', async () => {
    const clock = new ManualClock();
    // The reply is still being generated (paused after 10 deltas) when the callee speaks over it.
    const r = await replying(clock, ['Hello?', 'Sorry, who is calling?'], { pauseAfterDeltas: 10 });
    clock.advance(400);
    expect(r.channel.heard.length).toBe(22 * FRAME);
    r.channel.speak(utter(800));
    const truncate = await waitFor(() => r.sent().find((e) => e.type === 'conversation.item.truncate'), 'truncate');
    // 22 frames were played (440 ms); the reply was held from 500 ms into the callee's speech on.
    expect(truncate).toMatchObject({ content_index: 0, audio_end_ms: 440 });
    expect(r.channel.clears).toBe(1);
    expect(count(r, 'response.cancel')).toBe(1);
    // No frame leaves after the decision.
    clock.advance(1000);
    expect(r.channel.heard.length).toBe(22 * FRAME);
    await waitFor(() => count(r, 'response.create') === 2, 'the answer to the interruption');
    await waitFor(() => r.activity.history.some((t) => t.text === 'Sorry, who is calling?'), 'the callee line');
    expect(r.lines()).toContain('speech 1 interrupted: "one two"');
    expect(r.activity.history.filter((t) => t.role === 'agent')).toEqual([{ role: 'agent', text: 'one two' }]);
  });

  it('words that come after a long quiet still interrupt: the held reply waits for the transcript', async () => {
    const clock = new ManualClock();
    const r = await replying(clock, ['Hello?', 'Wait, I have a question.'], { pauseAfterDeltas: 10 });
    clock.advance(400);
    r.channel.speak(Buffer.concat([silence(100), tone(800)]));
    // The activity has heard the server's speech_started (in real time it comes long before a second of quiet).
    await waitFor(() => r.lines().filter((l) => l === 'user: listening -> speaking').length === 2, 'the speech heard by the server');
    // Then more quiet than VOICE_FALSE_INTERRUPTION_MS (1000) before the server's transcript arrives.
    fake.o.latencyMs = 100;
    r.channel.speak(silence(1200));
    const truncate = await waitFor(() => r.sent().find((e) => e.type === 'conversation.item.truncate'), 'truncate');
    expect(truncate.audio_end_ms).toBe(440);
    expect(r.channel.clears).toBe(1);
    expect(r.channel.heard.length).toBe(22 * FRAME); // held until then, never resumed
  });

  it('speech while the model is still thinking is a turn: the unheard answer is cancelled and a new one asked', async () => {
    fake.transcripts = ['Hello?', 'Is this the clinic?'];
    fake.script = (t) => (t.heard ? { say: t.heard.includes('clinic') ? 'Yes, about your booking.' : 'Hi there.' } : undefined);
    fake.o.latencyMs = 1000; // the model's time to first byte: its answer to "Hello?" has no audio yet
    const r = (rig = realtimeRig(fake));
    r.activity.start('human');
    r.channel.speak(utter(300));
    await waitFor(() => serverSent(r, 'response.created') === 1, 'the answer being made');
    r.channel.speak(utter(300)); // short: over a silent agent it needs no minimum
    await waitFor(() => r.activity.history.some((t) => t.text === 'Yes, about your booking.'), 'the answer to both');
    expect(count(r, 'response.cancel')).toBe(1);
    expect(count(r, 'response.create')).toBe(2);
    expect(r.channel.clears).toBe(0);
    expect(r.activity.history).toEqual([
      { role: 'callee', text: 'Hello?' },
      { role: 'callee', text: 'Is this the clinic?' },
      { role: 'agent', text: 'Yes, about your booking.' },
    ]);
  });
});
