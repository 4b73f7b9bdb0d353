/**
 * A calendar the agent may read and book in: Google Calendar (./google/) or a CalDAV collection (./caldav/). Times are
 * instants (ms since the epoch); the time zone only decides how events are written and shown.
 */

export interface BusyInterval {
  start: number;
  end: number;
}

export interface EventInput {
  title: string;
  description?: string;
  start: number;
  end: number;
  /** IANA zone the event is written in (what the calendar shows it in). */
  timeZone: string;
}

export interface CalendarEvent {
  id: string;
  title: string;
  start: number;
  end: number;
  /** A link to the event in the calendar's own UI, when it has one. */
  link?: string;
}

export interface Calendar {
  /** Busy intervals of the primary calendar overlapping [from, to). */
  busy(from: number, to: number, timeZone: string): Promise<BusyInterval[]>;
  insert(event: EventInput): Promise<CalendarEvent>;
  /** Moves (or retitles) an event. */
  update(id: string, event: EventInput): Promise<CalendarEvent>;
  remove(id: string): Promise<void>;
}

/**
 * A calendar provider's refusal or failure, classified once: `auth` (the grant is gone: revoked or
 * expired for good), `not_found`, or `provider` (anything else; may be retried later).
 */
export class CalendarError extends Error {
  constructor(
    readonly kind: 'auth' | 'not_found' | 'provider',
    message: string,
    readonly status?: number,
    /** OAuth's error code when the token endpoint refused (`invalid_grant`, `invalid_token`). */
    readonly oauthError?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'CalendarError';
  }
}

/** Free start times of `durationMs` within [from, to), every `stepMs`, that overlap no busy interval. */
export function freeSlots(busy: BusyInterval[], from: number, to: number, durationMs: number, stepMs: number, max: number): BusyInterval[] {
  const out: BusyInterval[] = [];
  // Starts on the step grid (whole half hours), as people offer and accept times.
  for (let s = Math.ceil(from / stepMs) * stepMs; s + durationMs <= to && out.length < max; s += stepMs) {
    const e = s + durationMs;
    if (!busy.some((b) => b.start < e && b.end > s)) out.push({ start: s, end: e });
  }
  return out;
}
