/**
 * The fast reader of Twilio's inbound `media` messages and the outbound templates (src/carriers/twilio/media-message.ts):
 * whatever it reads, it reads as JSON.parse would; whatever it does not know, it leaves to JSON.parse.
 */
import { describe, expect, it } from 'vitest';
import { MediaMessages, hasStreamSid, newMediaFields, readMediaMessage } from '../../src/carriers/twilio/media-message.js';

const PAYLOAD = Buffer.alloc(160, 0x7f).toString('base64');
/** A media message exactly as Twilio sends it (protocols.md §4). */
const TWILIO = `{"event":"media","sequenceNumber":"4","media":{"track":"inbound","chunk":"3","timestamp":"60","payload":"${PAYLOAD}"},"streamSid":"MZ123"}`;

/** What the reader read from the message's bytes, with the streamSid it points at decoded (to compare). */
function read(raw: string) {
  const bytes = Buffer.from(raw);
  const f = newMediaFields();
  if (!readMediaMessage(bytes, f)) return undefined;
  const { streamSidStart, streamSidEnd, ...rest } = f;
  return { ...rest, streamSid: streamSidStart < 0 ? '' : bytes.toString('utf8', streamSidStart, streamSidEnd) };
}

describe('Twilio media messages without JSON.parse', () => {
  it('reads the bytes as JSON.parse reads the text, with characters of several bytes around', () => {
    const raw = `{"event":"media","streamSid":"MZ123","note":"héllo ✓ 😀","media":{"track":"inbound","chunk":"7","payload":"${PAYLOAD}","x":"ü"}}`;
    const parsed = JSON.parse(raw);
    expect(read(raw)).toEqual({ streamSid: parsed.streamSid, track: parsed.media.track, chunk: Number(parsed.media.chunk), payload: parsed.media.payload });
    const other = read(raw.replace('"inbound"', '"ünbound"'));
    expect(other?.track).toBe('ünbound');
  });

  it('reads a message where it lies in a larger read, and nothing beyond its end', () => {
    const before = Buffer.from('\x81\xfe??');
    const after = Buffer.from('"\\"}}');
    const bytes = Buffer.concat([before, Buffer.from(TWILIO), after]);
    const f = newMediaFields();
    expect(readMediaMessage(bytes, f, before.length, bytes.length - after.length)).toBe(true);
    expect({ track: f.track, chunk: f.chunk, payload: f.payload }).toEqual({ track: 'inbound', chunk: 3, payload: PAYLOAD });
    expect(hasStreamSid(bytes, f, Buffer.from('MZ123'))).toBe(true);
    // Cut short by its end: not a whole message, whatever follows in the read.
    expect(readMediaMessage(bytes, f, before.length, bytes.length - after.length - 1)).toBe(false);
    expect(readMediaMessage(bytes, f, before.length, before.length + 40)).toBe(false);
  });

  it('compares the streamSid in place: the same sid, another one, none', () => {
    const f = newMediaFields();
    const bytes = Buffer.from(TWILIO);
    expect(readMediaMessage(bytes, f)).toBe(true);
    expect(hasStreamSid(bytes, f, Buffer.from('MZ123'))).toBe(true);
    expect(hasStreamSid(bytes, f, Buffer.from('MZ124'))).toBe(false);
    expect(hasStreamSid(bytes, f, Buffer.from('MZ12'))).toBe(false);
    const without = Buffer.from(TWILIO.replace(',"streamSid":"MZ123"', ''));
    expect(readMediaMessage(without, f)).toBe(true);
    expect(f.streamSidStart).toBe(-1);
    expect(hasStreamSid(without, f, Buffer.from('MZ123'))).toBe(false);
  });

  it('reads Twilio’s media message: track, chunk, payload and streamSid', () => {
    expect(read(TWILIO)).toEqual({ streamSid: 'MZ123', track: 'inbound', chunk: 3, payload: PAYLOAD });
  });

  it('reads the same message in any field order, with whitespace and with fields Twilio may add', () => {
    const pretty = JSON.stringify(JSON.parse(TWILIO), null, 2);
    expect(read(pretty)).toEqual(read(TWILIO));
    const reordered = `{ "streamSid": "MZ123", "media": { "payload": "${PAYLOAD}", "chunk": "3", "track": "inbound", "extra": "x" }, "event": "media", "new": {"a": "b"} }`;
    expect(read(reordered)).toEqual({ streamSid: 'MZ123', track: 'inbound', chunk: 3, payload: PAYLOAD });
  });

  it('says "not mine" for anything of another shape, so that JSON.parse reads it', () => {
    // A number, a boolean, an array or null where strings were; an escape; a nested object too deep.
    expect(read(TWILIO.replace('"sequenceNumber":"4"', '"sequenceNumber":4'))).toBeUndefined();
    expect(read(TWILIO.replace('"chunk":"3"', '"chunk":3'))).toBeUndefined();
    expect(read(TWILIO.replace('"streamSid":"MZ123"', '"streamSid":"MZ123","tracks":["inbound"]'))).toBeUndefined();
    expect(read(TWILIO.replace('"streamSid":"MZ123"', '"streamSid":null'))).toBeUndefined();
    expect(read(TWILIO.replace('"streamSid":"MZ123"', '"streamSid":"MZ\\u0031"'))).toBeUndefined();
    expect(read(TWILIO.replace('"timestamp":"60"', '"timestamp":{"a":{"b":"c"}}'))).toBeUndefined();
    // Not media, or not finished.
    expect(read('{"event":"mark","streamSid":"MZ123","mark":{"name":"m1"}}')).toBeUndefined();
    expect(read('{"event":"media","streamSid":"MZ123"}')).toBeUndefined();
    expect(read(TWILIO.slice(0, -1))).toBeUndefined();
    expect(read(TWILIO + 'x')).toBeUndefined();
    expect(read('{}')).toBeUndefined();
    expect(read('')).toBeUndefined();
  });

  it('a chunk that is not a whole number reads as NaN (not ordered), as Number() of it would be', () => {
    expect(read(TWILIO.replace('"chunk":"3"', '"chunk":"3a"'))?.chunk).toBeNaN();
    expect(read(TWILIO.replace('"chunk":"3",', ''))?.chunk).toBeNaN();
  });

  it('builds media and mark messages that parse to what JSON.stringify would have sent', () => {
    const out = new MediaMessages('MZ"odd');
    expect(JSON.parse(out.media(PAYLOAD))).toEqual({ event: 'media', streamSid: 'MZ"odd', media: { payload: PAYLOAD } });
    expect(JSON.parse(out.mark('clause-1 "x"'))).toEqual({ event: 'mark', streamSid: 'MZ"odd', mark: { name: 'clause-1 "x"' } });
  });

  it('builds the same messages as whole WebSocket text frames (header, then the text), short or long, any characters', () => {
    /** The text of a server frame (unmasked, final, text), checking its header. */
    const textOf = (frame: Buffer): string => {
      expect(frame[0]).toBe(0x81);
      const b1 = frame[1]!;
      const [length, at] = b1 < 126 ? [b1, 2] : b1 === 126 ? [frame.readUInt16BE(2), 4] : [Number(frame.readBigUInt64BE(2)), 10];
      expect(frame.length).toBe(at + length);
      return frame.toString('utf8', at);
    };
    const out = new MediaMessages('MZ"odd');
    const long = Buffer.alloc(640, 7).toString('base64');
    for (const payload of [PAYLOAD, long, '']) expect(textOf(out.mediaFrame(payload))).toBe(out.media(payload));
    for (const name of ['c-1', 'clause "é" 日本 🎧', 'n'.repeat(70_000)]) expect(textOf(out.markFrame(name))).toBe(out.mark(name));
  });
});
