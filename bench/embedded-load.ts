/**
 * The embedded store's API latency while the node carries calls: a Switchboard on PGlite (in-process,
 * fresh temporary DATA_DIR) is filled with ~200 live simulated calls, kept topped up, and meanwhile 50
 * clients read calls (`GET /v1/calls/:id` of live calls) with a start-call every `BENCH_START_EVERY`
 * requests, and one client polls `/healthz`. Prints one row per run and the medians. Loopback only;
 * stops by itself. Each run is a process of its own (this file, run again), so every run starts from the
 * same cold process; `BENCH_IN_PROCESS=1` runs them all in this one (how the figures before 2026-12-02 11:00
 * were taken). `calls ended` (calls that reached an end state during the measured window) shows whether the
 * node was really carrying its calls: until FOREGROUND_BURST (src/store/pglite-pool.ts) went from 8 to 1, a
 * warm process served the API so fast that the calls' statements got one turn in nine and no call ended at
 * all — docs/performance.md §9. `store busy %` is the share of the measured window the store's thread (PGlite
 * on its worker) was busy: well under 100 % while clients wait means the one connection sat idle between
 * statements (docs/performance.md §11, "API reads under call load").
 *
 *   npm run bench:embedded-load
 *   BENCH_RUNS=1 BENCH_DURATION=10 npm run bench:embedded-load
 *
 * Environment (all optional):
 *   BENCH_RUNS           3      runs, each on a fresh server and data folder
 *   BENCH_LIVE           200    live calls to carry (MAX_CONCURRENT_CALLS is set to at least this)
 *   BENCH_CONNECTIONS    50     API clients (keep-alive HTTP/1.1, one request in flight each)
 *   BENCH_DURATION       15     seconds measured (after the node carries BENCH_LIVE calls)
 *   BENCH_WARMUP         5      seconds of the same load before the measured window, not counted: a node
 *                               that has carried calls a while has its code compiled (V8 optimises hot
 *                               functions after some use; validators, serialisers and prepared statements
 *                               are made on first use); 0 measures from a cold start
 *   BENCH_TIME_SCALE     5      SIM_TIME_SCALE: a call to Bella Cucina lasts about 25 s of clock time, so
 *                               ≈ 5 s here, and keeping 200 live takes ≈ 40 new calls a second: five times the
 *                               statements of 200 calls at real time (BENCH_TIME_SCALE=1, ≈ 8 new calls a second)
 *   BENCH_START_EVERY    20     one request in this many of the mix is a POST /v1/start-call (0: none)
 *   BENCH_PHONE          +15550100  number called (Bella Cucina: a receptionist, a full conversation)
 *   BENCH_FILL_SECONDS   120    at most this long to reach BENCH_LIVE live calls before the load starts
 *   BENCH_FILL_RATE      (auto) calls started per second while filling; by default BENCH_LIVE over one call's
 *                               length (BENCH_CALL_SECONDS / BENCH_TIME_SCALE), so that the calls' starts, and
 *                               so their ends and replacements, are spread over a call's life as real traffic's
 *                               are. Before 2026-12-02 the fill started them all at once: 200 calls then ended
 *                               together and were replaced together, a burst of ≈ 5,000 statements that gave the
 *                               ≈ 3 s maxima of docs/performance.md §9. 0: as fast as possible (the old way)
 *   BENCH_CALL_SECONDS   25     a call's length at SIM_TIME_SCALE 1 (Bella Cucina's conversation, measured: 200
 *                               live calls at SIM_TIME_SCALE 5 end ≈ 40 a second), for the above
 *   BENCH_PROFILE        (none) a folder: the server thread's CPU profile of each run's measured window
 *                               only (not start-up or fill) is written there, for Chrome DevTools
 *   BENCH_DIAL           1      0: calls are stored but never dialled (the same reads on an idle node, for
 *                               comparison: what the machine gives the API with no calls to carry)
 *
 * Timing figures live here, printed; never in test assertions.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import inspector from 'node:inspector';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type autocannon from 'autocannon';
import { createSwitchboard, type Switchboard } from '../src/app.js';
import { loadConfig } from '../src/config/index.js';

/** What the load thread (lib/embedded-load-worker.mjs) is given. */
interface LoadParams {
  url: string;
  key: string;
  callIds: string[];
  connections: number;
  seconds: number;
  startEvery: number;
  startBody: string;
}

const env = process.env;
const RUNS = Number(env.BENCH_RUNS ?? 3);
const LIVE = Number(env.BENCH_LIVE ?? 200);
const CONNECTIONS = Number(env.BENCH_CONNECTIONS ?? 50);
const DURATION = Number(env.BENCH_DURATION ?? 15);
const WARMUP = Number(env.BENCH_WARMUP ?? 5);
const TIME_SCALE = env.BENCH_TIME_SCALE ?? '5';
const START_EVERY = Number(env.BENCH_START_EVERY ?? 20);
const PHONE = env.BENCH_PHONE ?? '+15550100';
const FILL_SECONDS = Number(env.BENCH_FILL_SECONDS ?? 120);
const CALL_SECONDS = Number(env.BENCH_CALL_SECONDS ?? 25);
const FILL_RATE = Number(env.BENCH_FILL_RATE ?? LIVE / (CALL_SECONDS / Number(TIME_SCALE)));
const DIAL = env.BENCH_DIAL !== '0';
const BODY = JSON.stringify({ phone_number: PHONE, task: 'Confirm my booking for Tuesday, reference AB123', language: 'en' });

interface Row {
  requests: number;
  reqPerSec: number;
  p50: number;
  p99: number;
  max: number;
  timeouts: number;
  non2xx: number;
  ended: number;
  liveMin: number;
  liveMedian: number;
  waiting: number;
  healthP50: number;
  healthP99: number;
  healthMax: number;
  healthTimeouts: number;
  /** Share of the measured window the store's thread was busy (its event loop utilisation), percent. */
  storeBusy: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function startCall(url: string, key: string): Promise<string | null> {
  const r = await fetch(url + '/v1/start-call', {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: BODY,
  });
  const body = (await r.json()) as { id?: string };
  return r.ok ? (body.id ?? null) : null;
}

/** Calls waiting in the store for a free line (dial jobs not yet taken). */
async function waiting(sb: Switchboard): Promise<number> {
  const r = await sb.store.db.selectFrom('calls').select((e) => e.fn.countAll<string>().as('n')).where('status', '=', 'queued').where('owner_node', 'is', null).executeTakeFirstOrThrow();
  return Number(r.n);
}

/** Starts calls until `target` are live or waiting (or `until` has passed), `parallel` requests at a time. */
async function topUp(sb: Switchboard, url: string, key: string, target: number, ids: string[], parallel: number, until: number): Promise<void> {
  while (sb.dialer.liveCount + (await waiting(sb)) < target && Date.now() < until) {
    const missing = Math.min(parallel, target - sb.dialer.liveCount - (await waiting(sb)));
    const started = await Promise.all(Array.from({ length: missing }, () => startCall(url, key)));
    for (const id of started) if (id) ids.push(id);
  }
}

/** Starts calls at FILL_RATE a second until LIVE are live or waiting (or `until` has passed). */
async function fillSteadily(sb: Switchboard, url: string, key: string, ids: string[], until: number): Promise<void> {
  const began = Date.now();
  let started = 0;
  // LIVE starts at most: if calls are shorter than BENCH_CALL_SECONDS says, the rate alone never reaches LIVE,
  // and the caller's top-up starts the rest.
  while (started < LIVE && sb.dialer.liveCount + (await waiting(sb)) < LIVE && Date.now() < until) {
    const due = Math.min(LIVE, Math.floor(((Date.now() - began) / 1000) * FILL_RATE) + 1) - started;
    const batch = await Promise.all(Array.from({ length: due }, () => startCall(url, key)));
    for (const id of batch) if (id) ids.push(id);
    started += due;
    await sleep(50);
  }
}

function load(p: LoadParams): Promise<{ api: autocannon.Result; health: autocannon.Result }> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL('./lib/embedded-load-worker.mjs', import.meta.url), { workerData: p });
    w.once('message', (m: { api: autocannon.Result; health: autocannon.Result; error?: string }) =>
      m.error ? reject(new Error(m.error)) : resolve(m),
    );
    w.once('error', reject);
  });
}

async function run(i: number): Promise<Row> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sb-embedded-load-'));
  const sb = await createSwitchboard(
    loadConfig({
      NODE_ENV: 'production',
      LOG_LEVEL: 'silent',
      SIM_TIME_SCALE: TIME_SCALE,
      HOST: '127.0.0.1',
      PORT: '0',
      DATA_DIR: dir,
      // The per-key limit (default 1,000/min) would turn the benchmark into a rate-limit test.
      RATE_LIMIT_PER_MINUTE: '10000000',
      SHUTDOWN_GRACE_SECONDS: '0',
      MAX_CONCURRENT_CALLS: String(Math.max(LIVE, Number(env.MAX_CONCURRENT_CALLS ?? 0))),
    }),
  );
  try {
    const { org } = await sb.core.orgs.ensure('bench', { credits: 1_000_000_000 });
    const key = await sb.core.orgs.createKey(org.id, 'bench');
    const url = await sb.listen();
    const ids: string[] = [];
    if (!DIAL) {
      // Calls wait in the store, never dialled: neither this request's line nor a dial job takes them.
      sb.core.calls.setLauncher({ reserve: () => false, release() {}, launch() {} });
      await sb.dialJobs.stop(0);
      while (ids.length < LIVE) ids.push(...(await Promise.all(Array.from({ length: 10 }, () => startCall(url, key)))).filter((id) => id !== null));
    }
    // Fill the node (at most FILL_SECONDS), then keep it full while the load runs.
    const fillEnd = Date.now() + FILL_SECONDS * 1000;
    if (DIAL && FILL_RATE > 0) await fillSteadily(sb, url, key, ids, fillEnd);
    while (DIAL && sb.dialer.liveCount < LIVE * 0.95 && Date.now() < fillEnd) {
      await topUp(sb, url, key, LIVE, ids, 10, fillEnd);
      await sleep(100);
    }
    console.log(`run ${i}: ${sb.dialer.liveCount} live, ${await waiting(sb)} waiting; load starts`);
    const samples: number[] = [];
    let measuring = true;
    const keeper = (async () => {
      while (measuring) {
        samples.push(sb.dialer.liveCount);
        if (DIAL) await topUp(sb, url, key, LIVE, ids, 5, Date.now() + 1000);
        await sleep(250);
      }
    })();
    const params = { url, key, callIds: ids.slice(-LIVE), connections: CONNECTIONS, seconds: DURATION, startEvery: START_EVERY, startBody: BODY };
    // Calls ended and live calls count over the measured window only, not the warm-up before it.
    let windowStart = new Date();
    const measure = async () => {
      if (WARMUP > 0) await load({ ...params, seconds: WARMUP });
      windowStart = new Date();
      samples.length = 0;
      const profiler = env.BENCH_PROFILE ? await startProfile() : undefined;
      return { ...(await load(params)), profiler };
    };
    // The store's thread's busy share over the measured window only (after the warm-up).
    const measured = measure();
    if (WARMUP > 0) await sleep(WARMUP * 1000);
    const elu = sb.store.thread?.performance.eventLoopUtilization();
    const { api, health, profiler } = await measured.finally(() => (measuring = false));
    const storeBusy = elu && sb.store.thread ? sb.store.thread.performance.eventLoopUtilization(elu).utilization * 100 : NaN;
    const ended = await sb.store.db
      .selectFrom('calls')
      .select((e) => e.fn.countAll<string>().as('n'))
      .where('ended_at', '>=', windowStart)
      .executeTakeFirstOrThrow();
    await keeper;
    if (profiler) await profiler.stop(path.join(env.BENCH_PROFILE!, `embedded-load-${DIAL ? 'dialled' : 'idle'}-run${i}.cpuprofile`));
    const row: Row = {
      requests: api.requests.total,
      reqPerSec: Math.round(api.requests.total / api.duration),
      p50: api.latency.p50,
      p99: api.latency.p99,
      max: api.latency.max,
      timeouts: api.timeouts + api.errors,
      non2xx: api.non2xx,
      ended: Number(ended.n),
      liveMin: Math.min(...samples),
      liveMedian: median(samples),
      waiting: await waiting(sb),
      healthP50: health.latency.p50,
      healthP99: health.latency.p99,
      healthMax: health.latency.max,
      healthTimeouts: health.timeouts + health.errors,
      storeBusy,
    };
    console.log(`run ${i}: ${JSON.stringify(row)}`);
    return row;
  } finally {
    await sb.shutdown();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Profiles this (the server's) thread from now until `stop`, with the inspector. */
async function startProfile(): Promise<{ stop(file: string): Promise<void> }> {
  const session = new inspector.Session();
  session.connect();
  const post = <T>(method: string, params?: object) =>
    new Promise<T>((resolve, reject) => session.post(method, params ?? {}, (err, res) => (err ? reject(err) : resolve(res as T))));
  await post('Profiler.enable');
  await post('Profiler.start');
  return {
    async stop(file) {
      const { profile } = await post<{ profile: object }>('Profiler.stop');
      session.disconnect();
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, JSON.stringify(profile));
      console.log(`profile: ${file}`);
    },
  };
}

function table(rows: [string, Row][]): string {
  const head = ['run', 'requests', 'req/s', 'p50 ms', 'p99 ms', 'max ms', 'timeouts', 'non-2xx', 'calls ended', 'live min', 'live median', 'waiting at end', 'healthz p50', 'healthz p99', 'healthz max', 'healthz timeouts', 'store busy %'];
  const cells = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(1));
  const body = rows.map(([name, r]) => [
    name,
    ...[r.requests, r.reqPerSec, r.p50, r.p99, r.max, r.timeouts, r.non2xx, r.ended, r.liveMin, r.liveMedian, r.waiting, r.healthP50, r.healthP99, r.healthMax, r.healthTimeouts, r.storeBusy].map(cells),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (c: string[]) => '| ' + c.map((x, i) => (i === 0 ? x.padEnd(widths[i]) : x.padStart(widths[i]))).join(' | ') + ' |';
  return [line(head), '|' + widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : '-'.repeat(w + 1) + ':')).join('|') + '|', ...body.map(line)].join('\n');
}

async function main() {
  console.log(
    `PGlite · ${LIVE} ${DIAL ? 'live' : 'stored, never dialled,'} calls to ${PHONE} at SIM_TIME_SCALE ${TIME_SCALE} (filled at ${FILL_RATE > 0 ? `${FILL_RATE.toFixed(1)} calls/s` : 'once'}) · ${CONNECTIONS} clients: GET /v1/calls/:id, ` +
      `${START_EVERY > 0 ? `1 in ${START_EVERY} a POST /v1/start-call` : 'no start-calls'} · 1 client on /healthz · ${DURATION} s × ${RUNS} runs, each after ${WARMUP} s of the same load not counted`,
  );
  console.log(`node ${process.version} · ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}) · load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  const rows: [string, Row][] = [];
  for (let i = 1; i <= RUNS; i++) rows.push([String(i), env.BENCH_IN_PROCESS ? await run(i) : await runInChild(i)]);
  if (rows.length > 1) {
    const keys = Object.keys(rows[0][1]) as (keyof Row)[];
    rows.push(['median', Object.fromEntries(keys.map((k) => [k, median(rows.map(([, r]) => r[k]))])) as unknown as Row]);
  }
  console.log('');
  console.log(table(rows));
}

/** One run in a fresh process (this file again, with the same loader flags), its row read from its output. */
function runInChild(i: number): Promise<Row> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url)], { env: { ...env, BENCH_CHILD_RUN: String(i) }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      process.stdout.write(d);
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith(`run ${i}: {`));
      if (code !== 0 || !line) return reject(new Error(`run ${i} failed (exit ${code})`));
      resolve(JSON.parse(line.slice(line.indexOf('{'))) as Row);
    });
  });
}

const childRun = env.BENCH_CHILD_RUN ? Number(env.BENCH_CHILD_RUN) : undefined;
(childRun ? run(childRun) : main()).then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
