/**
 * The agent's calendar requests against the fake Google: free slots in the call's time zone, book, move and
 * cancel (only what was booked on the call), permissions, no double booking; and the tool mapping.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../helpers/backends.js';
import { startSwitchboard, type TestSwitchboard } from '../helpers/switchboard.js';
import { startFakeGoogle, type FakeGoogle } from '../fakes/google/fake-google.js';
import { runCalendarRequest, type Calendar, type CalendarBooking, type CalendarCallContext } from '../../src/core/calendar/index.js';
import { callTimeZone, formatInZone, parseTime } from '../../src/core/calendar/time-zone.js';
import { toolCallToAction, toolSpecs } from '../../src/ai/agent/index.js';
import type { AgentBrief } from '../../src/engine/brain.js';

const TZ = 'Europe/Stockholm';
const NOW = Date.parse('2026-03-02T08:00:00Z'); // a Monday

describe('time zones', () => {
  it('reads local times in the zone, across a DST change, and writes them back with the offset', () => {
    expect(parseTime('2026-03-27T14:00', TZ)).toBe(Date.parse('2026-03-27T13:00:00Z')); // CET
    expect(parseTime('2026-03-30T14:00', TZ)).toBe(Date.parse('2026-03-30T12:00:00Z')); // CEST
    expect(formatInZone(Date.parse('2026-03-30T12:00:00Z'), TZ)).toBe('2026-03-30T14:00:00+02:00');
    expect(formatInZone(Date.parse('2026-01-07T19:30:00Z'), 'America/New_York')).toBe('2026-01-07T14:30:00-05:00');
    expect(parseTime('2026-03-30T14:00:00Z', TZ)).toBe(Date.parse('2026-03-30T14:00:00Z'));
    expect(parseTime('next tuesday', TZ)).toBeNull();
    expect(parseTime('2026-13-01T10:00', TZ)).toBeNull();
  });

  it('takes the call\'s zone from metadata, else the number\'s country, else the default', () => {
    expect(callTimeZone({ to: '+15550100', metadata: { time_zone: 'Asia/Tokyo' } }, 'UTC')).toBe('Asia/Tokyo');
    expect(callTimeZone({ to: '+46701740605', metadata: {} }, 'UTC')).toBe('Europe/Stockholm');
    expect(callTimeZone({ to: '+15550100', metadata: { time_zone: 'Mars/Olympus' } }, 'UTC')).toBe('UTC');
  });
});

describe('calendar tools', () => {
  const brief = (calendar?: AgentBrief['calendar']): AgentBrief => ({ task: 't', additionalPrompt: '', language: 'en', persona: {}, keypadFields: [], ...(calendar ? { calendar } : {}) });
  const call = (name: string, args: unknown) => ({ name, arguments: JSON.stringify(args) });

  it('are offered only with enable_calendar, booking only with write', () => {
    const names = (b: AgentBrief) => toolSpecs(b).map((t) => t.name);
    expect(names(brief())).not.toContain('find_free_slots');
    expect(names(brief({ timeZone: TZ, read: true, write: false }))).toContain('find_free_slots');
    expect(names(brief({ timeZone: TZ, read: true, write: false }))).not.toContain('book_appointment');
    expect(names(brief({ timeZone: TZ, read: true, write: true }))).toEqual(expect.arrayContaining(['book_appointment', 'move_appointment', 'cancel_appointment']));
  });

  it('map to calendar requests, and bad arguments to an error for the model', () => {
    const b = brief({ timeZone: TZ, read: true, write: true });
    expect(toolCallToAction(call('book_appointment', { start: '2026-03-04T14:00', duration_minutes: 30, title: 'Check-up' }), b)).toEqual({
      ok: true,
      action: { type: 'calendar', request: { op: 'book', start: '2026-03-04T14:00', durationMinutes: 30, title: 'Check-up' } },
    });
    expect(toolCallToAction(call('find_free_slots', { from: '2026-03-04T09:00' }), b)).toEqual({ ok: false, error: 'from, to and duration_minutes are required' });
    expect(toolCallToAction(call('book_appointment', { start: 'x', duration_minutes: 'half an hour', title: 'a' }), b).ok).toBe(false);
    expect(toolCallToAction(call('cancel_appointment', { event_id: 'e1' }), brief()).ok).toBe(false);
  });
});

for (const backend of BACKENDS) {
  describe(`calendar requests against Google [${backend.name}]`, () => {
    let t: TestSwitchboard;
    let google: FakeGoogle;
    let calendar: Calendar;
    const ctx = (over: Partial<CalendarCallContext> = {}): CalendarCallContext => ({
      timeZone: TZ,
      permissions: { read: true, write: true },
      booked: new Map<string, CalendarBooking>(),
      now: NOW,
      ...over,
    });

    beforeAll(async () => {
      google = await startFakeGoogle();
      t = await startSwitchboard(backend, google.env);
      const headers = { authorization: `Bearer ${t.key}` };
      const { auth_url } = (await t.sb.app.inject({ method: 'GET', url: '/auth/google/calendar?format=json', headers })).json();
      const back = new URL((await fetch(auth_url, { redirect: 'manual' })).headers.get('location')!);
      await t.sb.app.inject({ method: 'GET', url: back.pathname + back.search });
      const keyId = (await t.sb.store.db.selectFrom('calendar_grants').select('key_id').executeTakeFirstOrThrow()).key_id;
      calendar = (await t.sb.core.calendar.open(keyId))!;
    });
    afterAll(async () => {
      await t.close();
      await google.close();
    });

    it('finds free half-hour slots around busy time, in local time', async () => {
      google.busy = [{ start: '2026-03-04T09:00:00Z', end: '2026-03-04T10:30:00Z' }]; // 10:00–11:30 local
      const r = await runCalendarRequest(calendar, { op: 'find_free_slots', from: '2026-03-04T09:00', to: '2026-03-04T12:30', durationMinutes: 60 }, ctx());
      expect(r).toEqual({
        ok: true,
        data: {
          time_zone: TZ,
          free_slots: [
            { start: '2026-03-04T09:00:00+01:00', end: '2026-03-04T10:00:00+01:00' },
            { start: '2026-03-04T11:30:00+01:00', end: '2026-03-04T12:30:00+01:00' },
          ],
        },
      });
    });

    it('books, moves and cancels an appointment made on the call', async () => {
      const c = ctx();
      const booked = await runCalendarRequest(calendar, { op: 'book', start: '2026-03-05T15:00', durationMinutes: 45, title: 'Check-up' }, c);
      expect(booked.ok).toBe(true);
      const id = booked.ok ? (booked.data.event_id as string) : '';
      expect(google.events.get(id)).toMatchObject({ summary: 'Check-up', status: 'confirmed', start: { dateTime: '2026-03-05T15:00:00+01:00', timeZone: TZ } });

      // A second booking over it is refused: the client is busy then.
      const clash = await runCalendarRequest(calendar, { op: 'book', start: '2026-03-05T15:30', durationMinutes: 30, title: 'Other' }, c);
      expect(clash).toMatchObject({ ok: false, error: 'failed', message: expect.stringMatching(/busy/) });

      const moved = await runCalendarRequest(calendar, { op: 'move', eventId: id, start: '2026-03-06T09:00' }, c);
      expect(moved).toMatchObject({ ok: true, booking: { status: 'moved', start: '2026-03-06T09:00:00+01:00', end: '2026-03-06T09:45:00+01:00' } });
      expect(google.events.get(id)?.start.dateTime).toBe('2026-03-06T09:00:00+01:00');
      expect(google.received.some((q) => q.method === 'PATCH' && q.path.endsWith(`/events/${id}`))).toBe(true);

      const cancelled = await runCalendarRequest(calendar, { op: 'cancel', eventId: id }, c);
      expect(cancelled).toMatchObject({ ok: true, booking: { status: 'cancelled' } });
      expect(google.events.get(id)?.status).toBe('cancelled');
      expect(c.booked.get(id)?.status).toBe('cancelled');
    });

    it('touches nothing it did not book, nothing without write, and nothing in the past', async () => {
      google.events.clear();
      const other = await calendar.insert({ title: 'Board meeting', start: Date.parse('2026-03-09T09:00:00Z'), end: Date.parse('2026-03-09T10:00:00Z'), timeZone: TZ });
      expect(await runCalendarRequest(calendar, { op: 'cancel', eventId: other.id }, ctx())).toMatchObject({ ok: false, error: 'not_allowed' });
      expect(google.events.get(other.id)?.status).toBe('confirmed');
      const readOnly = ctx({ permissions: { read: true, write: false } });
      expect(await runCalendarRequest(calendar, { op: 'book', start: '2026-03-05T10:00', durationMinutes: 30, title: 'x' }, readOnly)).toMatchObject({ ok: false, error: 'not_allowed' });
      expect(await runCalendarRequest(calendar, { op: 'book', start: '2026-03-01T10:00', durationMinutes: 30, title: 'x' }, ctx())).toMatchObject({ ok: false, message: 'That time has passed.' });
      expect(await runCalendarRequest(null, { op: 'find_free_slots', from: '2026-03-04T09:00', to: '2026-03-04T10:00', durationMinutes: 30 }, ctx())).toMatchObject({ ok: false, error: 'unavailable' });
      expect([...google.events.values()].filter((e) => e.status === 'confirmed')).toHaveLength(1);
    });
  });
}
