import { randomBytes, randomUUID } from 'node:crypto';

/** A carrier-style call sid: `CA` followed by 32 lowercase hex digits (as Twilio's). */
export function newCallSid(): string {
  return 'CA' + randomBytes(16).toString('hex');
}

export function newId(): string {
  return randomUUID();
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export function isUuid(s: string): boolean {
  return UUID_RE.test(s);
}

const SID_RE = /^CA[0-9a-f]{32}$/;
export function isCallSid(s: string): boolean {
  return SID_RE.test(s);
}
