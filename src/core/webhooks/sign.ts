/**
 * Webhook signatures, one format for every face that signs (FACES.md):
 * `X-Callmycall-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`.
 * The timestamp is inside the signed text so a captured delivery can't be replayed later with a new `t`.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** The header carrying the signature (HTTP header names are case-insensitive). */
export const SIGNATURE_HEADER = 'X-Callmycall-Signature';

function hmacHex(secret: string, unixSeconds: number, rawBody: string | Buffer): string {
  return createHmac('sha256', secret).update(`${unixSeconds}.`).update(rawBody).digest('hex');
}

/**
 * The header value for `rawBody` signed at `unixSeconds`.
 * @example signWebhook('whsec_…', '{"event":"call_completed"}', 1739511142) // 't=1739511142,v1=5f2b…'
 */
export function signWebhook(secret: string, rawBody: string | Buffer, unixSeconds: number): string {
  return `t=${unixSeconds},v1=${hmacHex(secret, unixSeconds, rawBody)}`;
}

/** `t` and every `v1` of a header; null when malformed. Several `v1` are allowed (secret rotation). */
function parseHeader(header: string): { t: number; v1: string[] } | null {
  let t: number | undefined;
  const v1: string[] = [];
  for (const part of header.split(',')) {
    const [k, v] = part.trim().split('=', 2);
    if (k === 't' && v && /^\d+$/.test(v)) t = Number(v);
    else if (k === 'v1' && v && /^[0-9a-f]{64}$/i.test(v)) v1.push(v.toLowerCase());
  }
  return t === undefined || v1.length === 0 ? null : { t, v1 };
}

/**
 * Whether `header` is a valid signature of `rawBody` (the exact bytes received, before any JSON parsing)
 * made with `secret` no more than `toleranceSeconds` away from `now` (unix seconds). For receivers and tests.
 */
export function verifyWebhookSignature(
  secret: string,
  header: string | undefined | null,
  rawBody: string | Buffer,
  toleranceSeconds = 300,
  now: number = Math.floor(Date.now() / 1000),
): boolean {
  const parsed = header ? parseHeader(header) : null;
  if (!parsed || Math.abs(now - parsed.t) > toleranceSeconds) return false;
  const expected = Buffer.from(hmacHex(secret, parsed.t, rawBody), 'hex');
  // Constant-time compare so the signature can't be guessed byte by byte from response times.
  return parsed.v1.some((v) => timingSafeEqual(Buffer.from(v, 'hex'), expected));
}
