/**
 * What a call used, as the adapters report it (001 "Billing & credits": connected call time, the carrier's
 * media stream, transcription, model tokens and synthesis). The call session keeps one `UsageMeter` per
 * call and hands it, as a `UsageReporter`, to whatever does metered work on the call:
 * - the carrier reports connected time, media streamed and (carriers that do the speech, such as the
 *   simulated network and ConversationRelay) its own recognition and synthesis, with its `ended` event;
 * - the language model reports the tokens of every request, the call's summary included (ai/llm/metered.ts);
 * - speech-to-text and text-to-speech adapters report the seconds they transcribed and the characters they
 *   synthesised through `add({ sttSeconds })` and `add({ ttsCharacters })` (none exists yet: the cascaded
 *   audio pipeline will be their first user).
 * When the call ends, the meter's total is priced (./price.ts) and stored as the call's usage record.
 */

export interface CallUsage {
  /** Seconds from answer to hang-up, queue and hold included once the call is connected. */
  connectedSeconds: number;
  /** Seconds of audio the carrier streamed to or from us (Twilio Media Streams). */
  mediaSeconds: number;
  /** Seconds of audio transcribed (speech-to-text). */
  sttSeconds: number;
  llmInputTokens: number;
  llmOutputTokens: number;
  /** Characters synthesised into speech. */
  ttsCharacters: number;
}

/** Where adapters report what they used on a call. Additive: each report adds to what was reported before. */
export interface UsageReporter {
  add(usage: Partial<CallUsage>): void;
}

export function emptyUsage(): CallUsage {
  return { connectedSeconds: 0, mediaSeconds: 0, sttSeconds: 0, llmInputTokens: 0, llmOutputTokens: 0, ttsCharacters: 0 };
}

/** Adds up one call's usage reports. */
export class UsageMeter implements UsageReporter {
  private readonly used = emptyUsage();

  add(usage: Partial<CallUsage>): void {
    for (const key of Object.keys(this.used) as Array<keyof CallUsage>) {
      const v = usage[key];
      // A report is a count of something used: a negative or non-numeric one is a bug, not a credit.
      if (typeof v === 'number' && Number.isFinite(v) && v > 0) this.used[key] += v;
    }
  }

  /** What was reported so far. */
  total(): CallUsage {
    return { ...this.used };
  }
}
