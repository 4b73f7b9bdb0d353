/**
 * The agent activity over the cascaded audio I/O, pinned by exact event sequences (events.ts): a turn
 * (the callee speaks, the agent answers in audio) and a barge-in (the callee talks over the agent: its
 * audio is cleared, the speech is cut where the callee heard it, the turn is dropped, and the callee's
 * words make the next turn). A scripted brain, scripted speech-to-text, one frame per character of speech.
 */
import { describe, expect, it } from 'vitest';
import { AgentActivity } from '../../../src/engine/agent-activity.js';
import { AudioIO } from '../../../src/engine/voice/audio-io.js';
import { Pacer } from '../../../src/engine/voice/pacer.js';
import { DEFAULT_TURN_TAKING } from '../../../src/engine/voice/interruptions.js';
import { OK, type AgentBrief } from '../../../src/engine/brain.js';
import type { SessionEvent } from '../../../src/engine/events.js';
import type { TurnLatency } from '../../../src/metrics/index.js';
import { Writable } from 'node:stream';
import { TextStream } from '../../../src/lib/text-stream.js';
import { createLogger, fallbackLogger, type Logger } from '../../../src/lib/logger.js';
import { ScriptedBrain, line, type Script } from '../session-harness.js';
import { FrameTts, LOUD, ManualClock, QUIET, RecordingChannel, ScriptedStt, settle } from './doubles.js';

function run(script: Script, log: Logger = fallbackLogger()) {
  const clock = new ManualClock();
  const channel = new RecordingChannel(clock);
  const stt = new ScriptedStt();
  const tts = new FrameTts();
  const io = new AudioIO({
    callId: 'call_1',
    channel,
    stt,
    tts,
    voice: () => ({ provider: 'espeak', voice: 'en-us' }),
    language: 'en',
    turnTaking: DEFAULT_TURN_TAKING,
    pacer: new Pacer(clock),
    log,
  });
  const events: SessionEvent[] = [];
  const figures: TurnLatency[] = [];
  const activity = new AgentActivity({
    callId: 'call_1',
    io,
    brain: new ScriptedBrain(script).startCall(),
    host: { act: async () => OK, closing: false, brief: () => ({}) as AgentBrief },
    emit: (e) => events.push(e),
    onTurnFigures: (f) => figures.push(f),
    log,
  });
  /** Lets the activity, the synthesis and the pacer run for `ms` of the clock. */
  const pass = async (ms: number) => {
    for (let t = 0; t < ms; t += 20) {
      await settle();
      clock.advance(20);
    }
    await settle();
  };
  const callee = async (frame: Uint8Array, n: number) => {
    for (let i = 0; i < n; i++) {
      channel.inbox.push(frame);
      await pass(20);
    }
  };
  return { clock, channel, stt, tts, activity, events, figures, pass, callee, lines: () => events.map(line) };
}

/** The call answered with a reply the model is still writing: `first` written, then `ms` of the clock passed. */
async function streamedReply(first: string, ms: number) {
  const text = new TextStream();
  const r = run((input) => (input.type === 'answered' ? [{ type: 'say', text }] : undefined));
  r.activity.start('human');
  text.push(first);
  await r.pass(ms);
  return { r, text };
}

describe('agent activity over audio: exact event sequences', () => {
  it('an audio turn: the callee speaks, the final transcript makes a turn, the answer is played to its mark', async () => {
    const r = run((input) => {
      if (input.type === 'answered') return [{ type: 'say', text: 'Hello.' }];
      if (input.type === 'speech') return [{ type: 'say', text: 'Sure, for when?' }];
      return undefined;
    });
    r.activity.start('human');
    await r.pass(300);
    await r.callee(LOUD, 30);
    r.stt.current.interim('I need');
    await r.callee(QUIET, 12);
    r.stt.current.final('I need a table for two.');
    await r.pass(600);
    expect(r.lines()).toEqual([
      'agent: initializing -> listening',
      'agent: listening -> thinking',
      'speech 1 created (brain)',
      'agent: thinking -> speaking',
      'item agent: "Hello."',
      'speech 1 done: "Hello."',
      'agent: speaking -> thinking',
      'agent: thinking -> listening',
      // 600 ms of speech with a word: the callee has the floor.
      'user: listening -> speaking',
      'transcribed (interim): "I need"',
      'user: speaking -> listening',
      'transcribed: "I need a table for two."',
      'item callee: "I need a table for two."',
      'agent: listening -> thinking',
      'speech 2 created (brain)',
      'agent: thinking -> speaking',
      'item agent: "Sure, for when?"',
      'speech 2 done: "Sure, for when?"',
      'agent: speaking -> thinking',
      'agent: thinking -> listening',
    ]);
    expect(r.channel.playedText).toBe('Hello.Sure, for when?');
    // The turn's figures: the speech-to-text's delay and the first frame of the answer (the fake clock's ms).
    expect(r.figures).toHaveLength(1);
    expect(r.figures[0]).toMatchObject({ tts_first_byte_ms: expect.any(Number), stt_final_ms: expect.any(Number) });
    expect(r.figures[0].first_audio_playback_ms).not.toBeNull();
  });

  it('a streamed reply: its first clause is synthesised and played while the model writes on; the transcript gets the sentence whole', async () => {
    const { r, text } = await streamedReply('Sure, I can', 200);
    // Before the model wrote the rest of the sentence, its first clause was synthesised and heard.
    expect(r.tts.requests.map((q) => q.text)).toEqual(['Sure,']);
    expect(r.channel.playedText).toBe('Sure,');
    text.push(' move it to Tuesday, at seven. Bye');
    text.end();
    await r.pass(1200);
    // Later sentences go whole (they are synthesised while the one before plays).
    expect(r.tts.requests.map((q) => q.text)).toEqual(['Sure,', 'I can move it to Tuesday, at seven.', 'Bye']);
    // The rest of the first sentence is given its first clause (for its intonation); the next sentence is not.
    expect(r.tts.requests.map((q) => q.previousText)).toEqual([undefined, 'Sure,', undefined]);
    expect(r.channel.playedText).toBe('Sure,I can move it to Tuesday, at seven.Bye');
    expect(r.lines()).toEqual([
      'agent: initializing -> listening',
      'agent: listening -> thinking',
      'speech 1 created (brain)',
      'agent: thinking -> speaking',
      'item agent: "Sure, I can move it to Tuesday, at seven."',
      'item agent: "Bye"',
      'speech 1 done: "Sure, I can move it to Tuesday, at seven. Bye"',
      'agent: speaking -> thinking',
      'agent: thinking -> listening',
    ]);
  });

  it('only a first clause waits for its sentence: a later line that ends in a colon is a line of its own', async () => {
    const { r, text } = await streamedReply('Sure. Here are the times:\n', 100);
    text.push('Seven. Eight.');
    text.end();
    await r.pass(1500);
    expect(r.lines().filter((l) => l.startsWith('item agent'))).toEqual(['item agent: "Sure."', 'item agent: "Here are the times:"', 'item agent: "Seven."', 'item agent: "Eight."']);
  });

  it('a streamed reply cut after its first clause: the transcript keeps the clause that was heard', async () => {
    const { r } = await streamedReply('Certainly, I will', 300);
    expect(r.channel.playedText).toBe('Certainly,');
    r.activity.close();
    await r.pass(100);
    expect(r.lines().filter((l) => l.startsWith('item agent') || l.startsWith('speech 1'))).toEqual(['speech 1 created (brain)', 'item agent: "Certainly,"', 'speech 1 interrupted: "Certainly,"']);
  });

  it('a line that waits for the agent to finish (giveWay after_clause) lets it end the sentence its first clause began', async () => {
    // The line comes while the first clause ("Certainly," 200 ms of audio here) is still playing.
    const { r, text } = await streamedReply('Certainly, I can', 60);
    expect(r.channel.playedText).toBe('Certa');
    let gaveWay = false;
    const waiting = r.activity.giveWay('after_clause').then(() => (gaveWay = true));
    text.push(' move it to Tuesday. And then some more.');
    text.end();
    await r.pass(1500);
    await waiting;
    expect(gaveWay).toBe(true);
    expect(r.channel.playedText).toBe('Certainly,I can move it to Tuesday.');
    expect(r.lines().filter((l) => l.startsWith('item agent'))).toEqual(['item agent: "Certainly, I can move it to Tuesday."']);
  });

  it('an audio barge-in: audio cleared, the speech cut where it was heard, the turn dropped, the callee’s words the next turn', async () => {
    const LONG = 'I am calling to book a table for eight people tonight at seven in the garden room.';
    const r = run((input) => {
      if (input.type === 'answered') return [{ type: 'say', text: LONG }, { type: 'say', text: 'This is never said.' }];
      if (input.type === 'speech') return [{ type: 'say', text: 'Of course.' }];
      return undefined;
    });
    r.activity.start('human');
    await r.pass(100); // the lead and a few frames of the long sentence
    await r.callee(LOUD, 30); // the callee talks over it for 600 ms: the audio is held…
    const sentBeforeWords = r.channel.sent.length;
    r.stt.current.interim('sorry wait'); // …and words make it an interruption
    expect(r.channel.clears).toBe(1);
    await r.callee(QUIET, 12);
    r.stt.current.final('Sorry, wait, make that six.');
    await r.pass(600);
    // Paused after 500 ms of the callee's sound, the frames sent by then are what was heard.
    const heard = LONG.slice(0, sentBeforeWords).replace(/\s*\S*$/, '');
    expect(heard).toBe('I am calling to book a table for');
    expect(r.lines()).toEqual([
      'agent: initializing -> listening',
      'agent: listening -> thinking',
      'speech 1 created (brain)',
      'speech 2 created (brain)',
      'agent: thinking -> speaking',
      // The words: the audio is cleared, the activity hears the barge-in, the speech is cut where it was heard.
      'user: listening -> speaking',
      'transcribed (interim): "sorry wait"',
      `item agent: "${heard}"`,
      `speech 1 interrupted: "${heard}"`,
      'speech 2 interrupted: ""',
      'agent: speaking -> thinking',
      'agent: thinking -> listening',
      'user: speaking -> listening',
      'transcribed: "Sorry, wait, make that six."',
      'item callee: "Sorry, wait, make that six."',
      'agent: listening -> thinking',
      'speech 3 created (brain)',
      'agent: thinking -> speaking',
      'item agent: "Of course."',
      'speech 3 done: "Of course."',
      'agent: speaking -> thinking',
      'agent: thinking -> listening',
    ]);
    // What went out: the start of the long sentence up to the barge-in, then the answer; never the rest.
    expect(r.channel.playedText).toBe(LONG.slice(0, sentBeforeWords) + 'Of course.');
  });

  it('LOG_LEVEL=debug: one timeline line per answered turn, from the final transcript to the first frame (bench:voice BENCH_TRACE)', async () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(...chunk.toString().split('\n').filter(Boolean)), done()) });
    const script: Script = (input) => (input.type === 'speech' ? [{ type: 'say', text: 'Sure, for when?' }] : undefined);
    const turn = async (level: 'debug' | 'info') => {
      const r = run(script, createLogger(level, sink));
      r.activity.start('human');
      await r.pass(100);
      await r.callee(LOUD, 30);
      await r.callee(QUIET, 12);
      r.stt.current.final('I need a table for two.');
      await r.pass(600);
      return r;
    };
    const r = await turn('debug');
    const timelines = lines.map((l) => JSON.parse(l) as { msg: string; callId: string; timeline: Record<string, number | null> }).filter((l) => l.msg === 'turn timeline');
    expect(timelines).toHaveLength(1);
    const t = timelines[0].timeline;
    expect(timelines[0].callId).toBe('call_1');
    // The wall clock of the transcript's arrival, then each step's ms after it, in the order they happen.
    expect(Math.abs(t.at! - Date.now())).toBeLessThan(60_000);
    for (const k of ['turnStart', 'firstOutput', 'firstClause', 'ttsFirstByte', 'firstFrame'] as const) expect(t[k]).toEqual(expect.any(Number));
    expect(t.turnStart!).toBeLessThanOrEqual(t.firstOutput!);
    expect(t.firstOutput!).toBeLessThanOrEqual(t.firstClause!);
    expect(t.firstClause!).toBeLessThanOrEqual(t.firstFrame!);
    // The audio step is the one the turn's figures report (first_audio_playback_ms is measured the same way).
    expect(r.figures).toHaveLength(1);
    // At info (the default) no such line is written.
    lines.length = 0;
    await turn('info');
    expect(lines.filter((l) => l.includes('turn timeline'))).toEqual([]);
  });
});
