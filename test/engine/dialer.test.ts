import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../helpers/backends.js';
import { startSwitchboard, until, type TestSwitchboard } from '../helpers/switchboard.js';

describe('dialer', () => {
  let t: TestSwitchboard;
  beforeAll(async () => {
    t = await startSwitchboard(BACKENDS[0], { SHUTDOWN_GRACE_SECONDS: '1', MAX_CONCURRENT_CALLS: '2' });
  });
  afterAll(() => t.close());

  it('keeps at most MAX_CONCURRENT_CALLS live; the rest wait as queued and all complete', async () => {
    const headers = { authorization: `Bearer ${t.key}` };
    let maxLive = 0;
    const watch = setInterval(() => (maxLive = Math.max(maxLive, t.sb.dialer.liveCount)), 1);
    try {
      const sids = await Promise.all(
        Array.from({ length: 8 }, async () =>
          (await t.sb.app.inject({ method: 'POST', url: '/v1/start-call', headers, payload: { phone_number: '+15550100', task: 'Confirm my booking, reference AB123', language: 'en', persona: { name: 'Alex Smith' } } })).json().sid,
        ),
      );
      // Calls are admitted after their start-call has answered (the dialer's store writes are background work).
      await until(async () => t.sb.dialer.queuedCount > 0, 15_000, 'calls waiting for a line');
      const statuses = await until(async () => {
        const all = await Promise.all(sids.map(async (sid) => (await t.sb.app.inject({ method: 'GET', url: `/v1/calls/${sid}`, headers })).json().status));
        return all.every((s) => s === 'completed') ? all : null;
      }, 30_000);
      expect(statuses).toHaveLength(8);
    } finally {
      clearInterval(watch);
    }
    expect(maxLive).toBeGreaterThan(0);
    expect(maxLive).toBeLessThanOrEqual(2);
  });
});
