/**
 * What a call's agent may ask of the calendar, and how each request is carried out: find free times, book,
 * move or cancel, in the call's time zone. Reading needs `calendar_permissions.read`, changing needs
 * `write`. Only events booked on the same call may be moved or cancelled: the agent cannot touch the rest
 * of the client's calendar. Results are plain data for the agent (local times with their offset).
 */
import { CalendarError, freeSlots, type Calendar, type CalendarEvent } from './calendar.js';
import { formatInZone, parseTime } from './time-zone.js';

export type CalendarRequest =
  | { op: 'find_free_slots'; from: string; to: string; durationMinutes: number }
  | { op: 'book'; start: string; durationMinutes: number; title: string; notes?: string }
  | { op: 'move'; eventId: string; start: string; durationMinutes?: number }
  | { op: 'cancel'; eventId: string };

/** A booking the agent made (or changed) on a call: shown in the call's summary, report and webhook. */
export interface CalendarBooking {
  event_id: string;
  title: string;
  /** Local time with offset, in `time_zone`. */
  start: string;
  end: string;
  time_zone: string;
  status: 'booked' | 'moved' | 'cancelled';
  link?: string;
}

export type CalendarOutcome =
  | { ok: true; data: Record<string, unknown>; booking?: CalendarBooking }
  | { ok: false; error: 'not_allowed' | 'unavailable' | 'failed'; message: string };

export interface CalendarCallContext {
  timeZone: string;
  permissions: { read: boolean; write: boolean };
  /** The bookings made on this call so far, by event id (what may be moved or cancelled). */
  booked: Map<string, CalendarBooking>;
  /** Now (the call's clock), so that nothing is booked in the past. */
  now: number;
}

const MINUTE = 60_000;
/** Half-hour steps: the times people offer and accept. */
const SLOT_STEP_MS = 30 * MINUTE;
const MAX_SLOTS = 8;
const MAX_WINDOW_MS = 14 * 24 * 60 * MINUTE;

const refuse = (message: string): CalendarOutcome => ({ ok: false, error: 'not_allowed', message });
const invalid = (message: string): CalendarOutcome => ({ ok: false, error: 'failed', message });

function duration(minutes: unknown): number | null {
  return typeof minutes === 'number' && Number.isInteger(minutes) && minutes >= 5 && minutes <= 480 ? minutes * MINUTE : null;
}

/** Carries out one request against `calendar` (null: the API key has no calendar connected). */
export async function runCalendarRequest(calendar: Calendar | null, r: CalendarRequest, ctx: CalendarCallContext): Promise<CalendarOutcome> {
  const changes = r.op !== 'find_free_slots';
  if (changes ? !ctx.permissions.write : !ctx.permissions.read) {
    return refuse(changes ? 'This call may not change the calendar (calendar_permissions.write is false).' : 'This call may not read the calendar.');
  }
  if (!calendar) return { ok: false, error: 'unavailable', message: 'No calendar is connected for this call.' };
  try {
    switch (r.op) {
      case 'find_free_slots':
        return await find(calendar, r, ctx);
      case 'book':
        return await book(calendar, r, ctx);
      case 'move':
        return await move(calendar, r, ctx);
      case 'cancel':
        return await cancel(calendar, r, ctx);
    }
  } catch (err) {
    if (err instanceof CalendarError && err.kind === 'auth') return { ok: false, error: 'unavailable', message: 'The calendar is no longer connected.' };
    if (err instanceof CalendarError && err.kind === 'not_found') return invalid('That event is no longer in the calendar.');
    return invalid('The calendar could not be reached; try again or carry on without it.');
  }
}

async function find(calendar: Calendar, r: Extract<CalendarRequest, { op: 'find_free_slots' }>, ctx: CalendarCallContext): Promise<CalendarOutcome> {
  const from = parseTime(r.from, ctx.timeZone);
  const to = parseTime(r.to, ctx.timeZone);
  const len = duration(r.durationMinutes);
  if (from === null || to === null) return invalid('from and to must be local times such as 2026-01-07T09:00.');
  if (len === null) return invalid('duration_minutes must be a whole number from 5 to 480.');
  const start = Math.max(from, ctx.now);
  if (to <= start) return invalid('The window is over or empty: ask about a later time.');
  if (to - start > MAX_WINDOW_MS) return invalid('Ask about at most 14 days at a time.');
  const busy = await calendar.busy(start, to, ctx.timeZone);
  const slots = freeSlots(busy, start, to, len, SLOT_STEP_MS, MAX_SLOTS);
  return {
    ok: true,
    data: {
      time_zone: ctx.timeZone,
      free_slots: slots.map((s) => ({ start: formatInZone(s.start, ctx.timeZone), end: formatInZone(s.end, ctx.timeZone) })),
    },
  };
}

function view(e: CalendarEvent, tz: string, status: CalendarBooking['status']): CalendarBooking {
  return {
    event_id: e.id,
    title: e.title,
    start: formatInZone(e.start, tz),
    end: formatInZone(e.end, tz),
    time_zone: tz,
    status,
    ...(e.link ? { link: e.link } : {}),
  };
}

async function book(calendar: Calendar, r: Extract<CalendarRequest, { op: 'book' }>, ctx: CalendarCallContext): Promise<CalendarOutcome> {
  const start = parseTime(r.start, ctx.timeZone);
  const len = duration(r.durationMinutes);
  if (start === null) return invalid('start must be a local time such as 2026-01-07T14:00.');
  if (len === null) return invalid('duration_minutes must be a whole number from 5 to 480.');
  if (start < ctx.now) return invalid('That time has passed.');
  const title = typeof r.title === 'string' && r.title.trim() ? r.title.trim().slice(0, 200) : 'Appointment';
  // Booked over something else? Say so rather than double-book the client.
  const busy = await calendar.busy(start, start + len, ctx.timeZone);
  if (busy.some((b) => b.start < start + len && b.end > start)) return invalid('The client is busy then: offer or ask for another time.');
  const e = await calendar.insert({ title, description: r.notes?.slice(0, 1000) ?? 'Booked by phone', start, end: start + len, timeZone: ctx.timeZone });
  const booking = view(e, ctx.timeZone, 'booked');
  ctx.booked.set(e.id, booking);
  return { ok: true, data: { booked: true, ...booking }, booking };
}

async function move(calendar: Calendar, r: Extract<CalendarRequest, { op: 'move' }>, ctx: CalendarCallContext): Promise<CalendarOutcome> {
  const prior = ctx.booked.get(r.eventId);
  if (!prior || prior.status === 'cancelled') return refuse('Only an appointment booked on this call can be moved.');
  const start = parseTime(r.start, ctx.timeZone);
  const oldLen = Date.parse(prior.end) - Date.parse(prior.start);
  const len = r.durationMinutes === undefined ? oldLen : duration(r.durationMinutes);
  if (start === null) return invalid('start must be a local time such as 2026-01-07T14:00.');
  if (len === null) return invalid('duration_minutes must be a whole number from 5 to 480.');
  if (start < ctx.now) return invalid('That time has passed.');
  const e = await calendar.update(r.eventId, { title: prior.title, start, end: start + len, timeZone: ctx.timeZone });
  const booking = view(e, ctx.timeZone, 'moved');
  ctx.booked.set(e.id, booking);
  return { ok: true, data: { moved: true, ...booking }, booking };
}

async function cancel(calendar: Calendar, r: Extract<CalendarRequest, { op: 'cancel' }>, ctx: CalendarCallContext): Promise<CalendarOutcome> {
  const prior = ctx.booked.get(r.eventId);
  if (!prior || prior.status === 'cancelled') return refuse('Only an appointment booked on this call can be cancelled.');
  await calendar.remove(r.eventId);
  const booking: CalendarBooking = { ...prior, status: 'cancelled' };
  ctx.booked.set(r.eventId, booking);
  return { ok: true, data: { cancelled: true, event_id: r.eventId }, booking };
}

/** One sentence per booking for the call's summary: "Booked "Check-up" for 2026-01-07 14:00 (Europe/Stockholm)." */
export function bookingSentences(bookings: CalendarBooking[]): string {
  const when = (b: CalendarBooking) => `${b.start.slice(0, 10)} ${b.start.slice(11, 16)} (${b.time_zone})`;
  return bookings
    .map((b) => (b.status === 'cancelled' ? `Cancelled "${b.title}" (was ${when(b)}).` : `${b.status === 'moved' ? 'Moved' : 'Booked'} "${b.title}" for ${when(b)}.`))
    .join(' ');
}
