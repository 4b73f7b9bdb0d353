/**
 * Durable calls (issue 11 §2): a call waits for a line in the database (its dial job), so ending it there
 * cancels it undialled; a launch that fails ends the call and frees its line. With two nodes on one
 * PostgreSQL: a queued call is taken by the node with a free line; a node that dies has its calls closed
 * by the other's reaper (`failed`, `node_lost`, charged, `call_completed` delivered); the task limit holds
 * across both and a dead node's task slots come back.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../helpers/backends.js';
import { advanceUntil, startSwitchboard, until, type TestSwitchboard } from '../helpers/switchboard.js';
import { startWebhookReceiver, type WebhookReceiver } from '../fakes/webhook-receiver.js';
import { VirtualClock } from '../../src/lib/clock.js';
import { openStore, type Store } from '../../src/store/index.js';
import { DIAL_JOB } from '../../src/core/index.js';

const BODY = { phone_number: '+15550100', task: 'Confirm my booking, reference AB123', language: 'en', persona: { name: 'Alex Smith' } };

/** A clock that moves only when the test says so: calls on it stay where they are. */
const frozen = () => new VirtualClock(Date.UTC(2026, 0, 1), Infinity);

async function startCall(t: TestSwitchboard, body: Record<string, unknown> = BODY): Promise<string> {
  const r = await t.sb.app.inject({ method: 'POST', url: '/v1/start-call', headers: { authorization: `Bearer ${t.key}` }, payload: body });
  expect(r.statusCode, r.body).toBe(200);
  return r.json().sid;
}

async function callRow(t: TestSwitchboard, idOrSid: string) {
  const c = await t.sb.core.calls.findAny(idOrSid);
  if (!c) throw new Error('no such call');
  return c;
}

for (const backend of BACKENDS) {
  describe(`a call waiting for a line [${backend.name}]`, () => {
    let t: TestSwitchboard;
    beforeAll(async () => {
      t = await startSwitchboard(backend, { SHUTDOWN_GRACE_SECONDS: '1', MAX_CONCURRENT_CALLS: '1' }, { clock: frozen() });
    });
    afterAll(() => t.close());

    it('waits in the database; ending it cancels it and it is never dialled', async () => {
      const first = await startCall(t);
      await until(async () => (await callRow(t, first)).owner_node === t.sb.config.nodeId, 10_000, 'first call started here');
      const second = await startCall(t);
      const waiting = await callRow(t, second);
      expect(waiting.status).toBe('queued');
      expect(waiting.owner_node).toBeNull();
      const job = await t.sb.store.db.selectFrom('jobs').selectAll().where('kind', '=', DIAL_JOB).where('payload', '@>', JSON.stringify({ callId: waiting.id }) as never).executeTakeFirst();
      expect(job).toBeTruthy();

      const r = await t.sb.app.inject({ method: 'POST', url: `/v1/end-call`, headers: { authorization: `Bearer ${t.key}` }, payload: { callSid: waiting.sid } });
      expect(r.statusCode, r.body).toBe(200);
      const ended = await callRow(t, second);
      expect(ended.status).toBe('canceled');
      expect(ended.end_reason).toBe('ended_by_api');
      expect(await t.sb.store.db.selectFrom('jobs').select('id').where('key', '=', `dial:${waiting.id}`).execute()).toHaveLength(0);

      // The line comes free; the canceled call stays canceled and was never dialled.
      await advanceUntil(t.clock, async () => ((await callRow(t, first)).ended_at ? true : null), 1000, 30_000);
      await until(async () => t.sb.dialer.liveCount === 0, 10_000, 'line to come free');
      const events = await t.sb.store.db.selectFrom('call_events').select('data').where('call_id', '=', waiting.id).where('kind', '=', 'status').execute();
      expect(events.map((e) => (e.data as { status: string }).status)).toEqual(['canceled']);
    }, 90_000);
  });

  describe(`a launch that fails [${backend.name}]`, () => {
    let t: TestSwitchboard;
    beforeAll(async () => {
      t = await startSwitchboard(backend, { SHUTDOWN_GRACE_SECONDS: '1', MAX_CONCURRENT_CALLS: '1' });
    });
    afterAll(() => t.close());

    it('ends the call failed (launch_failed or dial_failed), frees its line, and the next call runs', async () => {
      // A failure mid-launch, before dialling: the session's subscription to its commands fails once. (The
      // launch stores nothing before dialling any more: claiming the call stored its owner and brain.)
      const subscribe = t.sb.bus.subscribe.bind(t.sb.bus);
      let failSubscribe = true;
      t.sb.bus.subscribe = async (channel, handler) => {
        if (failSubscribe && channel.startsWith('call.commands.')) {
          failSubscribe = false;
          throw new Error('connection terminated unexpectedly');
        }
        return subscribe(channel, handler);
      };
      const a = await startCall(t);
      const failed = await until(async () => {
        const c = await callRow(t, a);
        return c.ended_at ? c : null;
      }, 20_000, 'failed launch to end the call');
      expect(failed).toMatchObject({ status: 'failed', end_reason: 'launch_failed', owner_node: null });
      expect(t.sb.dialer.liveCount).toBe(0);

      // The carrier refuses the dial.
      const dial = t.sb.carrier.dial.bind(t.sb.carrier);
      let failDial = true;
      t.sb.carrier.dial = async (...args) => {
        if (failDial) {
          failDial = false;
          throw new Error('carrier unavailable');
        }
        return dial(...args);
      };
      const b = await startCall(t);
      const refused = await until(async () => {
        const c = await callRow(t, b);
        return c.ended_at ? c : null;
      }, 20_000, 'refused dial to end the call');
      expect(refused).toMatchObject({ status: 'failed', end_reason: 'dial_failed' });

      // Nothing is left queued or holding the only line: the next call is dialled and completes.
      const c = await startCall(t);
      const done = await until(async () => {
        const row = await callRow(t, c);
        return row.ended_at ? row : null;
      }, 30_000, 'next call to end');
      expect(done.status).toBe('completed');
      expect(await t.sb.store.db.selectFrom('calls').select('id').where('status', '=', 'queued').execute()).toHaveLength(0);
      await until(async () => t.sb.dialer.liveCount === 0, 10_000, 'line to come free');
    }, 90_000);
  });
}

const pgUrl = process.env.TEST_DATABASE_URL;

/** A node of a two-node cluster on one PostgreSQL schema, with its own pool (so it can "die" alone). */
interface Node extends TestSwitchboard {
  store: Store;
  dead: boolean;
}

describe.skipIf(!pgUrl)('two nodes on one PostgreSQL', () => {
  const schema = 't_' + randomBytes(6).toString('hex');
  const LEASE = { NODE_HEARTBEAT_MS: '100', NODE_LEASE_MS: '1000', NODE_REAPER_MS: '200' };
  let nodes: Node[] = [];
  let rx: WebhookReceiver;

  async function node(name: string, env: Record<string, string>, clock = frozen()): Promise<Node> {
    let store!: Store;
    const backend = { name: 'postgres' as const, open: async () => (store = await openStore({ databaseUrl: pgUrl!, schema, poolSize: 4 })) };
    const t = await startSwitchboard(backend, { SHUTDOWN_GRACE_SECONDS: '1', NODE_ID: `${name}-${randomBytes(3).toString('hex')}`, ...LEASE, ...env }, { clock });
    const n: Node = { ...t, store, dead: false };
    nodes.push(n);
    return n;
  }

  /** The node stops as a crash would: no heartbeat, no claims, and its sessions can never write again. */
  async function kill(n: Node): Promise<void> {
    n.dead = true;
    n.sb.leases.stop();
    await Promise.all([n.sb.jobs.stop(0), n.sb.dialJobs.stop(0), n.sb.taskJobs.stop(0)]);
    await n.store.close();
  }

  beforeAll(async () => {
    rx = await startWebhookReceiver();
  });
  afterEach(async () => {
    for (const n of nodes) if (!n.dead) await n.close();
    nodes = [];
  });
  afterAll(async () => {
    await rx.close();
    const c = new pg.Client({ connectionString: pgUrl });
    await c.connect();
    await c.query(`drop schema if exists ${schema} cascade`);
    await c.end();
  });

  it('a call queued on a full node is dialled by the other node', async () => {
    const a = await node('a', { MAX_CONCURRENT_CALLS: '1' });
    const b = await node('b', {}, new VirtualClock());
    const first = await startCall(a);
    await until(async () => (await callRow(a, first)).owner_node === a.sb.config.nodeId, 10_000, 'first call started on a');
    const second = await startCall(a);
    const done = await until(async () => {
      const c = await callRow(a, second);
      return c.ended_at ? c : null;
    }, 30_000, 'queued call to be carried by the other node');
    // Node a's clock stands still, so only node b can have carried the call to its end.
    expect(done.status).toBe('completed');
    expect(done.end_reason).not.toBe('node_lost');
    expect((await callRow(a, first)).ended_at).toBeNull();
  }, 90_000);

  it("a node dies: the other's reaper ends its calls failed/node_lost, charged, with call_completed delivered", async () => {
    // Billing on: the reaped call is charged to the ledger.
    const a = await node('a', { BILLING_ENABLED: 'true' });
    const b = await node('b', { BILLING_ENABLED: 'true' }, new VirtualClock());
    await a.sb.core.orgs.setCredits(a.orgId, 1000);
    const id = await startCall(a, { ...BODY, webhook: rx.url, webhook_events: ['call_completed'] });
    // The call is answered on node a, then a's clock stands still: the call stays in progress.
    await advanceUntil(a.clock, async () => ((await callRow(a, id)).status === 'in_progress' ? true : null), 200, 30_000);
    const live = await callRow(a, id);
    expect(live.owner_node).toBe(a.sb.config.nodeId);
    const creditsBefore = await b.sb.core.credits.balance(b.orgId);

    await kill(a);
    const closed = await until(async () => {
      const c = await callRow(b, id);
      return c.ended_at ? c : null;
    }, 30_000, "the reaper to close the dead node's call");
    expect(closed).toMatchObject({ status: 'failed', end_reason: 'node_lost', last_error: 'node_lost', owner_node: null });
    expect(closed.credits_charged).toBeGreaterThan(0);
    expect(await b.sb.core.credits.balance(b.orgId)).toBe(creditsBefore - closed.credits_charged!);
    const hook = await until(async () => rx.received.find((w) => w.json.event === 'call_completed' && w.json.sid === live.sid), 30_000, 'call_completed');
    expect(hook.json.data.status).toBe('failed');
    // Exactly one end, whatever the number of reapers: one status event, one delivery.
    const ends = await b.sb.store.db.selectFrom('call_events').select('data').where('call_id', '=', closed.id).where('kind', '=', 'status').execute();
    expect(ends.filter((e) => (e.data as { status: string }).status === 'failed')).toHaveLength(1);
    expect(rx.received.filter((w) => w.json.event === 'call_completed' && w.json.sid === live.sid)).toHaveLength(1);
    // The dead node is forgotten once it owns nothing.
    await until(async () => !(await b.sb.store.db.selectFrom('nodes').select('id').where('id', '=', a.sb.config.nodeId).executeTakeFirst()), 10_000, 'dead node row removed');
  }, 90_000);

  it('a node whose lease ran out while it lived hangs up the calls the other node closed', async () => {
    const a = await node('a', {});
    const b = await node('b', {}, new VirtualClock());
    const id = await startCall(a);
    await advanceUntil(a.clock, async () => ((await callRow(a, id)).status === 'in_progress' ? true : null), 200, 30_000);
    // Node a stops renewing (as if the database were out of its reach); node b reaps its call.
    a.sb.leases.stop();
    const closed = await until(async () => {
      const c = await callRow(b, id);
      return c.ended_at ? c : null;
    }, 30_000, 'the reaper to close the call');
    expect(closed.end_reason).toBe('node_lost');
    expect(a.sb.dialer.liveCount).toBe(1);
    // Back in touch: node a learns its lease had run out and drops the session of the closed call.
    await a.sb.leases.renew();
    await advanceUntil(a.clock, async () => a.sb.dialer.liveCount === 0, 200, 30_000);
    expect((await callRow(b, id)).status).toBe('failed');
  }, 90_000);

  it('TASK_CONCURRENCY holds across both nodes, and a dead node gives its task slots back', async () => {
    const env = { TASK_CONCURRENCY: '2' };
    const a = await node('a', env);
    const b = await node('b', env);
    await a.sb.core.orgs.setCredits(a.orgId, 100_000);
    const agent = await a.sb.core.agents.create(a.orgId, { name: 'A', system_prompt: 'Be kind.', language: 'en' });
    let maxInProgress = 0;
    let reader = b; // a live node's store (the survivor's, once one node is dead)
    const inProgress = async () => {
      const r = await reader.sb.store.db.selectFrom('tasks').select((eb) => eb.fn.countAll<string>().as('n')).where('status', '=', 'in_progress').executeTakeFirstOrThrow();
      maxInProgress = Math.max(maxInProgress, Number(r.n));
      return Number(r.n);
    };
    const due = new Date(Date.now() - 1000).toISOString();
    for (let i = 0; i < 6; i++) {
      await a.sb.core.tasks.create(a.orgId, { agent_id: agent.id, name: `task ${i}`, to_number: '+15550100', scheduled_at: due });
    }
    a.sb.taskJobs.wake();
    b.sb.taskJobs.wake();
    // Both clocks stand still: two tasks start (on either node) and their calls stay live.
    await until(async () => (await inProgress()) === 2, 30_000, 'two tasks in progress');
    // Both nodes keep polling for due tasks meanwhile; neither takes a third slot.
    for (let i = 0; i < 20; i++) {
      await inProgress();
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(maxInProgress).toBe(2);

    // The node carrying the first running task's call dies: its tasks fail (node_lost) and free their slots.
    await until(async () => {
      const owners = await b.sb.store.db.selectFrom('tasks').innerJoin('calls', 'calls.id', 'tasks.call_id').select('calls.owner_node').where('tasks.status', '=', 'in_progress').execute();
      return owners.length === 2 && owners.every((o) => o.owner_node);
    }, 30_000, 'both task calls owned');
    const running = await b.sb.store.db.selectFrom('tasks').innerJoin('calls', 'calls.id', 'tasks.call_id').select(['tasks.id', 'calls.owner_node']).where('tasks.status', '=', 'in_progress').execute();
    const victim = running[0].owner_node === a.sb.config.nodeId ? a : b;
    const survivor = victim === a ? b : a;
    const victimTasks = running.filter((r) => r.owner_node === victim.sb.config.nodeId).map((r) => r.id);
    reader = survivor;
    await kill(victim);
    const lost = await until(async () => {
      const rows = await survivor.sb.store.db.selectFrom('tasks').selectAll().where('id', 'in', victimTasks).execute();
      return rows.every((r) => r.status === 'failed') ? rows : null;
    }, 30_000, "the dead node's tasks to fail");
    expect(lost.every((r) => r.last_error === 'node_lost')).toBe(true);
    // The survivor takes the freed slots: every task runs to its end, never more than two at once.
    await advanceUntil(
      survivor.clock,
      async () => {
        await inProgress();
        const open = await survivor.sb.store.db.selectFrom('tasks').select('id').where('status', 'in', ['pending', 'in_progress']).execute();
        return open.length === 0;
      },
      500,
      60_000,
    );
    expect(maxInProgress).toBe(2);
    const done = await survivor.sb.store.db.selectFrom('tasks').select(['status']).execute();
    expect(done.filter((r) => r.status === 'completed').length).toBe(6 - victimTasks.length);
  }, 120_000);
});
