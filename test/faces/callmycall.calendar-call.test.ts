/**
 * A simulated call with `enable_calendar`: Smile Dental's receptionist offers two times; the agent checks
 * the client's (fake) Google Calendar, books the first free one in the call's time zone, and the booking
 * shows in the call's summary, its extracted data and its call_completed webhook.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../helpers/backends.js';
import { startSwitchboard, until, type TestSwitchboard } from '../helpers/switchboard.js';
import { startFakeGoogle, type FakeGoogle } from '../fakes/google/fake-google.js';
import { startWebhookReceiver, type WebhookReceiver } from '../fakes/webhook-receiver.js';

const DENTIST = '+15550180';
const TASK = 'Book a dental check-up at Smile Dental';

for (const backend of BACKENDS) {
  describe(`calendar booking during a call [${backend.name}]`, () => {
    let t: TestSwitchboard;
    let google: FakeGoogle;
    let rx: WebhookReceiver;
    let headers: Record<string, string>;

    beforeAll(async () => {
      google = await startFakeGoogle();
      rx = await startWebhookReceiver();
      t = await startSwitchboard(backend, { ...google.env, SHUTDOWN_GRACE_SECONDS: '1' });
      headers = { authorization: `Bearer ${t.key}` };
      // Connect the key's calendar the way a user does: consent link, Google's redirect, callback.
      const { auth_url } = (await t.sb.app.inject({ method: 'GET', url: '/auth/google/calendar?format=json', headers })).json();
      const back = new URL((await fetch(auth_url, { redirect: 'manual' })).headers.get('location')!);
      expect((await t.sb.app.inject({ method: 'GET', url: back.pathname + back.search })).statusCode).toBe(200);
    });
    afterAll(async () => {
      await t.close();
      await rx.close();
      await google.close();
    });

    async function call(extra: Record<string, unknown>) {
      rx.received.length = 0;
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
          metadata: { time_zone: 'Europe/Stockholm' },
          webhook: rx.url,
          ...extra,
        },
      });
      expect(r.statusCode).toBe(200);
      const sid = r.json().sid as string;
      const hook = await until(async () => rx.received.find((w) => w.json.event === 'call_completed' && w.json.sid === sid), 30_000, 'call_completed');
      return { sid, data: hook.json.data };
    }

    const confirmed = () => [...google.events.values()].filter((e) => e.status === 'confirmed');

    it('books the first offered time the calendar has free, in the call\'s time zone', async () => {
      // The client is busy on Tuesday 10–11 in Stockholm (09–10 UTC): the receptionist's first offer.
      google.busy = [{ start: '2026-01-06T09:00:00Z', end: '2026-01-06T10:00:00Z' }];
      const { sid, data } = await call({ calendar_permissions: { read: true, write: true } });

      expect(confirmed()).toHaveLength(1);
      const event = confirmed()[0];
      expect(event.start).toEqual({ dateTime: '2026-01-07T14:00:00+01:00', timeZone: 'Europe/Stockholm' });
      expect(event.end).toEqual({ dateTime: '2026-01-07T14:30:00+01:00', timeZone: 'Europe/Stockholm' });
      expect(event.summary).toBe(TASK);
      // Free/busy was asked about the offered times, in the call's zone.
      const asked = google.received.filter((q) => q.path === '/calendar/v3/freeBusy').map((q) => q.json);
      expect(asked[0]).toMatchObject({ timeMin: '2026-01-06T09:00:00.000Z', timeZone: 'Europe/Stockholm', items: [{ id: 'primary' }] });

      // What was said: the agent took Wednesday, and the receptionist booked it.
      const lines = data.transcripts.map((s: any) => `${s.role}: ${s.content}`).join('\n');
      expect(lines).toMatch(/Wednesday at 2 pm works for me/);
      expect(lines).toMatch(/booked you in for Wednesday at 2 pm/i);
      expect(data.summary.goal_completed).toBe(true);

      // The booking is in the summary, the extracted data and the webhook.
      expect(data.summary.text).toContain(`Booked "${TASK}" for 2026-01-07 14:00 (Europe/Stockholm).`);
      expect(data.extracted.calendar_bookings).toEqual([
        expect.objectContaining({ event_id: event.id, start: '2026-01-07T14:00:00+01:00', end: '2026-01-07T14:30:00+01:00', time_zone: 'Europe/Stockholm', status: 'booked' }),
      ]);
      const stored = await t.sb.core.calls.find(t.orgId, sid);
      expect(stored.summary).toContain('Booked');
    });

    it('with the first offer free, that is the one booked', async () => {
      google.events.clear();
      google.busy = [];
      const { data } = await call({ calendar_permissions: { write: true } });
      expect(confirmed().map((e) => e.start.dateTime)).toEqual(['2026-01-06T10:00:00+01:00']);
      expect(data.transcripts.some((s: any) => /Tuesday at 10 am works for me/.test(s.content))).toBe(true);
    });

    it('without write permission the agent accepts a free time but books nothing', async () => {
      google.events.clear();
      google.busy = [{ start: '2026-01-06T09:00:00Z', end: '2026-01-06T10:00:00Z' }];
      const { data } = await call({});
      expect(confirmed()).toHaveLength(0);
      expect(data.transcripts.some((s: any) => /Wednesday at 2 pm works for me/.test(s.content))).toBe(true);
      expect(data.extracted?.calendar_bookings).toBeUndefined();
    });

    it('refuses enable_calendar for a key with no calendar connected, naming the field', async () => {
      const other = await t.sb.core.orgs.createKey(t.orgId);
      const r = await t.sb.app.inject({
        method: 'POST',
        url: '/v1/start-call',
        headers: { authorization: `Bearer ${other}` },
        payload: { phone_number: DENTIST, task: TASK, enable_calendar: true },
      });
      expect(r.statusCode).toBe(400);
      expect(r.json()).toMatchObject({ field: 'enable_calendar' });
      expect(r.json().error).toMatch(/no calendar is authorized/);
    });
  });
}
