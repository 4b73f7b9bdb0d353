/**
 * Start-call throughput: 50 concurrent clients POST /v1/start-call against an in-process Switchboard
 * (simulated phone network on a fast clock), once on the embedded PGlite store and once on PostgreSQL.
 * Prints one row per store: requests, calls/s, p50/p99 latency, non-2xx. Loopback only; stops by itself.
 *
 *   npm run bench:start-call                    # both stores
 *   BENCH_STORES=pglite npm run bench:start-call
 *
 * Environment (all optional):
 *   BENCH_STORES         pglite,postgres (default both; postgres is skipped with a note when unreachable)
 *   BENCH_DATABASE_URL   postgres://postgres@127.0.0.1:5432/test (a fresh schema is made and dropped)
 *   BENCH_CONNECTIONS    50      concurrent clients (keep-alive HTTP/1.1, one request in flight each)
 *   BENCH_DURATION       10      seconds measured, after BENCH_WARMUP seconds not measured (default 2)
 *   BENCH_TIME_SCALE     50      SIM_TIME_SCALE of the simulated network
 *   BENCH_PHONE          +15550100  number called (Bella Cucina: a short, successful call)
 *   BENCH_WORKERS        1       autocannon worker threads (0 = the load generator shares the server's thread)
 *   BENCH_THREAD_NICE    a niceness given to every thread but the main one once the store is open, as a server
 *                        pinned to one CPU gives 19 (under `taskset -c 0`: what that costs the API's throughput)
 *   BENCH_MODES          dialled,stored  dialled = every started call is dialled and run by the engine on
 *                        the same process and database (the real figure); stored = the call is stored as
 *                        `queued` but not handed to the dialer (the request path alone, for comparison)
 *   MAX_CONCURRENT_CALLS is passed through (default 200): calls beyond it wait in the dialer as `queued`.
 *
 * Timing figures live here, printed; never in test assertions.
 */
import autocannon from 'autocannon';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createSwitchboard, type Switchboard } from '../src/app.js';
import { loadConfig } from '../src/config/index.js';
import { niceOtherThreads } from '../src/lib/thread-priority.js';

const env = process.env;
const STORES = (env.BENCH_STORES ?? 'pglite,postgres').split(',').map((s) => s.trim()).filter(Boolean);
const DATABASE_URL = env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const CONNECTIONS = Number(env.BENCH_CONNECTIONS ?? 50);
const DURATION = Number(env.BENCH_DURATION ?? 10);
const WARMUP = Number(env.BENCH_WARMUP ?? 2);
const TIME_SCALE = env.BENCH_TIME_SCALE ?? '50';
const PHONE = env.BENCH_PHONE ?? '+15550100';
const WORKERS = Number(env.BENCH_WORKERS ?? 1);
const THREAD_NICE = env.BENCH_THREAD_NICE === undefined ? undefined : Number(env.BENCH_THREAD_NICE);
const MODES = (env.BENCH_MODES ?? 'dialled,stored').split(',').map((s) => s.trim()).filter(Boolean);
for (const m of MODES) if (m !== 'dialled' && m !== 'stored') throw new Error(`BENCH_MODES: unknown mode ${m} (dialled | stored)`);
const BODY = JSON.stringify({ phone_number: PHONE, task: 'Confirm my booking for Tuesday, reference AB123', language: 'en' });

interface Row {
  store: string;
  mode: string;
  duration: string;
  requests: number;
  callsPerSec: string;
  p50: string;
  p99: string;
  non2xx: number;
  errors: number;
  after: string;
}

async function build(store: string): Promise<{ sb: Switchboard; cleanup: () => Promise<void> } | null> {
  const baseEnv: Record<string, string | undefined> = {
    NODE_ENV: 'production',
    LOG_LEVEL: 'silent',
    SIM_TIME_SCALE: TIME_SCALE,
    HOST: '127.0.0.1',
    PORT: '0',
    // The per-key limit (default 1,000/min) would turn the benchmark into a rate-limit test.
    RATE_LIMIT_PER_MINUTE: '10000000',
    // Shutdown hangs up live calls at once instead of letting them finish.
    SHUTDOWN_GRACE_SECONDS: '0',
    MAX_CONCURRENT_CALLS: env.MAX_CONCURRENT_CALLS,
    SCENARIOS_DIR: env.SCENARIOS_DIR,
  };
  if (store === 'pglite') {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sb-bench-'));
    const sb = await createSwitchboard(loadConfig({ ...baseEnv, DATA_DIR: dir }));
    return { sb, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  if (store === 'postgres') {
    const probe = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 3000 });
    // A connection lost while idle is an 'error' event: without a listener it would end the run.
    probe.on('error', (err) => console.warn('database client error', err.message));
    try {
      await probe.connect();
    } catch (e) {
      console.log(`postgres: skipped (${DATABASE_URL} unreachable: ${(e as Error).message})`);
      return null;
    }
    const schema = `bench_${process.pid}_${Date.now().toString(36)}`;
    const sb = await createSwitchboard(loadConfig({ ...baseEnv, DATABASE_URL }), { schema });
    return {
      sb,
      cleanup: async () => {
        await probe.query(`drop schema if exists ${schema} cascade`);
        await probe.end();
      },
    };
  }
  throw new Error(`unknown store ${store} (pglite | postgres)`);
}

function cannon(url: string, key: string, seconds: number): Promise<autocannon.Result> {
  return autocannon({
    url: url + '/v1/start-call',
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: BODY,
    connections: CONNECTIONS,
    duration: seconds,
    ...(WORKERS > 0 ? { workers: WORKERS } : {}),
  });
}

async function statusCounts(sb: Switchboard): Promise<string> {
  const rows = await sb.store.db
    .selectFrom('calls')
    .select(['status', (eb) => eb.fn.countAll<string>().as('n')])
    .groupBy('status')
    .execute();
  return rows.map((r) => `${r.status} ${r.n}`).join(', ');
}

async function runStore(store: string, mode: string): Promise<Row | null> {
  const built = await build(store);
  if (!built) return null;
  const { sb, cleanup } = built;
  // As a server pinned to one CPU does itself once it listens (src/cli/serve.ts): its other threads yield the core.
  if (THREAD_NICE !== undefined) niceOtherThreads(THREAD_NICE);
  try {
    const { org } = await sb.core.orgs.ensure('bench', { credits: 1_000_000_000 });
    const key = await sb.core.orgs.createKey(org.id, 'bench');
    if (mode === 'stored') {
      // Calls are stored (with their dial jobs) and never dialled: no node takes them.
      await sb.dialJobs.stop(0);
      sb.core.calls.setLauncher({ reserve: () => false, release() {}, launch() {} });
    }
    const url = await sb.listen();
    if (WARMUP > 0) await cannon(url, key, WARMUP);
    const r = await cannon(url, key, DURATION);
    const ok = r['2xx'];
    const live = sb.dialer.liveCount;
    const after = `dialer: ${live} live; calls: ${await statusCounts(sb)}`;
    return {
      store: sb.store.kind,
      mode,
      duration: `${r.duration.toFixed(1)} s`,
      requests: r.requests.total,
      callsPerSec: (ok / r.duration).toFixed(0),
      p50: r.latency.p50.toFixed(0),
      p99: r.latency.p99.toFixed(0),
      non2xx: r.non2xx,
      errors: r.errors + r.timeouts,
      after,
    };
  } finally {
    const t = performance.now();
    await sb.shutdown();
    await cleanup();
    console.log(`${store} (${mode}): shut down in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  }
}

function table(rows: Row[]): string {
  const head = ['store', 'calls', 'duration', 'requests', 'calls/s', 'p50 ms', 'p99 ms', 'non-2xx', 'errors'];
  const body = rows.map((r) => [r.store, r.mode, r.duration, String(r.requests), r.callsPerSec, r.p50, r.p99, String(r.non2xx), String(r.errors)]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => '| ' + cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ') + ' |';
  return [line(head), '|' + widths.map((w, i) => (i < 2 ? '-'.repeat(w + 2) : '-'.repeat(w + 1) + ':')).join('|') + '|', ...body.map(line)].join('\n');
}

async function main() {
  const cfg = loadConfig({});
  console.log(
    `POST /v1/start-call · ${CONNECTIONS} connections · ${WARMUP} s warm-up + ${DURATION} s measured · SIM_TIME_SCALE ${TIME_SCALE} · ` +
      `MAX_CONCURRENT_CALLS ${env.MAX_CONCURRENT_CALLS ?? cfg.maxConcurrentCalls} · to ${PHONE} · autocannon workers ${WORKERS}`,
  );
  console.log(`node ${process.version} · ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}) · ${os.platform()} ${os.release()}`);
  const rows: Row[] = [];
  for (const store of STORES) {
    for (const mode of MODES) {
      const row = await runStore(store, mode);
      if (!row) break;
      rows.push(row);
      console.log(`${row.store} (${mode}): ${row.after}`);
    }
  }
  console.log('');
  console.log(table(rows));
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
