/**
 * The Media Streams messages that flow every 20 ms of a call, read and written without the general JSON
 * machinery: an inbound `media` message is read by a small reader of Twilio's flat shape, and outbound
 * `media` and `mark` messages are built from a per-stream template. Each was a visible share of a node's
 * CPU at 100 calls (docs/performance.md §8, "Per-call CPU, second round"): `JSON.parse` of every inbound
 * frame built four objects and five strings, and `JSON.stringify` of every outbound one two objects.
 *
 * The reader accepts only what it fully understands — an object of string values and objects of string
 * values, no escapes — and says "not mine" for anything else, which then goes through `JSON.parse`. So a
 * field Twilio adds (a string, in any order) is ignored as `JSON.parse` would ignore it, and a number, an
 * array or an escaped character falls back to the parser rather than being misread.
 */

/** The fields of an inbound `media` message that the stream uses. Reused between messages (no allocation). */
export interface MediaFields {
  /** `streamSid` (empty when absent). */
  streamSid: string;
  /** `media.track` (undefined when absent). */
  track: string | undefined;
  /** `media.chunk` as a number (NaN when absent or not a whole number). */
  chunk: number;
  /** `media.payload`: base64 μ-law (empty when absent). */
  payload: string;
}

const QUOTE = 0x22;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN = 0x7b;
const CLOSE = 0x7d;

/**
 * Reads `raw` as a Twilio `media` message into `out`. False when it is not one, or not in the shape this
 * reader knows (then parse it with `JSON.parse`): the caller must not use `out` then.
 *
 * @example
 *   const f = newMediaFields();
 *   if (readMediaMessage(raw, f)) onFrame(f.track, f.chunk, Buffer.from(f.payload, 'base64'));
 *   else handle(JSON.parse(raw));
 */
export function readMediaMessage(raw: string, out: MediaFields): boolean {
  // Escapes are rare in Twilio's messages and would need decoding: the parser handles them.
  if (raw.indexOf('\\') >= 0) return false;
  out.streamSid = '';
  out.track = undefined;
  out.chunk = NaN;
  out.payload = '';
  const r = new Reader(raw);
  let isMedia = false;
  let sawMedia = false;
  if (!r.take(OPEN)) return false;
  if (r.take(CLOSE)) return false;
  do {
    const key = r.string();
    if (key === undefined || !r.take(COLON)) return false;
    if (r.peek() === OPEN) {
      if (key !== 'media') {
        if (!r.skipFlatObject()) return false;
        continue;
      }
      if (sawMedia) return false; // a repeated key: the parser says which one wins
      sawMedia = true;
      if (!readMediaObject(r, out)) return false;
      continue;
    }
    const value = r.string();
    if (value === undefined) return false;
    if (key === 'event') isMedia = value === 'media';
    else if (key === 'streamSid') out.streamSid = value;
  } while (r.take(COMMA));
  return r.take(CLOSE) && r.atEnd() && isMedia && sawMedia;
}

/** A fresh `MediaFields` to reuse with `readMediaMessage`. */
export function newMediaFields(): MediaFields {
  return { streamSid: '', track: undefined, chunk: NaN, payload: '' };
}

function readMediaObject(r: Reader, out: MediaFields): boolean {
  if (!r.take(OPEN)) return false;
  if (r.take(CLOSE)) return true;
  do {
    const key = r.string();
    if (key === undefined || !r.take(COLON)) return false;
    if (key === 'chunk') {
      const end = r.stringEnd(); // leaves `pos` at the opening quote
      if (end < 0) return false;
      out.chunk = wholeNumber(r.raw, r.pos + 1, end);
      r.pos = end + 1;
      continue;
    }
    const value = r.string();
    if (value === undefined) return false;
    if (key === 'payload') out.payload = value;
    else if (key === 'track') out.track = value;
  } while (r.take(COMMA));
  return r.take(CLOSE);
}

/** The digits of raw[from, to) as a number; NaN if empty, not all digits, or too long to be exact. */
function wholeNumber(raw: string, from: number, to: number): number {
  if (to <= from || to - from > 15) return NaN;
  let n = 0;
  for (let i = from; i < to; i++) {
    const d = raw.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return NaN;
    n = n * 10 + d;
  }
  return n;
}

/** A cursor over the message; whitespace between tokens is skipped, as JSON allows. */
class Reader {
  pos = 0;
  constructor(readonly raw: string) {}

  private skipSpace(): void {
    while (this.pos < this.raw.length && this.raw.charCodeAt(this.pos) <= 0x20) this.pos++;
  }

  peek(): number {
    this.skipSpace();
    return this.raw.charCodeAt(this.pos);
  }

  take(code: number): boolean {
    if (this.peek() !== code) return false;
    this.pos++;
    return true;
  }

  atEnd(): boolean {
    this.skipSpace();
    return this.pos === this.raw.length;
  }

  /** The index of the closing quote of the string starting here, or −1 when no string starts here. */
  stringEnd(): number {
    if (this.peek() !== QUOTE) return -1;
    return this.raw.indexOf('"', this.pos + 1);
  }

  /** A string token (no escapes: checked for the whole message), or undefined when none is here. */
  string(): string | undefined {
    const end = this.stringEnd();
    if (end < 0) return undefined;
    const s = this.raw.slice(this.pos + 1, end);
    this.pos = end + 1;
    return s;
  }

  /** Skips an object of string values; false when it holds anything else. */
  skipFlatObject(): boolean {
    if (!this.take(OPEN)) return false;
    if (this.take(CLOSE)) return true;
    do {
      if (this.string() === undefined || !this.take(COLON) || this.string() === undefined) return false;
    } while (this.take(COMMA));
    return this.take(CLOSE);
  }
}

/**
 * Outbound messages of one stream, built from templates around its `streamSid` (JSON-encoded once).
 *
 * @example
 *   const out = new MediaMessages(streamSid);
 *   socket.send(out.media(frame.toString('base64')));
 */
export class MediaMessages {
  private readonly mediaHead: string;
  private readonly markHead: string;

  constructor(streamSid: string) {
    const sid = JSON.stringify(streamSid);
    this.mediaHead = `{"event":"media","streamSid":${sid},"media":{"payload":"`;
    this.markHead = `{"event":"mark","streamSid":${sid},"mark":{"name":`;
  }

  /** A `media` message carrying `payload` (base64: nothing in it needs escaping). */
  media(payload: string): string {
    return this.mediaHead + payload + '"}}';
  }

  /** A `mark` message named `name`. */
  mark(name: string): string {
    return this.markHead + JSON.stringify(name) + '}}';
  }
}
