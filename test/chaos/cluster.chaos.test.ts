/**
 * Chaos, bounded and on loopback only: three Switchboard processes (`node dist/cli/main.js serve`) on
 * PostgreSQL (a schema of their own) and a redis-server of their own, behind the local load balancer of
 * `npm run cluster`. 200 simulated calls (fast sim clock, short scenarios) each with a webhook to a local
 * receiver. While calls are live: one node is killed with SIGKILL, Redis is restarted, and every PostgreSQL
 * connection of another node is killed (pg_terminate_backend on that node's application_name only).
 *
 * What must hold (issue 11, "Done when"): every call reaches an end state; every call's `call_completed` is
 * delivered (a repeat carries the same Webhook-Id); no call of a live node is disturbed (it ends as its
 * scenario does); no transcript line that was stored is lost.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { openStore, type Store } from '../../src/store/index.js';
import { Orgs } from '../../src/core/orgs.js';
import { startBalancer, type Balancer } from '../../scripts/cluster/balancer.js';
import { ROOT, freePort, startNode, type ClusterNode } from '../../scripts/cluster/nodes.js';
import { startOwnRedis, type OwnRedis } from '../../scripts/cluster/redis.js';

const pgUrl = process.env.TEST_DATABASE_URL;
const built = fs.existsSync(path.join(ROOT, 'dist/cli/main.js'));
if (!pgUrl) console.warn('chaos test SKIPPED: set TEST_DATABASE_URL (PostgreSQL) to run test/chaos/cluster.chaos.test.ts');

const CALLS = 200;
/** Scenario numbers and how a call to each ends when nothing goes wrong. */
const NUMBERS: Array<{ to: string; status: string }> = [
  { to: '+15550100', status: 'completed' }, // the restaurant: a short conversation
  { to: '+15550102', status: 'busy' },
];

interface Delivery {
  webhookId: string;
  body: any;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(fn: () => Promise<T | undefined | null | false>, ms: number, what: string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

describe.skipIf(!pgUrl)('chaos: three nodes, a SIGKILL, a Redis restart and killed PostgreSQL connections', () => {
  const run = randomBytes(4).toString('hex');
  const schema = `chaos_${run}`;
  const ids = [1, 2, 3].map((i) => `chaos-${run}-n${i}`);
  let redis: OwnRedis;
  let nodes: ClusterNode[] = [];
  let balancer: Balancer;
  let store: Store;
  let key: string;
  let receiver: http.Server;
  let hookUrl: string;
  const deliveries: Delivery[] = [];

  beforeAll(async () => {
    if (!built) throw new Error('dist/ is missing: run `npm run build` (npm ci builds it) before the chaos test');
    redis = await startOwnRedis();
    store = await openStore({ databaseUrl: pgUrl!, schema, poolSize: 2 });
    const orgs = new Orgs(store.db);
    const { org } = await orgs.ensure('chaos', { credits: 10_000_000 });
    key = await orgs.createKey(org.id, 'chaos');

    receiver = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        try {
          deliveries.push({ webhookId: String(req.headers['webhook-id'] ?? ''), body: JSON.parse(body) });
        } catch {
          /* not JSON: not ours */
        }
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    hookUrl = `http://127.0.0.1:${(receiver.address() as net.AddressInfo).port}/hook`;

    const ports = await Promise.all(ids.map(() => freePort()));
    const credentialsKey = randomBytes(32).toString('base64');
    balancer = await startBalancer({ port: 0, targets: ports.map((p) => `http://127.0.0.1:${p}`), checkMs: 300 });
    const env = (id: string): Record<string, string> => ({
      // Each node's connections carry its name, so that one node's (and only its) can be killed.
      DATABASE_URL: `${pgUrl}${pgUrl!.includes('?') ? '&' : '?'}application_name=${encodeURIComponent(`switchboard:${id}`)}`,
      DATABASE_SCHEMA: schema,
      REDIS_URL: redis.url,
      REDIS_PREFIX: `chaos:${run}:`,
      CREDENTIALS_KEY: credentialsKey,
      PUBLIC_URL: balancer.url,
      SIM_TIME_SCALE: '20',
      LOG_LEVEL: 'warn',
      SHUTDOWN_GRACE_SECONDS: '1',
      RATE_LIMIT_PER_MINUTE: '1000000',
      MAX_CONCURRENT_CALLS: '300',
      // Leases and the reaper (durable calls), short so that a dead node's calls end within the test.
      NODE_HEARTBEAT_MS: '500',
      NODE_LEASE_MS: '3000',
      NODE_REAPER_MS: '500',
    });
    // The first alone (it migrates), then the others.
    nodes = [await startNode({ id: ids[0], port: ports[0], env: env(ids[0]) })];
    nodes.push(...(await Promise.all(ids.slice(1).map((id, i) => startNode({ id, port: ports[i + 1], env: env(id) })))));
  }, 120_000);

  afterAll(async () => {
    for (const n of nodes) n.kill();
    await Promise.all(nodes.map((n) => n.exited));
    await balancer?.close();
    await redis?.stop();
    await new Promise((r) => receiver?.close(r));
    await store?.close();
    const c = new pg.Client({ connectionString: pgUrl });
    await c.connect();
    await c.query(`drop schema if exists ${schema} cascade`);
    await c.end();
  }, 60_000);

  const headers = () => ({ authorization: `Bearer ${key}`, 'content-type': 'application/json' });

  /** Starts call `i` through the balancer; a refused or failed request is retried with the same Idempotency-Key. */
  async function startCall(i: number): Promise<string> {
    const { to } = NUMBERS[i % NUMBERS.length];
    const body = JSON.stringify({ phone_number: to, language: 'en', task: 'Confirm my booking for Tuesday at 7 pm, reference AB123', persona: { name: 'Alex Smith' }, webhook: hookUrl, webhook_events: ['call_completed'] });
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        const r = await fetch(`${balancer.url}/v1/start-call`, { method: 'POST', headers: { ...headers(), 'idempotency-key': `chaos-${run}-${i}` }, body, signal: AbortSignal.timeout(15_000) });
        if (r.status === 200) return ((await r.json()) as { sid: string }).sid;
        if (r.status < 500 && r.status !== 429) throw new Error(`start-call ${i} refused: ${r.status} ${await r.text()}`);
      } catch (err) {
        if ((err as Error).message.startsWith('start-call')) throw err;
      }
      if (Date.now() > deadline) throw new Error(`start-call ${i} never accepted`);
      await sleep(250);
    }
  }

  async function startCalls(from: number, to: number, sids: string[]): Promise<void> {
    let next = from;
    const worker = async () => {
      while (next < to) {
        const i = next++;
        sids[i] = await startCall(i);
      }
    };
    await Promise.all(Array.from({ length: 10 }, worker));
  }

  /** Transcript lines stored so far: `sid#seq` → text. */
  async function storedLines(): Promise<Map<string, string>> {
    const rows = await store.db
      .selectFrom('call_events')
      .innerJoin('calls', 'calls.id', 'call_events.call_id')
      .select(['calls.sid', 'call_events.seq', 'call_events.text'])
      .where('call_events.kind', '=', 'transcript')
      .execute();
    return new Map(rows.map((r) => [`${r.sid}#${r.seq}`, r.text ?? '']));
  }

  it('every call ends, every call_completed is delivered, live nodes are undisturbed, no stored line is lost', async () => {
    const sids: string[] = new Array(CALLS);
    await startCalls(0, CALLS / 2, sids);

    // Faults while calls are live. Who carried what just before: the killed node's calls may end `node_lost`.
    await until(async () => (await store.db.selectFrom('calls').select('id').where('status', '=', 'in_progress').execute()).length >= 10, 60_000, 'live calls');
    const owners = new Map((await store.db.selectFrom('calls').select(['sid', 'owner_node']).where('owner_node', 'is not', null).execute()).map((r) => [r.sid, r.owner_node]));
    const before = await storedLines();
    const [, second, victim] = nodes;
    victim.kill();
    await victim.exited;
    // What the victim owned when it died: a call still queued at the snapshot above may have been claimed by
    // it in the moments before the kill (its last claim may still be committing on a backend of its own, so
    // read again once those are gone). Its lease outlives it by at least 2.5 s: nothing of it is reaped yet.
    const admin = new pg.Client({ connectionString: pgUrl });
    await admin.connect();
    const victimOwned = async () => {
      const rows = await store.db.selectFrom('calls').select('sid').where('owner_node', '=', victim.id).execute();
      for (const r of rows) owners.set(r.sid, victim.id);
    };
    await victimOwned();
    await until(async () => (await admin.query('select 1 from pg_stat_activity where application_name = $1', [`switchboard:${victim.id}`])).rowCount === 0, 2_000, "the victim's backends to end").catch(() => undefined);
    await victimOwned();
    await redis.restart();
    const terminated = await admin.query('select pg_terminate_backend(pid) as ok from pg_stat_activity where application_name = $1', [`switchboard:${second.id}`]);
    await admin.end();
    expect(terminated.rowCount).toBeGreaterThan(0);

    await startCalls(CALLS / 2, CALLS, sids);
    expect(new Set(sids).size).toBe(CALLS);

    // Every call reaches an end state.
    const ended = await until(
      async () => {
        const rows = await store.db.selectFrom('calls').select(['sid', 'status', 'end_reason', 'ended_at']).where('sid', 'in', sids).execute();
        return rows.length === CALLS && rows.every((r) => r.ended_at) ? rows : null;
      },
      90_000,
      'every call to end',
    ).catch(async (err: Error) => {
      const open = await store.db.selectFrom('calls').select(['sid', 'status']).where('sid', 'in', sids).where('ended_at', 'is', null).execute();
      const by = new Map<string, number>();
      for (const o of open) by.set(`${o.status} on ${owners.get(o.sid) ?? 'a node started later'}`, (by.get(`${o.status} on ${owners.get(o.sid) ?? 'a node started later'}`) ?? 0) + 1);
      const alive = nodes.map((n) => `${n.id} ${n.proc.exitCode === null && n.proc.signalCode === null ? 'alive' : `exited (${n.proc.exitCode ?? n.proc.signalCode})`}`);
      throw new Error(`${err.message}: ${open.length} of ${CALLS} calls not ended (${[...by].map(([k, v]) => `${v} ${k}`).join(', ')}); ${alive.join(', ')}`);
    });

    // No call of a live node is disturbed: it ends as its scenario does. Only the killed node's may end node_lost.
    const disturbed = ended.filter((r) => {
      const expected = NUMBERS[sids.indexOf(r.sid) % NUMBERS.length].status;
      if (r.status === expected) return false;
      return !(owners.get(r.sid) === victim.id && r.status === 'failed' && r.end_reason === 'node_lost');
    });
    expect(disturbed.map((r) => `${r.sid} ${r.status}/${r.end_reason ?? ''} on ${owners.get(r.sid) ?? 'a live node'}`)).toEqual([]);

    // Every call_completed is delivered; a repeat is recognisable by its Webhook-Id.
    const completed = () => deliveries.filter((d) => d.body?.event === 'call_completed');
    await until(async () => new Set(completed().map((d) => d.body.sid)).size >= CALLS, 60_000, 'every call_completed').catch((err: Error) => {
      const got = new Set(completed().map((d) => d.body.sid));
      throw new Error(`${err.message}: ${sids.filter((s) => !got.has(s)).length} of ${CALLS} never delivered`);
    });
    const idOf = new Map<string, string>();
    for (const d of completed()) {
      expect(d.webhookId).toMatch(/\S/);
      expect(idOf.get(d.body.sid) ?? d.webhookId, `call ${d.body.sid} delivered twice under different ids`).toBe(d.webhookId);
      idOf.set(d.body.sid, d.webhookId);
    }
    expect([...idOf.keys()].sort()).toEqual([...sids].sort());

    // No transcript line stored is lost: what was stored before the faults is still there, and each call's
    // call_completed carries every line its call stored.
    const after = await storedLines();
    const lost = [...before].filter(([k, text]) => after.get(k) !== text).map(([k]) => k);
    expect(lost).toEqual([]);
    for (const d of completed()) {
      const stored = [...after].filter(([k]) => k.startsWith(`${d.body.sid}#`)).map(([, text]) => text);
      expect((d.body.data.transcripts as Array<{ content: string }>).map((t) => t.content).sort()).toEqual(stored.sort());
    }
  }, 300_000);
});
