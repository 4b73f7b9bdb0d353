/**
 * Google Calendar API v3 over an authorised OAuth2Client (google-auth-library): freeBusy.query and
 * events.insert / patch / delete on the primary calendar. The client adds the bearer token, refreshes it
 * before it expires (and once on a 401), and retries nothing else. Four calls do not justify the generated
 * `googleapis` client (tens of megabytes); they are written against the documented wire format here.
 */
import type { OAuth2Client } from 'google-auth-library';
import { CalendarError, type BusyInterval, type Calendar, type CalendarEvent, type EventInput } from '../calendar.js';
import { formatInZone } from '../time-zone.js';

interface GoogleEvent {
  id: string;
  summary?: string;
  htmlLink?: string;
  start?: { dateTime?: string; date?: string };
  end?: { dateTime?: string; date?: string };
}

export class GoogleCalendar implements Calendar {
  constructor(
    private readonly client: OAuth2Client,
    private readonly baseUrl: string,
    private readonly calendarId = 'primary',
  ) {}

  async busy(from: number, to: number, timeZone: string): Promise<BusyInterval[]> {
    const body = {
      timeMin: new Date(from).toISOString(),
      timeMax: new Date(to).toISOString(),
      timeZone,
      items: [{ id: this.calendarId }],
    };
    const r = await this.call<{ calendars?: Record<string, { busy?: Array<{ start: string; end: string }>; errors?: Array<{ reason?: string }> }> }>(
      'POST',
      '/freeBusy',
      body,
    );
    const entry = r.calendars?.[this.calendarId];
    if (!entry) throw new CalendarError('provider', 'freeBusy answered without the calendar');
    if (entry.errors?.length) throw new CalendarError(entry.errors[0].reason === 'notFound' ? 'not_found' : 'provider', 'the calendar could not be read');
    return (entry.busy ?? []).map((b) => ({ start: Date.parse(b.start), end: Date.parse(b.end) }));
  }

  async insert(e: EventInput): Promise<CalendarEvent> {
    return toEvent(await this.call<GoogleEvent>('POST', `/calendars/${encodeURIComponent(this.calendarId)}/events?sendUpdates=none`, eventBody(e)));
  }

  async update(id: string, e: EventInput): Promise<CalendarEvent> {
    return toEvent(await this.call<GoogleEvent>('PATCH', `${this.eventPath(id)}?sendUpdates=none`, eventBody(e)));
  }

  async remove(id: string): Promise<void> {
    await this.call('DELETE', `${this.eventPath(id)}?sendUpdates=none`);
  }

  private eventPath(id: string): string {
    return `/calendars/${encodeURIComponent(this.calendarId)}/events/${encodeURIComponent(id)}`;
  }

  private async call<T>(method: 'POST' | 'PATCH' | 'DELETE', path: string, data?: unknown): Promise<T> {
    try {
      const res = await this.client.request<T>({ url: this.baseUrl + path, method, data, retry: false });
      return res.data;
    } catch (err) {
      throw classify(err);
    }
  }
}

function eventBody(e: EventInput) {
  return {
    summary: e.title,
    ...(e.description ? { description: e.description } : {}),
    start: { dateTime: formatInZone(e.start, e.timeZone), timeZone: e.timeZone },
    end: { dateTime: formatInZone(e.end, e.timeZone), timeZone: e.timeZone },
  };
}

function toEvent(g: GoogleEvent): CalendarEvent {
  const start = Date.parse(g.start?.dateTime ?? g.start?.date ?? '');
  const end = Date.parse(g.end?.dateTime ?? g.end?.date ?? '');
  if (!g.id || !Number.isFinite(start) || !Number.isFinite(end)) throw new CalendarError('provider', 'the calendar answered with an event it did not describe');
  return { id: g.id, title: g.summary ?? '', start, end, ...(g.htmlLink ? { link: g.htmlLink } : {}) };
}

/**
 * Google's `{error: {code, status}}` and OAuth's `{error: "invalid_grant"}` as one kind of failure. The
 * client's error is not kept as the cause: it carries the request (client secret, refresh token), and
 * causes end up in logs. Only its status and OAuth error code are kept.
 */
export function classify(err: unknown): CalendarError {
  if (err instanceof CalendarError) return err;
  const e = err as { status?: number; code?: unknown; response?: { status?: number; data?: unknown } };
  const status = e.response?.status ?? (typeof e.status === 'number' ? e.status : undefined);
  const data = e.response?.data as { error?: unknown } | undefined;
  const oauth = typeof data?.error === 'string' ? data.error.slice(0, 64) : undefined;
  if (oauth === 'invalid_grant' || status === 401) return new CalendarError('auth', 'the calendar authorization is no longer valid', status, oauth);
  if (status === 404 || status === 410) return new CalendarError('not_found', 'no such event in the calendar', status, oauth);
  // No status: the request never got an answer (refused connection, timeout, DNS).
  return new CalendarError('provider', status ? 'the calendar provider failed' : 'the calendar provider could not be reached', status, oauth);
}
