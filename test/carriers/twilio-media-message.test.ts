/**
 * The fast reader of Twilio's inbound `media` messages and the outbound templates (src/carriers/twilio/media-message.ts):
 * whatever it reads, it reads as JSON.parse would; whatever it does not know, it leaves to JSON.parse.
 */
import { describe, expect, it } from 'vitest';
import { MediaMessages, newMediaFields, readMediaMessage } from '../../src/carriers/twilio/media-message.js';

const PAYLOAD = Buffer.alloc(160, 0x7f).toString('base64');
/** A media message exactly as Twilio sends it (protocols.md §4). */
const TWILIO = `{"event":"media","sequenceNumber":"4","media":{"track":"inbound","chunk":"3","timestamp":"60","payload":"${PAYLOAD}"},"streamSid":"MZ123"}`;

function read(raw: string) {
  const f = newMediaFields();
  return readMediaMessage(raw, f) ? { ...f } : undefined;
}

describe('Twilio media messages without JSON.parse', () => {
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
});
