/**
 * A CalDAV calendar collection (RFC 4791) behind the Calendar interface: busy times from a `calendar-query`
 * REPORT with a time range, appointments written as one iCalendar object each (`PUT {collection}/{uid}.ics`,
 * `If-None-Match: *` for a new one), moved by writing the object again and cancelled with `DELETE`.
 * WebDAV requests go through `tsdav` (a maintained CalDAV client); iCalendar is read and written with
 * `ical.js` (line folding, escaping, recurrence rules). HTTP Basic authentication, as CalDAV servers
 * (Nextcloud, Radicale, Fastmail, iCloud with an app password) accept it.
 *
 * Events are written in UTC: a named zone would need its VTIMEZONE definition in the object, and every
 * calendar client shows UTC times in its user's own zone anyway.
 */
import { randomUUID } from 'node:crypto';
import ICAL from 'ical.js';
import { calendarQuery, createCalendarObject, deleteCalendarObject, getBasicAuthHeaders, propfind, updateCalendarObject } from 'tsdav';
import { CalendarError, type BusyInterval, type Calendar, type CalendarEvent, type EventInput } from '../calendar.js';

/** Where a CalDAV calendar is and who may use it (stored sealed: core/calendar/connections.ts). */
export interface CaldavAccount {
  /** The calendar collection's URL (`https://…/calendars/alex/personal/`). */
  url: string;
  username: string;
  password: string;
}

/** How many occurrences of one recurring event are looked at within a window (a guard against endless rules). */
const MAX_OCCURRENCES = 2000;

/** A WebDAV answer's status → a calendar error: 401/403 the credentials, 404 the collection, anything else the server. */
function failure(status: number | undefined, what: string): CalendarError {
  if (status === 401 || status === 403) return new CalendarError('auth', `the CalDAV server refused the credentials (${what})`, status);
  if (status === 404 || status === 410) return new CalendarError('not_found', `the CalDAV calendar was not found (${what})`, status);
  return new CalendarError('provider', `the CalDAV server failed (${what})`, status);
}

/** `19970714T170000Z` in a time-range attribute (RFC 4791 §9.9). */
function utcStamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

export class CaldavCalendar implements Calendar {
  private readonly url: string;
  private readonly headers: Record<string, string>;

  constructor(account: CaldavAccount) {
    this.url = account.url.endsWith('/') ? account.url : account.url + '/';
    this.headers = getBasicAuthHeaders({ username: account.username, password: account.password });
  }

  /** Checks that the URL is a calendar collection these credentials may read (before a connection is stored). */
  async check(): Promise<void> {
    let r;
    try {
      [r] = await propfind({ url: this.url, props: { 'd:resourcetype': {}, 'd:displayname': {} }, depth: '0', headers: this.headers });
    } catch (err) {
      throw new CalendarError('provider', 'the CalDAV server could not be reached', undefined, undefined, { cause: err });
    }
    if (!r?.ok) throw failure(r?.status, 'PROPFIND');
    const type = r.props?.resourcetype as Record<string, unknown> | undefined;
    if (!type || !('calendar' in type)) throw new CalendarError('not_found', 'the URL is not a CalDAV calendar collection', r.status);
  }

  async busy(from: number, to: number): Promise<BusyInterval[]> {
    const filters = {
      'c:comp-filter': {
        _attributes: { name: 'VCALENDAR' },
        'c:comp-filter': { _attributes: { name: 'VEVENT' }, 'c:time-range': { _attributes: { start: utcStamp(from), end: utcStamp(to) } } },
      },
    };
    let responses;
    try {
      responses = await calendarQuery({ url: this.url, props: { 'd:getetag': {}, 'c:calendar-data': {} }, filters, depth: '1', headers: this.headers });
    } catch (err) {
      // tsdav throws on a refused REPORT, with the status only in its message ("Collection query failed: 401 …").
      const status = /Collection query failed: (\d{3})/.exec(err instanceof Error ? err.message : '')?.[1];
      if (status) throw failure(Number(status), 'REPORT');
      throw new CalendarError('provider', 'the CalDAV server could not be reached', undefined, undefined, { cause: err });
    }
    const out: BusyInterval[] = [];
    for (const r of responses) {
      if (!r.ok) throw failure(r.status, 'REPORT');
      const data = r.props?.calendarData as { _cdata?: string } | string | undefined;
      const text = typeof data === 'string' ? data : data?._cdata;
      if (text) out.push(...busyIn(text, from, to));
    }
    return out;
  }

  async insert(e: EventInput): Promise<CalendarEvent> {
    const uid = randomUUID();
    const filename = `${uid}.ics`;
    const res = await this.send(() => createCalendarObject({ calendar: { url: this.url }, filename, iCalString: icsOf(uid, e), headers: this.headers }), 'PUT');
    if (!res.ok) throw failure(res.status, 'PUT');
    return { id: new URL(filename, this.url).href, title: e.title, start: e.start, end: e.end };
  }

  /** Writes the event again at its URL (same UID): CalDAV has no partial update. */
  async update(id: string, e: EventInput): Promise<CalendarEvent> {
    const url = this.own(id);
    const uid = decodeURIComponent(url.slice(this.url.length).replace(/\.ics$/, ''));
    const res = await this.send(() => updateCalendarObject({ calendarObject: { url, data: icsOf(uid, e) }, headers: this.headers }), 'PUT');
    if (!res.ok) throw failure(res.status, 'PUT');
    return { id: url, title: e.title, start: e.start, end: e.end };
  }

  async remove(id: string): Promise<void> {
    const url = this.own(id);
    const res = await this.send(() => deleteCalendarObject({ calendarObject: { url }, headers: this.headers }), 'DELETE');
    if (!res.ok) throw failure(res.status, 'DELETE');
  }

  /** An event id is the object's URL; only objects in this collection are ever touched. */
  private own(id: string): string {
    if (!id.startsWith(this.url) || id.slice(this.url.length).includes('/')) throw new CalendarError('not_found', 'not an event of this calendar');
    return id;
  }

  private async send(request: () => Promise<Response>, what: string): Promise<Response> {
    try {
      return await request();
    } catch (err) {
      throw new CalendarError('provider', `the CalDAV server could not be reached (${what})`, undefined, undefined, { cause: err });
    }
  }
}

/** One VEVENT in a VCALENDAR, in UTC. */
function icsOf(uid: string, e: EventInput): string {
  const calendar = new ICAL.Component(['vcalendar', [], []]);
  calendar.updatePropertyWithValue('version', '2.0');
  calendar.updatePropertyWithValue('prodid', '-//Switchboard//Calendar//EN');
  const vevent = new ICAL.Component('vevent');
  const event = new ICAL.Event(vevent);
  event.uid = uid;
  event.summary = e.title;
  if (e.description) event.description = e.description;
  event.startDate = ICAL.Time.fromJSDate(new Date(e.start), true);
  event.endDate = ICAL.Time.fromJSDate(new Date(e.end), true);
  vevent.updatePropertyWithValue('dtstamp', ICAL.Time.fromJSDate(new Date(), true));
  calendar.addSubcomponent(vevent);
  return calendar.toString();
}

/**
 * The busy intervals of one calendar object within [from, to): each VEVENT that blocks time (not
 * `TRANSP:TRANSPARENT`, not cancelled), recurring ones expanded occurrence by occurrence. Unparseable
 * objects are skipped (they are not ours, and a bad one must not hide the others).
 */
export function busyIn(ics: string, from: number, to: number): BusyInterval[] {
  let calendar: ICAL.Component;
  try {
    calendar = new ICAL.Component(ICAL.parse(ics) as unknown[]);
  } catch {
    return [];
  }
  const out: BusyInterval[] = [];
  for (const vevent of calendar.getAllSubcomponents('vevent')) {
    if (String(vevent.getFirstPropertyValue('transp') ?? '').toUpperCase() === 'TRANSPARENT') continue;
    if (String(vevent.getFirstPropertyValue('status') ?? '').toUpperCase() === 'CANCELLED') continue;
    const event = new ICAL.Event(vevent);
    const add = (start: ICAL.Time, end: ICAL.Time) => {
      const s = start.toJSDate().getTime();
      const e = end.toJSDate().getTime();
      if (s < to && e > from) out.push({ start: s, end: e });
    };
    if (!event.isRecurring()) {
      add(event.startDate, event.endDate);
      continue;
    }
    const it = event.iterator();
    for (let n = 0, next = it.next(); next && n < MAX_OCCURRENCES; n++, next = it.next()) {
      if (next.toJSDate().getTime() >= to) break;
      const o = event.getOccurrenceDetails(next);
      add(o.startDate, o.endDate);
    }
  }
  return out;
}
