/** E.164: a plus sign, a non-zero country digit, up to 15 digits in all. */
export const E164_PATTERN = '^\\+[1-9]\\d{1,14}$';
const E164_RE = new RegExp(E164_PATTERN);

export function isE164(s: unknown): s is string {
  return typeof s === 'string' && E164_RE.test(s);
}

/**
 * A phone number as it may appear in logs: country code and the last two digits only.
 * Personal numbers never reach a log line in full.
 */
export function maskPhone(n: string | null | undefined): string {
  if (!n) return '';
  if (n.length <= 5) return '+***';
  return n.slice(0, 3) + '*'.repeat(Math.max(0, n.length - 5)) + n.slice(-2);
}
