/**
 * CalDAV as a second calendar (issue 13 §3): an API key connects a CalDAV calendar collection with its URL and
 * credentials (checked against the server first, stored sealed), on a server with no Google configured at
 * all; a simulated call with `enable_calendar` then books in it — Smile Dental's receptionist offers two
 * times, the first is taken by an appointment already in the calendar, the agent books the second — and the
 * booking is an iCalendar object on the CalDAV server the test started. The calendar itself: free/busy with
 * recurring and transparent events, move and cancel, refused credentials.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../helpers/backends.js';
import { startSwitchboard, until, type TestSwitchboard } from '../helpers/switchboard.js';
import { startFakeCaldav, type FakeCaldav } from '../fakes/caldav/fake-caldav.js';
import { startWebhookReceiver, type WebhookReceiver } from '../fakes/webhook-receiver.js';
import { CaldavCalendar } from '../../src/core/calendar/caldav/caldav-calendar.js';
import { CalendarError } from '../../src/core/calendar/calendar.js';

const DENTIST = '+15550180';
const TASK = 'Book a dental check-up at Smile Dental';

/** An appointment already in the calendar: Tuesday 6 January 2026, 10–11 in Stockholm (09–10 UTC). */
const TUESDAY_MORNING = [
  'BEGIN:VCALENDAR',
  'VERSION:2.0',
  'PRODID:-//Test//EN',
  'BEGIN:VEVENT',
  'UID:existing-1',
  'DTSTAMP:20251220T120000Z',
  'DTSTART:20260106T090000Z',
  'DTEND:20260106T100000Z',
  'SUMMARY:Team meeting',
  'END:VEVENT',
  'END:VCALENDAR',
  '',
].join('\r\n');

function vevent(uid: string, lines: string[]): string {
  return ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//Test//EN', 'BEGIN:VEVENT', `UID:${uid}`, 'DTSTAMP:20251220T120000Z', ...lines, 'END:VEVENT', 'END:VCALENDAR', ''].join('\r\n');
}

for (const backend of BACKENDS) {
  describe(`CalDAV calendar [${backend.name}]`, () => {
    let t: TestSwitchboard;
    let dav: FakeCaldav;
    let rx: WebhookReceiver;
    let headers: Record<string, string>;

    beforeAll(async () => {
      dav = await startFakeCaldav();
      rx = await startWebhookReceiver();
      // No GOOGLE_CLIENT_ID: CalDAV needs no OAuth client.
      t = await startSwitchboard(backend, { SHUTDOWN_GRACE_SECONDS: '1' });
      headers = { authorization: `Bearer ${t.key}` };
    });
    afterAll(async () => {
      await t.close();
      await rx.close();
      await dav.close();
    });

    const connect = (body: Record<string, unknown>, h = headers) => t.sb.app.inject({ method: 'POST', url: '/v1/calendar/caldav', headers: h, payload: body });
    const status = async () => (await t.sb.app.inject({ method: 'GET', url: '/calendar/status', headers })).json();

    it('connects a calendar collection only with working credentials and a calendar URL, stored sealed', async () => {
      const wrong = await connect({ url: dav.calendarUrl, username: dav.username, password: 'wrong' });
      expect(wrong.statusCode).toBe(400);
      expect(wrong.json()).toMatchObject({ error: 'Failed to connect the CalDAV calendar' });
      expect(wrong.json().details).toMatch(/refused the username and password/);
      const notCalendar = await connect({ url: `${dav.url}/calendars/${dav.username}/nothing/`, username: dav.username, password: dav.password });
      expect(notCalendar.statusCode).toBe(400);
      expect(notCalendar.json().details).toMatch(/not a CalDAV calendar collection/);
      expect((await connect({ url: 'ftp://example.com/cal', username: 'a', password: 'b' })).statusCode).toBe(400);
      expect((await connect({ url: dav.calendarUrl, username: dav.username })).statusCode).toBe(400);
      expect(await status()).toMatchObject({ authorized: false, provider: null });

      const ok = await connect({ url: dav.calendarUrl, username: dav.username, password: dav.password });
      expect(ok.statusCode, ok.body).toBe(200);
      expect(ok.json()).toEqual({ success: true, provider: 'caldav' });
      expect(await status()).toEqual({ authorized: true, provider: 'caldav', scopes: [], expires_at: null });
      const row = await t.sb.store.db.selectFrom('calendar_grants').selectAll().executeTakeFirstOrThrow();
      expect(row.provider).toBe('caldav');
      expect(row.sealed_tokens).not.toContain(dav.password);
      expect(row.sealed_tokens).not.toContain(dav.username);
    });

    it('a call books the first offered time the calendar has free, as an iCalendar object on the CalDAV server', async () => {
      dav.put('existing-1.ics', TUESDAY_MORNING);
      const r = await t.sb.app.inject({
        method: 'POST',
        url: '/v1/start-call',
        headers,
        payload: {
          phone_number: DENTIST,
          task: TASK,
          language: 'en',
          persona: { name: 'Alex Smith' },
          enable_calendar: true,
          calendar_permissions: { read: true, write: true },
          metadata: { time_zone: 'Europe/Stockholm' },
          webhook: rx.url,
        },
      });
      expect(r.statusCode, r.body).toBe(200);
      const sid = r.json().sid as string;
      const hook = await until(async () => rx.received.find((w) => w.json.event === 'call_completed' && w.json.sid === sid), 30_000, 'call_completed');
      const data = hook.json.data;

      // Wednesday 14:00 in Stockholm, 30 minutes, written in UTC; the existing appointment untouched.
      const booked = dav.events().filter((e) => e.uid !== 'existing-1');
      expect(booked).toEqual([expect.objectContaining({ summary: TASK, start: '2026-01-07T13:00:00.000Z', end: '2026-01-07T13:30:00.000Z' })]);
      expect(dav.events().find((e) => e.uid === 'existing-1')).toMatchObject({ start: '2026-01-06T09:00:00.000Z' });
      // Free/busy was asked with a calendar-query over the offered time.
      const reports = dav.received.filter((q) => q.method === 'REPORT');
      expect(reports.length).toBeGreaterThan(0);
      expect(reports[0].body).toMatch(/calendar-query/);
      expect(reports[0].body).toMatch(/time-range[^>]*start="20260106T090000Z"/);

      const lines = data.transcripts.map((s: any) => `${s.role}: ${s.content}`).join('\n');
      expect(lines).toMatch(/Wednesday at 2 pm works for me/);
      expect(data.summary.text).toContain(`Booked "${TASK}" for 2026-01-07 14:00 (Europe/Stockholm).`);
      expect(data.extracted.calendar_bookings).toEqual([
        expect.objectContaining({ event_id: `${dav.url}${booked[0].path}`, start: '2026-01-07T14:00:00+01:00', time_zone: 'Europe/Stockholm', status: 'booked' }),
      ]);
    });

    it('the calendar: recurring events are busy, transparent ones are not; moving and cancelling change the object', async () => {
      const cal = new CaldavCalendar({ url: dav.calendarUrl, username: dav.username, password: dav.password });
      dav.objects.clear();
      // Every Monday 08:00–09:00 UTC from 5 January 2026; a transparent all-afternoon reminder on Monday 12 January.
      dav.put('weekly.ics', vevent('weekly', ['DTSTART:20260105T080000Z', 'DTEND:20260105T090000Z', 'RRULE:FREQ=WEEKLY;BYDAY=MO', 'SUMMARY:Standup']));
      dav.put('reminder.ics', vevent('reminder', ['DTSTART:20260112T120000Z', 'DTEND:20260112T170000Z', 'TRANSP:TRANSPARENT', 'SUMMARY:Remember']));
      const from = Date.parse('2026-01-12T00:00:00Z');
      const to = Date.parse('2026-01-13T00:00:00Z');
      expect(await cal.busy(from, to)).toEqual([{ start: Date.parse('2026-01-12T08:00:00Z'), end: Date.parse('2026-01-12T09:00:00Z') }]);

      const tz = 'Europe/Stockholm';
      const made = await cal.insert({ title: 'Haircut, "short"; please', start: Date.parse('2026-01-12T10:00:00Z'), end: Date.parse('2026-01-12T10:30:00Z'), timeZone: tz });
      expect(made.id.startsWith(dav.calendarUrl)).toBe(true);
      expect(await cal.busy(from, to)).toHaveLength(2);
      const moved = await cal.update(made.id, { title: 'Haircut, "short"; please', start: Date.parse('2026-01-12T14:00:00Z'), end: Date.parse('2026-01-12T14:30:00Z'), timeZone: tz });
      expect(moved.id).toBe(made.id);
      const mine = () => dav.events().filter((e) => e.uid !== 'weekly' && e.uid !== 'reminder');
      // One object, moved, with its title intact (escaped on the wire).
      expect(mine()).toEqual([expect.objectContaining({ summary: 'Haircut, "short"; please', start: '2026-01-12T14:00:00.000Z' })]);
      await cal.remove(made.id);
      expect(mine()).toEqual([]);
      await expect(cal.remove(made.id)).rejects.toMatchObject({ kind: 'not_found' });
      // Only objects of this collection are touched.
      await expect(cal.remove(`${dav.url}/calendars/someone-else/personal/x.ics`)).rejects.toBeInstanceOf(CalendarError);

      const locked = new CaldavCalendar({ url: dav.calendarUrl, username: dav.username, password: 'changed' });
      await expect(locked.busy(from, to)).rejects.toMatchObject({ kind: 'auth' });
      await expect(locked.insert({ title: 'x', start: from, end: from + 1800_000, timeZone: tz })).rejects.toMatchObject({ kind: 'auth' });
    });

    it('disconnecting forgets it: status says so, and enable_calendar is refused naming the field', async () => {
      const gone = await t.sb.app.inject({ method: 'DELETE', url: '/v1/calendar/caldav', headers });
      expect(gone.statusCode, gone.body).toBe(200);
      expect(await status()).toMatchObject({ authorized: false, provider: null });
      expect((await t.sb.app.inject({ method: 'DELETE', url: '/v1/calendar/caldav', headers })).statusCode).toBe(404);
      const r = await t.sb.app.inject({ method: 'POST', url: '/v1/start-call', headers, payload: { phone_number: DENTIST, task: TASK, enable_calendar: true } });
      expect(r.statusCode).toBe(400);
      expect(r.json()).toMatchObject({ field: 'enable_calendar' });
    });
  });
}
