/**
 * The Media Streams messages that flow every 20 ms of a call, read and written without the general JSON
 * machinery: an inbound `media` message is read by a small reader of Twilio's flat shape, and outbound
 * `media` and `mark` messages are built from a per-stream template. Each was a visible share of a node's
 * CPU at 100 calls (docs/performance.md §8, "Per-call CPU, second round"): `JSON.parse` of every inbound
 * frame built four objects and five strings, and `JSON.stringify` of every outbound one two objects.
 *
 * The reader works on the message's bytes, before they are decoded to text: the text of every frame, and the
 * keys and values cut from it, were 16 % of what a node allocated at 100 calls (docs/performance.md §21). It
 * accepts only what it fully understands — an object of string values and objects of string values, no
 * escapes — and says "not mine" for anything else, which then goes through `JSON.parse`. So a field Twilio
 * adds (a string, in any order) is ignored as `JSON.parse` would ignore it, and a number, an array or an
 * escaped character falls back to the parser rather than being misread.
 */

import { textFrameHeaderLength, writeTextFrameHeader } from '../../lib/ws-direct-text.js';

/** The fields of an inbound `media` message that the stream uses. Reused between messages (no allocation). */
export interface MediaFields {
  /** Where the `streamSid` value is in the message's bytes, [streamSidStart, streamSidEnd); both −1 when absent. */
  streamSidStart: number;
  streamSidEnd: number;
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
const BACKSLASH = 0x5c;

// Keys and track names as bytes, compared in place: no key, and no value but the payload, becomes a string.
const EVENT = Buffer.from('event');
const STREAM_SID = Buffer.from('streamSid');
const MEDIA = Buffer.from('media');
const TRACK = Buffer.from('track');
const CHUNK = Buffer.from('chunk');
const PAYLOAD = Buffer.from('payload');
const INBOUND = Buffer.from('inbound');
const OUTBOUND = Buffer.from('outbound');

/**
 * Reads `raw[start, end)` — the message's bytes as the WebSocket delivered them, before any decoding to text —
 * as a Twilio `media` message into `out`. False when it is not one, or not in the shape this reader knows (then decode it
 * and parse it with `JSON.parse`): the caller must not use `out` then. Only the payload becomes a string (the
 * base64 decoder takes one); the streamSid is left where it is, for `hasStreamSid`. JSON's structure is ASCII
 * and no byte of a multi-byte UTF-8 character is ASCII, so reading bytes reads what the text would say.
 *
 * @example
 *   const f = newMediaFields();
 *   if (readMediaMessage(raw, f)) onFrame(f.track, f.chunk, Buffer.from(f.payload, 'base64'));
 *   else handle(JSON.parse(raw.toString()));
 */
export function readMediaMessage(raw: Buffer, out: MediaFields, start = 0, end = raw.length): boolean {
  // Escapes are rare in Twilio's messages and would need decoding: the parser handles them.
  const escape = raw.indexOf(BACKSLASH, start);
  if (escape >= 0 && escape < end) return false;
  out.streamSidStart = out.streamSidEnd = -1;
  out.track = undefined;
  out.chunk = NaN;
  out.payload = '';
  const r = reader(raw, start, end);
  let isMedia = false;
  let sawMedia = false;
  if (!r.take(OPEN) || r.take(CLOSE)) return false;
  do {
    const key = r.stringEnd();
    if (key < 0) return false;
    const keyStart = r.pos + 1;
    r.pos = key + 1;
    if (!r.take(COLON)) return false;
    if (r.peek() === OPEN) {
      if (!r.equals(keyStart, key, MEDIA)) {
        if (!r.skipFlatObject()) return false;
        continue;
      }
      if (sawMedia) return false; // a repeated key: the parser says which one wins
      sawMedia = true;
      if (!readMediaObject(r, out)) return false;
      continue;
    }
    const end = r.stringEnd();
    if (end < 0) return false;
    const start = r.pos + 1;
    r.pos = end + 1;
    if (r.equals(keyStart, key, EVENT)) isMedia = r.equals(start, end, MEDIA);
    else if (r.equals(keyStart, key, STREAM_SID)) {
      out.streamSidStart = start;
      out.streamSidEnd = end;
    }
  } while (r.take(COMMA));
  return r.take(CLOSE) && r.atEnd() && isMedia && sawMedia;
}

/** Whether the message `readMediaMessage` read into `f` names `streamSid` (its UTF-8 bytes, `Buffer.from(sid)`). */
export function hasStreamSid(raw: Buffer, f: MediaFields, streamSid: Buffer): boolean {
  return f.streamSidStart >= 0 && raw.compare(streamSid, 0, streamSid.length, f.streamSidStart, f.streamSidEnd) === 0;
}

/** A fresh `MediaFields` to reuse with `readMediaMessage`. */
export function newMediaFields(): MediaFields {
  return { streamSidStart: -1, streamSidEnd: -1, track: undefined, chunk: NaN, payload: '' };
}

function readMediaObject(r: Reader, out: MediaFields): boolean {
  if (!r.take(OPEN)) return false;
  if (r.take(CLOSE)) return true;
  do {
    const key = r.stringEnd();
    if (key < 0) return false;
    const keyStart = r.pos + 1;
    r.pos = key + 1;
    if (!r.take(COLON)) return false;
    const end = r.stringEnd();
    if (end < 0) return false;
    const start = r.pos + 1;
    r.pos = end + 1;
    if (r.equals(keyStart, key, PAYLOAD)) out.payload = r.raw.toString('latin1', start, end);
    else if (r.equals(keyStart, key, CHUNK)) out.chunk = wholeNumber(r.raw, start, end);
    else if (r.equals(keyStart, key, TRACK)) out.track = trackName(r.raw, start, end);
  } while (r.take(COMMA));
  return r.take(CLOSE);
}

/** The track's name: Twilio's two as constants; anything else (ignored by the stream) decoded. */
function trackName(raw: Buffer, start: number, end: number): string {
  if (equalBytes(raw, start, end, INBOUND)) return 'inbound';
  if (equalBytes(raw, start, end, OUTBOUND)) return 'outbound';
  return raw.toString('utf8', start, end);
}

/** The digits of raw[from, to) as a number; NaN if empty, not all digits, or too long to be exact. */
function wholeNumber(raw: Buffer, from: number, to: number): number {
  if (to <= from || to - from > 15) return NaN;
  let n = 0;
  for (let i = from; i < to; i++) {
    const d = raw[i]! - 0x30;
    if (d < 0 || d > 9) return NaN;
    n = n * 10 + d;
  }
  return n;
}

function equalBytes(raw: Buffer, start: number, end: number, word: Buffer): boolean {
  if (end - start !== word.length) return false;
  for (let i = 0; i < word.length; i++) if (raw[start + i] !== word[i]) return false;
  return true;
}

/**
 * A cursor over the message; whitespace between tokens is skipped, as JSON allows. One for the module, reset
 * for each message (the reader runs to its end synchronously): not one more object for every frame of every call.
 */
class Reader {
  raw: Buffer = Buffer.alloc(0);
  pos = 0;
  /** Where the message ends in `raw` (a read may hold more than one). */
  end = 0;

  private skipSpace(): void {
    const raw = this.raw;
    while (this.pos < this.end && raw[this.pos]! <= 0x20) this.pos++;
  }

  peek(): number {
    this.skipSpace();
    return this.pos < this.end ? this.raw[this.pos]! : -1;
  }

  take(code: number): boolean {
    if (this.peek() !== code) return false;
    this.pos++;
    return true;
  }

  atEnd(): boolean {
    this.skipSpace();
    return this.pos === this.end;
  }

  /** The index of the closing quote of the string starting here (`pos` left at its opening quote), or −1. */
  stringEnd(): number {
    if (this.peek() !== QUOTE) return -1;
    const close = this.raw.indexOf(QUOTE, this.pos + 1);
    return close < this.end ? close : -1;
  }

  /** Moves past the string starting here; false when none starts here. */
  skipString(): boolean {
    const end = this.stringEnd();
    if (end < 0) return false;
    this.pos = end + 1;
    return true;
  }

  equals(start: number, end: number, word: Buffer): boolean {
    return equalBytes(this.raw, start, end, word);
  }

  /** Skips an object of string values; false when it holds anything else. */
  skipFlatObject(): boolean {
    if (!this.take(OPEN)) return false;
    if (this.take(CLOSE)) return true;
    do {
      if (!this.skipString() || !this.take(COLON) || !this.skipString()) return false;
    } while (this.take(COMMA));
    return this.take(CLOSE);
  }
}

const shared = new Reader();

function reader(raw: Buffer, start: number, end: number): Reader {
  shared.raw = raw;
  shared.pos = start;
  shared.end = end;
  return shared;
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
  /** The heads as bytes, for the frames. */
  private readonly mediaHeadBytes: Buffer;
  private readonly markHeadBytes: Buffer;

  constructor(streamSid: string) {
    const sid = JSON.stringify(streamSid);
    this.mediaHead = `{"event":"media","streamSid":${sid},"media":{"payload":"`;
    this.markHead = `{"event":"mark","streamSid":${sid},"mark":{"name":`;
    this.mediaHeadBytes = Buffer.from(this.mediaHead);
    this.markHeadBytes = Buffer.from(this.markHead);
  }

  /** A `media` message carrying `payload` (base64: nothing in it needs escaping). */
  media(payload: string): string {
    return this.mediaHead + payload + MEDIA_TAIL;
  }

  /** A `mark` message named `name`. */
  mark(name: string): string {
    return this.markHead + JSON.stringify(name) + MARK_TAIL;
  }

  /**
   * `media(payload)` as a whole WebSocket text frame, header included, in one buffer (for
   * ../../lib/ws-direct-text.ts's `directFrameWriter`): no string made for the message, no copy of it.
   */
  mediaFrame(payload: string): Buffer {
    return textFrame(this.mediaHeadBytes, payload, payload.length, MEDIA_TAIL);
  }

  /** `mark(name)` as a whole WebSocket text frame (as `mediaFrame`). */
  markFrame(name: string): Buffer {
    const quoted = JSON.stringify(name);
    return textFrame(this.markHeadBytes, quoted, Buffer.byteLength(quoted), MARK_TAIL);
  }
}

const MEDIA_TAIL = '"}}';
const MARK_TAIL = '}}';

/** A server's text frame carrying `head`, then `middle` (`middleBytes` long in UTF-8), then the ASCII `tail`. */
function textFrame(head: Buffer, middle: string, middleBytes: number, tail: string): Buffer {
  const length = head.length + middleBytes + tail.length;
  const at = textFrameHeaderLength(length);
  const frame = Buffer.allocUnsafe(at + length);
  writeTextFrameHeader(frame, length);
  head.copy(frame, at);
  frame.write(middle, at + head.length, middleBytes, 'utf8');
  frame.write(tail, at + head.length + middleBytes, 'latin1');
  return frame;
}
