/** What the speech-to-text adapter tests share: the committed speech fixtures and an event recorder. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { SttEvent, SttStream } from '../../../src/ai/stt/stt.js';
import { frames, silence } from '../../fakes/stt-fake-common.js';
import { until } from '../../helpers/switchboard.js';

export { until };

const fixture = (name: string) => new Uint8Array(readFileSync(fileURLToPath(new URL(`../../fixtures/audio/${name}.ulaw`, import.meta.url))));

/** espeak-ng speech (test/fixtures/audio/README.md), with what it says. */
export const GREETING = { audio: fixture('greeting'), text: 'Good evening, Bella Cucina, Anna speaking.' };
export const MENU = { audio: fixture('menu'), text: 'For bookings, press 2.' };

/** Pushes audio as Twilio would deliver it (20 ms frames), optionally followed by line silence. */
export function speak(stream: SttStream, audio: Uint8Array, silenceAfterMs = 0): void {
  for (const f of frames(audio)) stream.push(f);
  if (silenceAfterMs > 0) for (const f of frames(silence(silenceAfterMs))) stream.push(f);
}

/** Records a stream's events, in order. */
export function record(stream: SttStream): SttEvent[] {
  const events: SttEvent[] = [];
  stream.onEvent((e) => events.push(e));
  return events;
}

export type Transcript = Extract<SttEvent, { type: 'transcript' }>;

export const transcripts = (events: SttEvent[]) => events.filter((e): e is Transcript => e.type === 'transcript');
export const turns = (events: SttEvent[]) => transcripts(events).filter((e) => e.endOfTurn);

/** The utterances whose turn ended, each its final pieces joined (stt.ts), as the pipeline reads them. */
export function utterances(events: SttEvent[]): string[] {
  const done: string[] = [];
  let pieces: string[] = [];
  for (const t of transcripts(events)) {
    if (!t.final) continue;
    pieces.push(t.text);
    if (!t.endOfTurn) continue;
    done.push(pieces.filter(Boolean).join(' '));
    pieces = [];
  }
  return done;
}
export const errors = (events: SttEvent[]) => events.filter((e): e is Extract<SttEvent, { type: 'error' }> => e.type === 'error');

/** Waits until `n` turns have ended (generous: a busy 2-core machine). */
export const untilTurns = (events: SttEvent[], n: number) => until(async () => turns(events).length >= n, 15_000, `${n} end(s) of turn`);
