/**
 * Scheduled tasks are durable jobs: one scheduled a minute ahead runs once after a restart in between;
 * 100 due at once start in priority order, at most TASK_CONCURRENCY at a time.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSwitchboard } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { VirtualClock } from '../../src/lib/clock.js';
import { createLogger } from '../../src/lib/logger.js';
import { openStore } from '../../src/store/index.js';
import { BACKENDS } from '../helpers/backends.js';
import { startSwitchboard, until, type TestSwitchboard } from '../helpers/switchboard.js';
import { unawaited } from '../helpers/unawaited.js';

describe('a scheduled task survives a restart and runs once [pglite data dir]', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-tasks-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function boot() {
    const config = loadConfig({ LOG_LEVEL: 'silent', NODE_ENV: 'test', PORT: '0', DATA_DIR: dir, SHUTDOWN_GRACE_SECONDS: '1' });
    const store = await openStore({ dataDir: dir });
    const sb = await createSwitchboard(config, { log: createLogger('silent'), jobPollMs: 50, store, clock: new VirtualClock() });
    return { sb, close: async () => { await sb.shutdown(); await store.close(); } };
  }

  it('runs after the restart, once', async () => {
    const a = await boot();
    const { org } = await a.sb.core.orgs.ensure('acme', { credits: 1000 });
    const agent = await a.sb.core.agents.create(org.id, { name: 'A', system_prompt: 'Be kind.', language: 'en' });
    const task = await a.sb.core.tasks.create(org.id, {
      agent_id: agent.id, name: 'Confirm my booking', to_number: '+15550102', scheduled_at: new Date(Date.now() + 60_000).toISOString(),
    });
    const job = await a.sb.store.db.selectFrom('jobs').selectAll().where('key', '=', `task:${task.id}`).executeTakeFirstOrThrow();
    expect(job.kind).toBe('task.run');
    await new Promise((r) => setTimeout(r, 200));
    expect((await a.sb.core.tasks.get(org.id, task.id)).status).toBe('pending');
    // A minute passes while the server is down.
    const past = new Date(Date.now() - 1000);
    await a.sb.store.db.updateTable('tasks').set({ scheduled_at: past }).where('id', '=', task.id).execute();
    await a.sb.store.db.updateTable('jobs').set({ run_at: past }).where('key', '=', `task:${task.id}`).execute();
    await a.close();

    const b = await boot();
    try {
      const done = await until(async () => {
        const t = await b.sb.core.tasks.get(org.id, task.id);
        return t.status === 'completed' || t.status === 'failed' ? t : null;
      }, 20_000, 'scheduled task to run');
      expect(done.call_id).toBeTruthy();
      // Busy line: the call failed, so the task failed; it was dialled exactly once.
      expect(done.status).toBe('failed');
      await new Promise((r) => setTimeout(r, 300));
      const calls = await b.sb.store.db.selectFrom('calls').select('id').where('task_id', '=', task.id).execute();
      expect(calls).toHaveLength(1);
      expect(await b.sb.store.db.selectFrom('jobs').select('id').where('key', '=', `task:${task.id}`).execute()).toHaveLength(0);
    } finally {
      await b.close();
    }
  }, 60_000);
});

for (const backend of BACKENDS) {
  describe(`100 due tasks run in priority order within the concurrency [${backend.name}]`, () => {
    let t: TestSwitchboard;
    beforeAll(async () => {
      t = await startSwitchboard(backend, { SHUTDOWN_GRACE_SECONDS: '1', TASK_CONCURRENCY: '10' });
    });
    afterAll(() => t.close());

    it('starts them highest priority first, never more than 10 live', async () => {
      const agent = await t.sb.core.agents.create(t.orgId, { name: 'A', system_prompt: 'Be kind.', language: 'en' });
      await t.sb.core.orgs.setCredits(t.orgId, 100_000);
      const started: number[] = [];
      let live = 0;
      let maxLive = 0;
      const start = t.sb.core.calls.start.bind(t.sb.core.calls);
      t.sb.core.calls.start = async (orgId, req, opts) => {
        const r = await start(orgId, req, opts);
        started.push(Number(req.variables?.p));
        return r;
      };
      const priorities = Array.from({ length: 100 }, (_, i) => (i * 37) % 100);
      const due = new Date(Date.now() - 1000).toISOString();
      // Created an hour ahead, then all made due at once (priorities shuffled).
      for (const p of priorities) {
        await t.sb.core.tasks.create(t.orgId, {
          agent_id: agent.id, name: `task ${p}`, to_number: '+15550102', priority: p, context_data: { p }, scheduled_at: new Date(Date.now() + 3_600_000).toISOString(),
        });
      }
      await t.sb.store.db.updateTable('jobs').set({ run_at: new Date(due) }).where('kind', '=', 'task.run').execute();
      // Like any enqueuer, a change to the jobs table tells the runner (asleep until the hour, on the embedded store).
      t.sb.taskJobs.wake();
      const sample = async () => {
        const r = await t.sb.store.db.selectFrom('tasks').select((eb) => eb.fn.countAll<string>().as('n')).where('status', '=', 'in_progress').executeTakeFirst();
        live = Number(r?.n ?? 0);
        maxLive = Math.max(maxLive, live);
      };
      const poll = setInterval(() => unawaited(sample()), 5);
      try {
        await until(async () => {
          const r = await t.sb.store.db.selectFrom('tasks').select('id').where('status', 'in', ['pending', 'in_progress']).execute();
          return r.length === 0;
        }, 60_000, 'all tasks to run');
      } finally {
        clearInterval(poll);
      }
      expect(started).toHaveLength(100);
      expect(started).toEqual([...started].sort((a, b) => b - a));
      expect(maxLive).toBeLessThanOrEqual(10);
      const calls = await t.sb.store.db.selectFrom('calls').select('task_id').where('task_id', 'is not', null).where('org_id', '=', t.orgId).execute();
      expect(new Set(calls.map((c) => c.task_id)).size).toBe(calls.length);
    }, 90_000);
  });
}

for (const backend of BACKENDS) {
  describe(`a task scheduled seconds ahead runs at its time [${backend.name}]`, () => {
    let t: TestSwitchboard;
    beforeAll(async () => {
      // The embedded store's runners sleep while nothing is due (IDLE_JOB_POLL_MS): only the task's own
      // time may wake them, well before the idle interval would.
      t = await startSwitchboard(backend, { SHUTDOWN_GRACE_SECONDS: '1', IDLE_JOB_POLL_MS: '600000' });
    });
    afterAll(() => t.close());

    it('starts its call once scheduled_at has come, not before', async () => {
      const agent = await t.sb.core.agents.create(t.orgId, { name: 'A', system_prompt: 'Be kind.', language: 'en' });
      const at = new Date(Date.now() + 2000);
      const task = await t.sb.core.tasks.create(t.orgId, { agent_id: agent.id, name: 'Confirm my booking', to_number: '+15550102', scheduled_at: at.toISOString() });
      expect((await t.sb.core.tasks.get(t.orgId, task.id)).status).toBe('pending');
      const started = await until(async () => {
        const s = await t.sb.core.tasks.get(t.orgId, task.id);
        return s.status !== 'pending' ? s : null;
      }, 20_000, 'the scheduled task to start');
      expect(started.call_id).toBeTruthy();
      expect(new Date(started.started_at!).getTime()).toBeGreaterThanOrEqual(at.getTime());
    }, 30_000);
  });
}
