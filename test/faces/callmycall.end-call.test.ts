import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../helpers/backends.js';
import { VirtualClock } from '../../src/lib/clock.js';
import { advanceUntil, startSwitchboard, type TestSwitchboard } from '../helpers/switchboard.js';

for (const backend of BACKENDS) {
  describe(`POST /v1/end-call [${backend.name}]`, () => {
    let t: TestSwitchboard;
    let headers: Record<string, string>;
    beforeAll(async () => {
      // A manual clock: the call stands still between steps, so it can be ended mid-call.
      t = await startSwitchboard(backend, { SHUTDOWN_GRACE_SECONDS: '1' }, { clock: new VirtualClock(undefined, Infinity) });
      headers = { authorization: `Bearer ${t.key}` };
    });
    afterAll(() => t.close());
    const end = (payload: unknown) => t.sb.app.inject({ method: 'POST', url: '/v1/end-call', headers, payload: payload as any });

    it('ends a live call through its session, then answers alreadyClosed', async () => {
      const { sid } = (await t.sb.app.inject({ method: 'POST', url: '/v1/start-call', headers, payload: { phone_number: '+15550101', task: 'Book an appointment', language: 'en' } })).json();
      // Wait until it is connected (the IVR holds it long enough to be ended mid-call).
      await advanceUntil(t.clock, async () => (await t.sb.app.inject({ method: 'GET', url: `/v1/calls/${sid}`, headers })).json().status === 'in-progress');
      const first = await end({ callSid: sid });
      expect(first.statusCode).toBe(200);
      expect(first.json()).toMatchObject({ success: true, ok: true, alreadyClosed: false });
      expect(Array.isArray(first.json().transcript)).toBe(true);
      const c = await advanceUntil(t.clock, async () => {
        const v = (await t.sb.app.inject({ method: 'GET', url: `/v1/calls/${sid}`, headers })).json();
        return v.ended_at ? v : null;
      });
      expect(c.status).toBe('completed');
      expect(c.end_reason).toBe('ended_by_api');
      const again = await end({ callSid: sid });
      expect(again.json()).toMatchObject({ success: true, ok: true, alreadyClosed: true });
    });

    it('cancels a call that has not been answered yet', async () => {
      const { sid } = (await t.sb.app.inject({ method: 'POST', url: '/v1/start-call', headers, payload: { phone_number: '+15550103', task: 'x', language: 'en' } })).json();
      const r = await end({ callSid: sid });
      expect(r.json().alreadyClosed).toBe(false);
      const c = await advanceUntil(t.clock, async () => {
        const v = (await t.sb.app.inject({ method: 'GET', url: `/v1/calls/${sid}`, headers })).json();
        return v.ended_at ? v : null;
      });
      expect(c.status).toBe('canceled');
    });

    it('answers 404 for an unknown call and 400 without callSid', async () => {
      const unknown = await end({ callSid: 'CA' + '0'.repeat(32) });
      expect(unknown.statusCode).toBe(404);
      expect(unknown.json()).toEqual({ error: 'Call not found' });
      const missing = await end({});
      expect(missing.statusCode).toBe(400);
      expect(missing.json().error).toBe('Missing callSid');
    });
  });
}
