/**
 * One piece of the agent's speech, from the moment it is queued until it was heard or cut off (LiveKit
 * agents-js `SpeechHandle`). The activity plays handles in order; whoever made one may interrupt it or
 * await its playout, and learns what the callee actually heard: a reply cut by barge-in is kept in the
 * conversation only as far as it was heard.
 *
 * @example
 * const h = activity.speak('One moment please.', 'supervisor');
 * const { heard, interrupted } = await h.waitForPlayout();
 */
import type { SpeechOutcome } from './brain.js';
import type { SpeechSource } from './events.js';

/** What the callee heard (clauses heard in full, then the part of the cut one), and whether it was cut off. */
export type SpeechResult = SpeechOutcome;

export class SpeechHandle {
  private readonly stop = new AbortController();
  private readonly heardParts: string[] = [];
  private settled: SpeechResult | undefined;
  private resolve!: (r: SpeechResult) => void;
  private readonly result = new Promise<SpeechResult>((r) => (this.resolve = r));

  constructor(
    readonly id: number,
    readonly source: SpeechSource,
    /** Aborting it interrupts this speech too (the turn that made it was interrupted). */
    linked?: AbortSignal,
  ) {
    if (linked?.aborted) this.stop.abort();
    else linked?.addEventListener('abort', () => this.interrupt(), { once: true });
  }

  /** Aborted once the speech is interrupted: what is being said is cut, the rest is dropped. */
  get signal(): AbortSignal {
    return this.stop.signal;
  }

  get interrupted(): boolean {
    return this.stop.signal.aborted;
  }

  /** Heard in full or cut off: nothing more of it will be said. */
  get done(): boolean {
    return this.settled !== undefined;
  }

  interrupt(): void {
    this.stop.abort();
  }

  /** Resolves once the speech was heard in full or cut off. Never rejects. */
  waitForPlayout(): Promise<SpeechResult> {
    return this.result;
  }

  /** What has been heard so far. */
  get heard(): string {
    return this.heardParts.join(' ');
  }

  /** The player: a clause (or the part of one) was heard. */
  addHeard(text: string): void {
    if (text) this.heardParts.push(text);
  }

  /** The player: the speech is over. */
  finish(cutOff: boolean): SpeechResult {
    if (cutOff) this.stop.abort();
    this.settled ??= { heard: this.heard, interrupted: this.interrupted };
    this.resolve(this.settled);
    return this.settled;
  }
}
