/**
 * X-Twilio-Signature (protocols.md §2): base64(HMAC-SHA1(AuthToken, url + sorted form params as name+value)).
 * Used to verify every Twilio callback (HTTP and WebSocket handshakes); the fake Twilio signs with it too.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export type TwilioParams = Record<string, string | string[] | undefined>;

/** The signature Twilio sends for a request to `url` with form `params` (none for GET and WebSocket handshakes). */
export function twilioSignature(authToken: string, url: string, params: TwilioParams = {}): string {
  let data = url;
  const names = Object.keys(params).sort();
  for (const name of names) {
    const v = params[name];
    if (v === undefined) continue;
    const values = Array.isArray(v) ? [...new Set(v)].sort() : [v];
    for (const value of values) data += name + value;
  }
  return createHmac('sha1', authToken).update(Buffer.from(data, 'utf8')).digest('base64');
}

/** Whether `signature` (the header's value) is right for `url` and `params`; compared in constant time. */
export function isValidTwilioSignature(authToken: string, signature: string | undefined, url: string, params: TwilioParams = {}): boolean {
  if (!signature) return false;
  const expected = Buffer.from(twilioSignature(authToken, url, params));
  const got = Buffer.from(signature);
  return expected.length === got.length && timingSafeEqual(expected, got);
}

/** Form-encoded body → params (a repeated name keeps all its values). */
export function parseForm(body: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of new URLSearchParams(body)) {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}
