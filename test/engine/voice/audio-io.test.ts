/**
 * The cascaded audio I/O on its own, with a hand-moved clock: pacing, marks and what was heard, barge-in,
 * backchannels, false interruptions, endpointing, keypad digits and usage.
 */
import { describe, expect, it, vi } from 'vitest';
import { AudioIO, QUIET_MS } from '../../../src/engine/voice/audio-io.js';
import { Pacer } from '../../../src/engine/voice/pacer.js';
import { DEFAULT_TURN_TAKING, interruptingWords, type TurnTaking } from '../../../src/engine/voice/interruptions.js';
import type { PlayoutResult, UserInput } from '../../../src/engine/io/io.js';
import { UsageMeter } from '../../../src/core/credits/usage.js';
import { fallbackLogger } from '../../../src/lib/logger.js';
import { FrameTts, LOUD, ManualClock, QUIET, RecordingChannel, ScriptedStt, settle } from './doubles.js';

function setup(turnTaking: Partial<TurnTaking> = {}, prepare?: (channel: RecordingChannel) => void) {
  const clock = new ManualClock();
  const pacer = new Pacer(clock);
  const channel = new RecordingChannel(clock);
  prepare?.(channel);
  const stt = new ScriptedStt();
  const tts = new FrameTts();
  const usage = new UsageMeter();
  const io = new AudioIO({
    callId: 'call_1',
    channel,
    stt,
    tts,
    voice: () => ({ provider: 'espeak', voice: 'en-us' }),
    language: 'en',
    turnTaking: { ...DEFAULT_TURN_TAKING, ...turnTaking },
    pacer,
    usage,
    log: fallbackLogger(),
  });
  const inputs: UserInput[] = [];
  io.onInput((i) => inputs.push(i));
  /** The callee's audio: `n` frames of `frame`, each delivered, then 20 ms of the clock. */
  const callee = async (frame: Uint8Array, n: number) => {
    for (let i = 0; i < n; i++) {
      channel.inbox.push(frame);
      await settle();
      clock.advance(20);
    }
  };
  /** Plays `text`; returns its settled result (undefined until then). */
  const play = (text: string, signal = new AbortController().signal) => {
    const out: { r?: PlayoutResult } = {};
    io.playClause(text, signal).then(
      (r) => (out.r = r),
      () => undefined,
    );
    return out;
  };
  return { clock, pacer, channel, stt, tts, usage, io, inputs, callee, play };
}

describe('audio I/O: pacing and marks', () => {
  it('sends 20 ms frames at a 20 ms cadence from one timer: a 40 ms lead at once, then one per tick', async () => {
    const { clock, pacer, channel, play } = setup();
    const p = play('Hello there.');
    await settle();
    expect(channel.sent.map((s) => s.at)).toEqual([0, 0]);
    clock.advance(100);
    expect(channel.sent.map((s) => s.at)).toEqual([0, 0, 20, 40, 60, 80, 100]);
    expect(channel.sent.every((s) => s.frame.length === 160)).toBe(true);
    clock.advance(1000);
    await settle();
    expect(channel.playedText).toBe('Hello there.');
    expect(channel.marks).toEqual(['clause-1']);
    expect(p.r).toMatchObject({ done: true, audio: { firstFrameMs: 0 } });
    // Nothing left to send: the shared timer stopped.
    expect(pacer.activeCount).toBe(0);
    expect(clock.timers).toBe(0);
  });

  it('keeps one timer for every call, and each call gets its own frames in time', async () => {
    const clock = new ManualClock();
    const pacer = new Pacer(clock);
    const sent: string[] = [];
    const a = pacer.output(() => sent.push('a'));
    const b = pacer.output(() => sent.push('b'));
    a.enqueue(new Uint8Array(160 * 4));
    b.enqueue(new Uint8Array(160 * 4));
    expect(clock.timers).toBe(1);
    expect(sent).toEqual(['a', 'a', 'b', 'b']);
    clock.advance(40);
    expect(sent).toEqual(['a', 'a', 'b', 'b', 'a', 'b', 'a', 'b']);
    clock.advance(20);
    expect(clock.timers).toBe(0);
  });

  it('80 ms frames where the channel takes them (Twilio): one at once, then one when the 40 ms cushion runs low, never across a mark', () => {
    const clock = new ManualClock();
    const pacer = new Pacer(clock);
    const sent: Array<{ at: number; bytes: number }> = [];
    const marks: number[] = [];
    const out = pacer.output((f) => sent.push({ at: clock.now(), bytes: f.length }), 80);
    out.enqueue(new Uint8Array(400));
    out.enqueueMark(() => marks.push(clock.now()));
    out.enqueue(new Uint8Array(640 * 4));
    // The clause's 50 ms end at its mark: a short frame, at once.
    expect(sent).toEqual([{ at: 0, bytes: 400 }]);
    expect(marks).toEqual([0]);
    clock.advance(300);
    // A short frame leaves the cushion short: the next frame follows at the next tick, and each later one
    // once less than 40 ms of sent audio is left to play (so the carrier never runs dry).
    expect(sent).toEqual([
      { at: 0, bytes: 400 },
      { at: 20, bytes: 640 },
      { at: 100, bytes: 640 },
      { at: 180, bytes: 640 },
      { at: 260, bytes: 640 },
    ]);
    // The first frame plays on arrival; each later one arrives before the audio sent ahead of it has played out.
    let queued = sent[0].bytes;
    for (const s of sent.slice(1)) {
      expect(queued / 8).toBeGreaterThan(s.at);
      queued += s.bytes;
    }
    clock.advance(100);
    expect(sent.reduce((n, s) => n + s.bytes, 0)).toBe(400 + 640 * 4);
    expect(clock.timers).toBe(0);
    expect(() => pacer.output(() => undefined, 30)).toThrow(RangeError);
    expect(() => pacer.output(() => undefined, 120)).toThrow(RangeError);
  });

  it("a longer cushion (Twilio's 120 ms) rides out a 90 ms stall of the timer, in whole frames", () => {
    let now = 0;
    let tick: () => void = () => undefined;
    const pacer = new Pacer({ now: () => now, every: (_ms, t) => ((tick = t), () => undefined) });
    const gapsAt = (leadMs: number) => {
      const sent: Array<{ at: number; bytes: number }> = [];
      now = 0;
      const out = pacer.output((f) => sent.push({ at: now, bytes: f.length }), 80, leadMs);
      out.enqueue(new Uint8Array(8 * 1000));
      out.enqueueMark(() => undefined);
      // The timer on time to 400 ms, then nothing until 490 ms (the event loop busy), then on time again.
      for (now = 20; now <= 1200; now += 10) if (now % 20 === 10 ? now === 490 : now < 400 || now > 490) tick();
      out.clear();
      // Twilio plays from its buffer: the first message on arrival, each later one after the one before.
      let playsUntil = 0;
      const gaps: number[] = [];
      for (const s of sent) {
        if (s.at > playsUntil && playsUntil > 0) gaps.push(s.at);
        playsUntil = Math.max(playsUntil, s.at) + s.bytes / 8;
      }
      return { gaps, sizes: new Set(sent.slice(0, -1).map((s) => s.bytes)), total: sent.reduce((n, s) => n + s.bytes, 0) };
    };
    const long = gapsAt(120);
    expect(long.gaps).toEqual([]);
    expect(long.sizes).toEqual(new Set([640]));
    expect(long.total).toBe(8000);
    // The default 40 ms cushion is heard as a gap after the same stall.
    expect(gapsAt(40).gaps).not.toEqual([]);
    expect(() => pacer.output(() => undefined, 80, 30)).toThrow(RangeError);
    expect(() => pacer.output(() => undefined, 80, 220)).toThrow(RangeError);
  });

  it('above the minimum cushion a short rest of synthesis waits for more audio, then goes before the carrier runs dry', () => {
    const clock = new ManualClock();
    const pacer = new Pacer(clock);
    const sent: Array<{ at: number; bytes: number }> = [];
    const out = pacer.output((f) => sent.push({ at: clock.now(), bytes: f.length }), 80, 120);
    // 100 ms of audio: an 80 ms message at once; the 20 ms rest is not sent as a message of its own while the
    // carrier holds more than 40 ms ...
    out.enqueue(new Uint8Array(800));
    expect(sent).toEqual([{ at: 0, bytes: 640 }]);
    clock.advance(40);
    expect(sent).toHaveLength(1);
    // ... and goes once it holds less: 20 ms before the 80 ms sent have played out.
    clock.advance(20);
    expect(sent).toEqual([{ at: 0, bytes: 640 }, { at: 60, bytes: 160 }]);
    // More synthesis in time is joined into whole messages.
    out.enqueue(new Uint8Array(300));
    out.enqueue(new Uint8Array(500));
    clock.advance(20);
    expect(sent[2]).toEqual({ at: 80, bytes: 640 });
    clock.advance(200);
    expect(sent.reduce((n, s) => n + s.bytes, 0)).toBe(1600);
  });

  it('a frame heard while the timer waits (a long run of socket reads) sends the audio out that is due', async () => {
    const { clock, channel, play } = setup();
    play('Hello there.');
    await settle();
    expect(channel.sent).toHaveLength(2);
    // 60 ms pass and the timer does not fire (the event loop is reading sockets): nothing more goes out ...
    clock.t += 60;
    expect(channel.sent).toHaveLength(2);
    // ... until the next callee frame is heard: the three frames due since go out with it.
    channel.inbox.push(QUIET);
    await settle();
    expect(channel.sent.map((s) => s.at)).toEqual([0, 0, 60, 60, 60]);
    // Heard again before the next tick is due: nothing more.
    clock.t += 10;
    channel.inbox.push(QUIET);
    await settle();
    expect(channel.sent).toHaveLength(5);
  });

  it('synthesis in pieces shorter than the lead, each arriving after the queue ran dry, is still paced at real time', () => {
    const clock = new ManualClock();
    const pacer = new Pacer(clock);
    let sent = 0;
    const out = pacer.output((f) => (sent += f.length));
    // 20 ms of audio every 5 ms (four times real time), for 200 ms: each piece finds the queue empty.
    for (let t = 0; t < 200; t += 5) {
      out.enqueue(new Uint8Array(160));
      // Never more ahead of real time than the 40 ms lead and the frame being sent (the carrier's buffer
      // stays small, and a pause or a barge-in finds the rest still here).
      expect(sent / 8).toBeLessThanOrEqual(clock.now() + 40 + 20);
      clock.advance(5);
    }
    expect(sent).toBeLessThan(40 * 160);
    clock.advance(1000);
    expect(sent).toBe(40 * 160);
  });

  it('a timer that fires late catches up at most 200 ms, for 20 and 40 ms frames alike', () => {
    let now = 0;
    let tick: () => void = () => undefined;
    const pacer = new Pacer({ now: () => now, every: (_ms, t) => ((tick = t), () => undefined) });
    const bytes = { 20: 0, 40: 0 };
    for (const ms of [20, 40] as const) pacer.output((f) => (bytes[ms] += f.length), ms).enqueue(new Uint8Array(160 * 100));
    // The 40 ms lead each, at once.
    expect(bytes).toEqual({ 20: 320, 40: 320 });
    // 300 ms late: 10 ticks caught up (200 ms), the other 5 lost; then on time again.
    now = 300;
    tick();
    expect(bytes).toEqual({ 20: 320 + 1600, 40: 320 + 1600 });
    now = 340;
    tick();
    expect(bytes).toEqual({ 20: 320 + 1600 + 320, 40: 320 + 1600 + 320 });
  });

  it('a clause is heard in full only once the carrier echoes its mark', async () => {
    const { clock, channel, play } = setup();
    channel.holdMarks = true;
    const p = play('Hi.');
    await settle();
    clock.advance(200);
    await settle();
    expect(channel.marks).toEqual(['clause-1']);
    expect(p.r).toBeUndefined();
    channel.releaseMarks();
    await settle();
    expect(p.r).toMatchObject({ done: true });
  });

  it('cut off, it was heard as far as the frames the callee actually heard (sent, less what the carrier dropped)', async () => {
    for (const [unplayedMs, heard] of [
      [0, 'one two three'],
      [40, 'one two'],
    ] as const) {
      const { clock, channel, play } = setup();
      channel.holdMarks = true;
      const stop = new AbortController();
      const p = play('one two three four', stop.signal); // 18 characters, 18 frames
      await settle();
      clock.advance(240); // 2 + 12 frames sent
      expect(channel.sent).toHaveLength(14);
      channel.unplayedMs = unplayedMs;
      stop.abort();
      await settle();
      expect(p.r).toEqual({ done: false, heard, audio: { firstFrameMs: 0, ttsFirstByteMs: 0 } });
      expect(channel.clears).toBe(1);
      clock.advance(200);
      expect(channel.sent).toHaveLength(14);
    }
  });
});

describe('audio I/O: the next clause prepared while one plays', () => {
  it('synthesises the next clause ahead, so it starts with no wait; a barge-in drops it', async () => {
    const { clock, channel, stt, tts, io, callee, play } = setup();
    const first = play('Hi there.');
    io.prepareClause('Bye now.', new AbortController().signal);
    await settle();
    expect(tts.requests.map((r) => r.text)).toEqual(['Hi there.', 'Bye now.']);
    clock.advance(400);
    await settle();
    expect(first.r).toMatchObject({ done: true });
    const second = play('Bye now.');
    await settle();
    expect(tts.requests).toHaveLength(2); // the prepared synthesis was used, not a new one
    clock.advance(400);
    await settle();
    expect(second.r).toMatchObject({ done: true, audio: { firstFrameMs: 0, ttsFirstByteMs: 0 } });
    expect(channel.playedText).toBe('Hi there.Bye now.');

    play('Your table for eight is booked for tonight.');
    io.prepareClause('Anything else?', new AbortController().signal);
    await settle();
    await callee(LOUD, 30);
    stt.current.interim('stop');
    expect(tts.requests.at(-1)).toMatchObject({ text: 'Anything else?' });
    expect(tts.requests.at(-1)!.signal.aborted).toBe(true);
  });

  it('a prepared clause whose speech was dropped is synthesised anew if it is played after all', async () => {
    const { clock, channel, tts, io, play } = setup();
    const dropped = new AbortController();
    io.prepareClause('Bye now.', dropped.signal);
    dropped.abort();
    const p = play('Bye now.');
    await settle();
    clock.advance(400);
    await settle();
    expect(tts.requests).toHaveLength(2);
    expect(p.r).toMatchObject({ done: true });
    expect(channel.playedText).toBe('Bye now.');
  });
});

describe('audio I/O: a failing synthesis', () => {
  it('rejects the clause (the activity reports it) and drops what it had queued', async () => {
    const { clock, channel, tts, io } = setup();
    tts.synthesize = async function* () {
      yield new Uint8Array(160 * 10);
      throw new Error('provider refused the text');
    };
    await expect(io.playClause('Hello there.', new AbortController().signal)).rejects.toThrow('provider refused the text');
    const sent = channel.sent.length;
    clock.advance(500);
    expect(channel.sent.length).toBe(sent);
  });
});

describe('audio I/O: turn-taking', () => {
  it('speech over the agent with words clears its audio at once (no frame after the signal) and tells the activity', async () => {
    const { clock, channel, stt, inputs, callee, play } = setup();
    const p = play('I can book a table for eight people tonight at seven.');
    await settle();
    await callee(LOUD, 30); // 600 ms of the callee talking over the agent
    const before = channel.sent.length;
    expect(channel.clears).toBe(0);
    stt.current.interim('wait');
    expect(channel.clears).toBe(1);
    expect(inputs).toContainEqual({ type: 'speech_started' });
    clock.advance(500);
    expect(channel.sent.length).toBe(before);
    await settle();
    expect(p.r).toMatchObject({ done: false });
    stt.current.final('wait a moment');
    expect(inputs.filter((i) => i.type === 'transcript')).toEqual([
      { type: 'transcript', text: 'wait', final: false },
      { type: 'transcript', text: 'wait a moment', final: true, sttMs: expect.any(Number) },
    ]);
  });

  it('a short "mm-hm" over the agent does not interrupt, and is not a turn', async () => {
    const { clock, channel, stt, inputs, callee, play } = setup();
    const p = play('Your table is booked for eight tonight.');
    await settle();
    await callee(LOUD, 15); // 300 ms
    stt.current.final('Mm-hmm.');
    await callee(QUIET, 10);
    clock.advance(2000);
    await settle();
    expect(channel.clears).toBe(0);
    expect(p.r).toMatchObject({ done: true });
    expect(channel.playedText).toBe('Your table is booked for eight tonight.');
    expect(inputs.filter((i) => i.type !== 'transcript' || i.final)).toEqual([]);
  });

  it('a drawn-out backchannel ("mmmm-hmm, yeah", past the minimum duration) holds the reply but never interrupts it', async () => {
    const { channel, stt, inputs, callee, play } = setup();
    const p = play('Your table is booked for eight tonight, and we look forward to seeing you.');
    await settle();
    await callee(LOUD, 40); // 800 ms: long enough to interrupt, were it words
    stt.current.interim('Mmmm-hmm');
    stt.current.final('Mmmm-hmm, yeah.');
    expect(channel.clears).toBe(0);
    await callee(QUIET, 80);
    await settle();
    expect(channel.clears).toBe(0);
    expect(p.r).toMatchObject({ done: true });
    expect(inputs.filter((i) => i.type !== 'transcript' || i.final)).toEqual([]);
    expect(interruptingWords('Mmmm-hmm, yeah.')).toBe(0);
    expect(interruptingWords('Okay, wait a moment')).toBe(3);
  });

  it('a false interruption (sound, no words) holds the reply, then resumes it where it stopped', async () => {
    const { channel, inputs, callee, play } = setup();
    const p = play('The restaurant opens at six in the evening on weekdays.');
    await settle();
    await callee(LOUD, 35); // 700 ms of a cough and a chair: past the minimum, no words
    const held = channel.sent.length;
    await callee(QUIET, 20); // 400 ms: still held, waiting for words
    expect(channel.sent.length).toBe(held);
    await callee(QUIET, 60); // the false-interruption wait (1 s) passes: the reply goes on
    expect(channel.sent.length).toBeGreaterThan(held);
    await callee(QUIET, 60);
    await settle();
    expect(channel.clears).toBe(0);
    expect(p.r).toMatchObject({ done: true });
    expect(channel.playedText).toBe('The restaurant opens at six in the evening on weekdays.');
    expect(inputs).toEqual([]);
  });

  it('needs the configured number of words: one word over the agent does not interrupt when two are asked for', async () => {
    const { channel, stt, inputs, callee, play } = setup({ minInterruptionWords: 2 });
    play('We have a table for you at seven thirty this evening, would that work?');
    await settle();
    await callee(LOUD, 30);
    stt.current.interim('well');
    expect(channel.clears).toBe(0);
    stt.current.interim('well no');
    expect(channel.clears).toBe(1);
    expect(inputs).toContainEqual({ type: 'speech_started' });
  });

  it('opens the speech-to-text with the call’s endpointing, and makes one turn of the finals up to the end of turn', async () => {
    const { stt, inputs, callee } = setup({ endpointingMs: 800 });
    expect(stt.current.opts).toEqual({ language: 'en', endpointingMs: 800, interim: true, gateSilence: true });
    await callee(LOUD, 40);
    stt.current.final('I would like', false);
    stt.current.final('a table for two');
    expect(inputs).toEqual([
      { type: 'speech_started' },
      { type: 'transcript', text: 'I would like', final: false },
      { type: 'transcript', text: 'I would like a table for two', final: true, sttMs: expect.any(Number) },
    ]);
  });

  it('a pause inside the callee’s speech is one utterance: speaking, listening, speaking again, one turn', async () => {
    const { stt, inputs, callee } = setup();
    await callee(LOUD, 30);
    stt.current.interim('I would like');
    await callee(QUIET, 15); // 300 ms: the detector's speech ends…
    await callee(LOUD, 20); // …and starts again
    stt.current.final('I would like a table.');
    await callee(QUIET, 15);
    expect(inputs.map((i) => (i.type === 'transcript' ? `${i.final ? 'final' : 'interim'}: ${i.text}` : i.type))).toEqual([
      'speech_started',
      'interim: I would like',
      'speech_ended',
      'speech_started',
      'final: I would like a table.',
      'speech_ended',
    ]);
  });

  it('tells the speech-to-text at once when the detector hears the callee stop, so chunked audio does not delay endpointing', async () => {
    const { stt, callee } = setup();
    await callee(LOUD, 30);
    expect(stt.current.paused).toBe(0);
    await callee(QUIET, 9); // 180 ms: still a pause between words
    expect(stt.current.paused).toBe(0);
    await callee(QUIET, 1); // 200 ms of quiet: the detector's speech ends
    expect(stt.current.paused).toBe(1);
    await callee(QUIET, 20);
    expect(stt.current.paused).toBe(1);
    expect(stt.current.resumed).toBe(1); // the first words
    await callee(LOUD, 3); // the detector hears speech again: chunking may resume
    expect(stt.current.resumed).toBe(2);
    expect(stt.current.pushed).toBe(63 * 160); // every frame still went in
  });

  it('opens its speech-to-text gated (it reports each start and end of speech); one reopened while the callee speaks is told so at once', async () => {
    const { io, stt, callee } = setup();
    expect(stt.current.opts.gateSilence).toBe(true);
    expect(stt.current.resumed).toBe(0);
    await callee(LOUD, 10); // the callee is speaking
    await io.setLanguage('es');
    // The new stream would otherwise wait, gated, for a start of speech that already happened.
    expect(stt.streams.map((s) => [s.opts.language, s.opts.gateSilence, s.resumed])).toEqual([
      ['en', true, 1],
      ['es', true, 1],
    ]);
    await callee(QUIET, 20);
    await io.setLanguage('fr'); // quiet: the new stream starts gated, as at a call's start
    expect(stt.current.resumed).toBe(0);
  });

  it('words the detector never heard as sound are still a turn (the speech-to-text is trusted)', async () => {
    const { stt, inputs, callee, play } = setup();
    play('Your table is booked for eight tonight.');
    await settle();
    stt.current.emit({ type: 'speech_started' });
    await callee(QUIET, 10);
    stt.current.final('Can you hear me?');
    expect(inputs).toEqual([{ type: 'transcript', text: 'Can you hear me?', final: true, sttMs: expect.any(Number) }]);
  });

  it('a short answer while the agent is silent is a turn (only over the agent is it a backchannel)', async () => {
    const { stt, inputs, callee } = setup();
    await callee(LOUD, 10);
    stt.current.final('Yes.');
    expect(inputs).toEqual([{ type: 'transcript', text: 'Yes.', final: true, sttMs: expect.any(Number) }]);
  });
});

describe('audio I/O: keypad, language, usage', () => {
  it('passes the callee’s keys in and the agent’s keys out', async () => {
    const { channel, io, inputs } = setup();
    channel.input({ type: 'dtmf', digits: '5' });
    await io.sendDigits('12#');
    expect(inputs).toEqual([{ type: 'dtmf', digits: '5' }]);
    expect(channel.digits).toEqual(['12#']);
  });

  it('speaks the new language after a switch, and reopens the speech-to-text in it', async () => {
    const { clock, io, stt, tts, play } = setup();
    await io.setLanguage('es');
    expect(stt.streams.map((s) => [s.opts.language, s.closed])).toEqual([
      ['en', true],
      ['es', false],
    ]);
    play('Hola.');
    await settle();
    clock.advance(200);
    expect(tts.requests.map((r) => r.language)).toEqual(['es']);
  });

  it('reports the seconds of audio transcribed and the characters synthesised when it closes', async () => {
    const { clock, io, usage, callee, play } = setup();
    play('Hello there.');
    await settle();
    clock.advance(400);
    await callee(QUIET, 50); // one second
    await io.close();
    expect(usage.total()).toMatchObject({ sttSeconds: 1, ttsCharacters: 12 });
  });
});

describe('audio I/O: falling quiet for a transfer', () => {
  /** A line whose carrier transfers: the agent falls quiet, then the leg is redirected (or the redirect fails). */
  function withTransfer(fail = false) {
    const steps: string[] = [];
    const h = setup({}, (channel) => {
      channel.transfer = async (_to, opts) => {
        const speakAgain = await opts.quiet!();
        steps.push(`redirect at ${channel.sent.length} frames`);
        if (fail) {
          speakAgain();
          throw new Error('redirect refused');
        }
      };
    });
    return { ...h, steps };
  }

  it('the clause being said is heard to its end before the redirect, and nothing is played after it', async () => {
    const { clock, channel, io, play, steps } = withTransfer();
    channel.holdMarks = true;
    const p = play('Hi there.'); // 9 frames
    await settle();
    let transferred = false;
    io.transfer!('+15550100', { warm: false }).then(() => (transferred = true), () => undefined);
    clock.advance(200);
    await settle();
    // Every frame is out, but the carrier has not played them yet: no redirect, nothing cleared.
    expect(channel.sent).toHaveLength(9);
    expect(steps).toEqual([]);
    expect(channel.clears).toBe(0);
    channel.releaseMarks();
    await settle();
    await settle();
    expect(p.r).toMatchObject({ done: true });
    expect(steps).toEqual(['redirect at 9 frames']);
    expect(transferred).toBe(true);
    // What the agent says next is not played on a line being handed over.
    const next = play('Goodbye.');
    await settle();
    clock.advance(400);
    await settle();
    expect(next.r).toEqual({ done: false, heard: '' });
    expect(channel.sent).toHaveLength(9);
  });

  it('a clause not heard within QUIET_MS is cut where it was heard (kept), then the redirect goes', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const { clock, channel, io, play, steps } = withTransfer();
      channel.holdMarks = true;
      const p = play('one two three four'); // 18 frames
      await settle();
      clock.advance(240); // 14 frames out
      const done = io.transfer!('+15550100', { warm: false });
      await settle();
      expect(steps).toEqual([]);
      vi.advanceTimersByTime(QUIET_MS);
      await done;
      expect(channel.clears).toBe(1);
      expect(p.r).toMatchObject({ done: false, heard: 'one two three' });
      expect(steps).toEqual(['redirect at 14 frames']);
    } finally {
      vi.useRealTimers();
    }
  });

  it('a redirect that fails lets the agent speak again', async () => {
    const { clock, channel, io, play } = withTransfer(true);
    await expect(io.transfer!('+15550100', { warm: true })).rejects.toThrow('redirect refused');
    const p = play('Sorry.');
    await settle();
    clock.advance(200);
    await settle();
    expect(p.r).toMatchObject({ done: true });
    expect(channel.sent).toHaveLength(6);
  });

  it('a line that cannot transfer gives the I/O no transfer', () => {
    const { io } = setup();
    expect(io.transfer).toBeUndefined();
  });
});
