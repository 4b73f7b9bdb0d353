/**
 * Text written by one producer while one consumer reads it: a model's reply streaming into speech. The
 * producer never waits (the model keeps writing while the first clause is being spoken); the text kept
 * unread is bounded by `maxChars` (a reply is bounded by the model's token limit anyway): past it, further
 * text is dropped — a voice would take many minutes to say that much.
 *
 * @example
 * const s = new TextStream();
 * s.push('Hello. '); s.push('How are you?'); s.end();
 * for await (const t of s) speak(t);
 */
export class TextStream implements AsyncIterable<string> {
  private readonly parts: string[] = [];
  private chars = 0;
  private ended = false;
  private brokenOff = false;
  private wake: (() => void) | undefined;

  constructor(private readonly maxChars = 64_000) {}

  /** Adds text; ignored once ended or full. */
  push(text: string): void {
    if (this.ended || !text || this.chars + text.length > this.maxChars) return;
    this.parts.push(text);
    this.chars += text.length;
    this.wake?.();
  }

  /** No more text: the reader finishes once it has read what is left. */
  end(): void {
    this.ended = true;
    this.wake?.();
  }

  /**
   * The producer broke off (its source failed mid-reply): no more text, and a reader that cuts the text into
   * clauses drops an unfinished last one rather than say a fragment ("I'll che").
   */
  breakOff(): void {
    this.brokenOff = true;
    this.end();
  }

  get isEnded(): boolean {
    return this.ended;
  }

  get isBrokenOff(): boolean {
    return this.brokenOff;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<string> {
    for (;;) {
      if (this.parts.length) {
        const t = this.parts.shift()!;
        this.chars -= t.length;
        yield t;
        continue;
      }
      if (this.ended) return;
      await new Promise<void>((r) => (this.wake = r));
      this.wake = undefined;
    }
  }
}
