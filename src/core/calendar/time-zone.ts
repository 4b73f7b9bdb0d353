/**
 * Wall-clock times in a call's time zone. The agent and the callee speak in local time ("Wednesday at
 * 2 pm"); the calendar API wants instants. Node 20 has no Temporal, and the few conversions needed here are
 * done with the runtime's own zone data (Intl) rather than a date library.
 */
import type { CallRequest } from '../calls/request.js';

/** A local date and time without a zone: 2026-01-07T14:00. */
export interface LocalTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
}

export function isTimeZone(tz: unknown): tz is string {
  if (typeof tz !== 'string' || !tz) return false;
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      weekday: 'short',
    });
    formatters.set(tz, f);
  }
  return f;
}

/** The local time (and weekday, 0 = Sunday) of instant `ms` in `tz`. */
export function localTimeOf(ms: number, tz: string): LocalTime & { weekday: number } {
  const parts = formatter(tz).formatToParts(new Date(ms));
  const get = (t: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === t)?.value ?? '0';
  const weekday = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(get('weekday'));
  return { year: +get('year'), month: +get('month'), day: +get('day'), hour: +get('hour') % 24, minute: +get('minute'), weekday };
}

/** Minutes `tz` is ahead of UTC at instant `ms`. */
export function offsetMinutes(ms: number, tz: string): number {
  const l = localTimeOf(ms, tz);
  const asUtc = Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute);
  return Math.round((asUtc - Math.floor(ms / 60_000) * 60_000) / 60_000);
}

/** The instant a local time in `tz` names (in a DST gap, the moment just after it). */
export function instantOf(t: LocalTime, tz: string): number {
  const guess = Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute);
  const first = guess - offsetMinutes(guess, tz) * 60_000;
  const second = guess - offsetMinutes(first, tz) * 60_000;
  return second;
}

const pad = (n: number, w = 2) => String(Math.abs(n)).padStart(w, '0');

/** `2026-01-07T14:00:00+01:00`: instant `ms` as the local time in `tz`, with its offset (RFC 3339). */
export function formatInZone(ms: number, tz: string): string {
  const l = localTimeOf(ms, tz);
  const off = offsetMinutes(ms, tz);
  const sign = off < 0 ? '-' : '+';
  return `${l.year}-${pad(l.month)}-${pad(l.day)}T${pad(l.hour)}:${pad(l.minute)}:00${sign}${pad(Math.trunc(off / 60))}:${pad(off % 60)}`;
}

const LOCAL_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::\d{2}(?:\.\d+)?)?)?$/;

/**
 * A time as the agent writes it: a local `2026-01-07T14:00` (in the call's zone), a date alone (its
 * midnight), or an instant with an offset (`…Z`, `…+01:00`). Null when it is none of these.
 */
export function parseTime(s: unknown, tz: string): number | null {
  if (typeof s !== 'string') return null;
  const text = s.trim();
  const m = LOCAL_RE.exec(text);
  if (m) {
    const t = { year: +m[1], month: +m[2], day: +m[3], hour: m[4] ? +m[4] : 0, minute: m[5] ? +m[5] : 0 };
    if (t.month < 1 || t.month > 12 || t.day < 1 || t.day > 31 || t.hour > 23 || t.minute > 59) return null;
    return instantOf(t, tz);
  }
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i.test(text)) return null;
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? ms : null;
}

/**
 * Countries with one time zone, by calling code (longest first wins). Countries spanning several zones
 * (+1, +7, +61, …) are left to the call's `metadata.time_zone` or CALENDAR_TIME_ZONE.
 */
const COUNTRY_ZONES: Record<string, string> = {
  '30': 'Europe/Athens',
  '31': 'Europe/Amsterdam',
  '32': 'Europe/Brussels',
  '33': 'Europe/Paris',
  '34': 'Europe/Madrid',
  '36': 'Europe/Budapest',
  '39': 'Europe/Rome',
  '40': 'Europe/Bucharest',
  '41': 'Europe/Zurich',
  '43': 'Europe/Vienna',
  '44': 'Europe/London',
  '45': 'Europe/Copenhagen',
  '46': 'Europe/Stockholm',
  '47': 'Europe/Oslo',
  '48': 'Europe/Warsaw',
  '49': 'Europe/Berlin',
  '351': 'Europe/Lisbon',
  '353': 'Europe/Dublin',
  '354': 'Atlantic/Reykjavik',
  '358': 'Europe/Helsinki',
  '372': 'Europe/Tallinn',
  '371': 'Europe/Riga',
  '370': 'Europe/Vilnius',
  '420': 'Europe/Prague',
  '81': 'Asia/Tokyo',
  '82': 'Asia/Seoul',
  '65': 'Asia/Singapore',
  '64': 'Pacific/Auckland',
  '91': 'Asia/Kolkata',
  '972': 'Asia/Jerusalem',
  '27': 'Africa/Johannesburg',
};

/**
 * The call's time zone, in which the agent speaks of times and books: `metadata.time_zone` (or
 * `timezone`) when it names a zone, else the zone of the number's country when it has only one, else
 * `fallback` (CALENDAR_TIME_ZONE).
 */
export function callTimeZone(req: Pick<CallRequest, 'metadata' | 'to' | 'fromNumber' | 'direction'>, fallback: string): string {
  const meta = req.metadata ?? {};
  for (const k of ['time_zone', 'timezone', 'timeZone']) if (isTimeZone(meta[k])) return meta[k] as string;
  const number = req.direction === 'inbound' ? req.fromNumber : req.to;
  const digits = number?.replace(/^\+/, '') ?? '';
  for (const len of [3, 2]) {
    const zone = COUNTRY_ZONES[digits.slice(0, len)];
    if (zone) return zone;
  }
  return fallback;
}
