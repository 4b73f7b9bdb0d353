/**
 * Cluster scaling: start-call throughput and live calls carried by 1, 2 and 3 Switchboard processes
 * (`node dist/cli/main.js serve`) on PostgreSQL (a fresh schema each) and a redis-server of the bench's own,
 * behind the local load balancer of `npm run cluster`. Loopback only; stops by itself; prints one row per
 * cluster size and the scaling ratio against one node.
 *
 *   npm run bench:cluster          (builds first; about 1.5 minutes)
 *
 * Environment (all optional):
 *   BENCH_DATABASE_URL   postgres://postgres@127.0.0.1:5432/test
 *   BENCH_NODES          1,2,3   cluster sizes
 *   BENCH_CONNECTIONS    50      concurrent clients (keep-alive, one request in flight each)
 *   BENCH_DURATION       10      seconds measured
 *   BENCH_TIME_SCALE     1       SIM_TIME_SCALE: at 1 a call to the restaurant lasts about a minute, so
 *                                every call started during the run is still live at its end
 *   BENCH_PHONE          +15550100
 *
 * Timing figures live here, printed; never in test assertions.
 */
import autocannon from 'autocannon';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Orgs } from '../src/core/orgs.js';
import { openStore } from '../src/store/index.js';
import { startBalancer } from '../scripts/cluster/balancer.js';
import { freePort, startNode, type ClusterNode } from '../scripts/cluster/nodes.js';
import { startOwnRedis } from '../scripts/cluster/redis.js';

const env = process.env;
const DATABASE_URL = env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const SIZES = (env.BENCH_NODES ?? '1,2,3').split(',').map(Number);
const CONNECTIONS = Number(env.BENCH_CONNECTIONS ?? 50);
const DURATION = Number(env.BENCH_DURATION ?? 10);
const TIME_SCALE = env.BENCH_TIME_SCALE ?? '1';
const PHONE = env.BENCH_PHONE ?? '+15550100';
const BODY = JSON.stringify({ phone_number: PHONE, task: 'Confirm my booking for Tuesday, reference AB123', language: 'en' });

interface Row {
  nodes: number;
  requests: number;
  callsPerSec: number;
  p50: number;
  p99: number;
  non2xx: number;
  live: number;
}

async function measure(size: number): Promise<Row> {
  const schema = `bench_cluster_${randomBytes(4).toString('hex')}`;
  const redis = await startOwnRedis();
  const store = await openStore({ databaseUrl: DATABASE_URL, schema, poolSize: 2 });
  const nodes: ClusterNode[] = [];
  const ports = await Promise.all(Array.from({ length: size }, () => freePort()));
  const balancer = await startBalancer({ port: 0, targets: ports.map((p) => `http://127.0.0.1:${p}`) });
  try {
    const orgs = new Orgs(store.db);
    const { org } = await orgs.ensure('bench', { credits: 1_000_000_000 });
    const key = await orgs.createKey(org.id, 'bench');
    const nodeEnv = {
      DATABASE_URL,
      DATABASE_SCHEMA: schema,
      REDIS_URL: redis.url,
      CREDENTIALS_KEY: randomBytes(32).toString('base64'),
      PUBLIC_URL: balancer.url,
      SIM_TIME_SCALE: TIME_SCALE,
      LOG_LEVEL: 'silent',
      SHUTDOWN_GRACE_SECONDS: '0',
      RATE_LIMIT_PER_MINUTE: '10000000',
      MAX_CONCURRENT_CALLS: '100000',
    };
    for (let i = 0; i < size; i++) nodes.push(await startNode({ id: `bench-n${i + 1}`, port: ports[i], env: nodeEnv }));
    const result = await autocannon({
      url: `${balancer.url}/v1/start-call`,
      method: 'POST',
      connections: CONNECTIONS,
      duration: DURATION,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: BODY,
    });
    if (result.non2xx + result.errors) console.log(`cluster of ${size}: 4xx ${result['4xx']}, 5xx ${result['5xx']}, errors ${result.errors}, timeouts ${result.timeouts}`);
    // Live calls carried at the end of the run: the sum of every node's own count.
    let live = 0;
    for (const n of nodes) live += ((await (await fetch(`${n.url}/healthz`)).json()) as { activeCalls: number }).activeCalls;
    return {
      nodes: size,
      requests: result['2xx'],
      callsPerSec: result['2xx'] / DURATION,
      p50: result.latency.p50,
      p99: result.latency.p99,
      non2xx: result.non2xx + result.errors,
      live,
    };
  } finally {
    for (const n of nodes) n.kill();
    await Promise.all(nodes.map((n) => n.exited));
    await balancer.close();
    await redis.stop();
    await store.close();
    const c = new pg.Client({ connectionString: DATABASE_URL });
    await c.connect();
    await c.query(`drop schema if exists ${schema} cascade`);
    await c.end();
  }
}

const rows: Row[] = [];
for (const size of SIZES) {
  process.stdout.write(`cluster of ${size}: measuring ${DURATION} s…\n`);
  rows.push(await measure(size));
}
const base = rows[0];
console.log(`\nstart-call through the balancer, ${CONNECTIONS} connections, ${DURATION} s, SIM_TIME_SCALE=${TIME_SCALE}, ${PHONE}`);
console.table(
  rows.map((r) => ({
    nodes: r.nodes,
    'calls/s': r.callsPerSec.toFixed(0),
    'p50 ms': r.p50,
    'p99 ms': r.p99,
    'non-2xx': r.non2xx,
    'live calls at end': r.live,
    'calls/s ratio': (r.callsPerSec / base.callsPerSec).toFixed(2),
    'live ratio': (r.live / Math.max(1, base.live)).toFixed(2),
  })),
);
