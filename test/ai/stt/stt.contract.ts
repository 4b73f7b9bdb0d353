/**
 * What every speech-to-text adapter promises (src/ai/stt/stt.ts), as one suite each adapter's test file runs
 * against its fake: speech_started, interim transcripts that grow, one end of turn per utterance whose final
 * pieces make the whole utterance, flush and close, audio held until the socket opens, audio counted, and failures as one
 * `error` event (never a throw).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SttError } from '../../../src/ai/stt/errors.js';
import type { SpeechToText, SttOptions, SttStream } from '../../../src/ai/stt/stt.js';
import type { FakePhrase } from '../../fakes/stt-fake-common.js';
import { errors, GREETING, MENU, record, speak, transcripts, turns, until, untilTurns, utterances } from './stt-test-helpers.js';

export interface SttHarness {
  /** An adapter and a fresh fake that will hear `phrases` in order; `badKey` makes the fake refuse the key. */
  start(setup: { phrases: FakePhrase[]; latencyMs?: number; badKey?: boolean }): Promise<{ stt: SpeechToText; close(): Promise<void> }>;
}

export function sttContract(name: string, harness: SttHarness): void {
  describe(`${name}: the speech-to-text contract`, () => {
    let cleanup: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const fn of cleanup.reverse()) await fn();
      cleanup = [];
    });

    async function open(opts: Partial<SttOptions> = {}, setup: { latencyMs?: number; badKey?: boolean } = {}) {
      const { stt, close } = await harness.start({ phrases: [GREETING, MENU], ...setup });
      const stream: SttStream = stt.stream({ language: 'en', endpointingMs: 300, interim: true, ...opts });
      cleanup.push(close, () => stream.close());
      return { stream, events: record(stream) };
    }

    it('reports speech starting, interim transcripts that grow, then the final transcript ending the turn', async () => {
      const { stream, events } = await open({}, { latencyMs: 5 });
      speak(stream, GREETING.audio, 500);
      await untilTurns(events, 1);

      expect(events[0]).toEqual({ type: 'speech_started' });
      const said = transcripts(events);
      const interim = said.filter((t) => !t.final);
      expect(interim.length).toBeGreaterThan(1);
      for (let i = 1; i < interim.length; i++) expect(interim[i]!.text.startsWith(interim[i - 1]!.text)).toBe(true);
      expect(said.at(-1)).toMatchObject({ final: true, endOfTurn: true });
      expect(utterances(events)).toEqual([GREETING.text]);
    });

    it('ends one turn per utterance, each with its whole text', async () => {
      const { stream, events } = await open();
      speak(stream, GREETING.audio, 1500);
      speak(stream, MENU.audio, 1500);
      await untilTurns(events, 2);
      await stream.close();
      expect(turns(events)).toHaveLength(2);
      expect(utterances(events)).toEqual([GREETING.text, MENU.text]);
      expect(events.filter((e) => e.type === 'speech_started')).toHaveLength(2);
    });

    it('leaves out interim transcripts when the caller does not want them', async () => {
      const { stream, events } = await open({ interim: false });
      speak(stream, GREETING.audio, 500);
      await untilTurns(events, 1);
      expect(transcripts(events).length).toBeGreaterThan(0);
      expect(transcripts(events).every((t) => t.final)).toBe(true);
    });

    it('flush ends the turn being spoken without waiting for silence', async () => {
      const { stream, events } = await open({ endpointingMs: 5000 });
      speak(stream, GREETING.audio);
      // A provider that detects speech itself flushes what it heard begin: wait until it has.
      await until(async () => events.some((e) => e.type === 'speech_started'), 15_000, 'speech_started');
      stream.flush();
      await untilTurns(events, 1);
      expect(turns(events)).toHaveLength(1);
      expect(utterances(events)).toEqual([GREETING.text]);
    });

    it('close delivers the last final transcript and counts every second of audio sent', async () => {
      const { stream, events } = await open({ endpointingMs: 5000 }, { latencyMs: 5 });
      speak(stream, GREETING.audio);
      await stream.close();

      expect(turns(events)).toHaveLength(1);
      expect(utterances(events)).toEqual([GREETING.text]);
      expect(stream.audioSeconds).toBe(GREETING.audio.length / 8000);
      expect(errors(events)).toEqual([]);
    });

    it('keeps events that arrive before a listener is attached', async () => {
      const { stt, close } = await harness.start({ phrases: [GREETING] });
      const stream = stt.stream({ language: 'en', endpointingMs: 5000, interim: false });
      cleanup.push(close, () => stream.close());
      speak(stream, GREETING.audio);
      await stream.close();
      expect(utterances(record(stream))).toEqual([GREETING.text]);
    });

    it('a bad key becomes one auth error event; pushing, flushing and closing after it are harmless', async () => {
      const { stream, events } = await open({}, { badKey: true });
      speak(stream, GREETING.audio);
      await until(async () => errors(events).length > 0, 15_000, 'error event');
      speak(stream, MENU.audio);
      stream.flush();
      await stream.close();

      expect(events).toHaveLength(1);
      const error = errors(events)[0]!.error as SttError;
      expect(error).toBeInstanceOf(SttError);
      expect(error).toMatchObject({ kind: 'auth', status: 401, retryable: false });
      expect(stream.audioSeconds).toBe(0);
    });
  });
}
