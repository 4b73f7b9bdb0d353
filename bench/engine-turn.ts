/**
 * The engine's own time per turn: from the callee's final words in (a final transcript delivered on the
 * voice channel) to the agent's first reply text handed to speech out (`VoiceChannel.say()`), with a fake
 * model that answers instantly. Runs 1, 100 and 500 concurrent calls through a real Switchboard built
 * in-process (real dialer, real CallSession, real store: every transcript line is written to the
 * database as it would be in production), and prints p50/p99/max per concurrency. Stops by itself.
 *
 *   npm run bench:engine
 *   BENCH_CONCURRENCY=500 BENCH_RUNS=3 npm run bench:engine
 *
 * Environment (all optional):
 *   BENCH_CONCURRENCY  1,100,500  calls in conversation at the same time (one Switchboard per run)
 *   BENCH_TURNS        20         utterances per call (each answered before the next is spoken)
 *   BENCH_MIN_TURNS    200        at least this many turns per run in all (1 call then makes 200 turns,
 *                                 so that its p99 is not simply its slowest of 20)
 *   BENCH_PAUSE_MS     0          the callee's pause after each reply before speaking again (0 = at once:
 *                                 the next utterance meets the engine still storing the previous reply;
 *                                 otherwise 0.5–1.5 × this, and each call starts within one pause, so the
 *                                 callees do not speak in step — closer to real calls, where the reply is
 *                                 spoken and the callee answers over seconds)
 *   BENCH_RUNS         1          runs per concurrency; with several, the table shows medians of the runs
 *   BENCH_STORE        pglite     pglite (temporary DATA_DIR, the embedded default) | memory (PGlite in
 *                                 memory) | postgres (BENCH_DATABASE_URL, a fresh schema, dropped after)
 *   BENCH_DATABASE_URL postgres://postgres@127.0.0.1:5432/test
 *   BENCH_TIMEOUT      180        seconds allowed per run before it is abandoned as failed
 *   BENCH_MARK         (unset)    1 = print the measured window in process.hrtime µs (to cut a --cpu-prof)
 *
 * The calls are all started and answered first; then every callee starts talking at the same moment.
 * A short warm-up conversation (not measured) runs first on each Switchboard.
 * Timing figures live here, printed; never in test assertions.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { createSwitchboard, type Switchboard } from '../src/app.js';
import { loadConfig } from '../src/config/index.js';
import { canonicalStartCall } from '../src/core/calls/request.js';
import { RealClock } from '../src/lib/clock.js';
import { BenchCarrier, type BenchLine } from './lib/bench-carrier.js';
import { INSTANT_REPLY, InstantBrain } from './lib/instant-brain.js';

const env = process.env;
const CONCURRENCY = (env.BENCH_CONCURRENCY ?? '1,100,500').split(',').map((s) => Number(s.trim())).filter((n) => n > 0);
const TURNS = Number(env.BENCH_TURNS ?? 20);
const MIN_TURNS = Number(env.BENCH_MIN_TURNS ?? 200);
const PAUSE_MS = Number(env.BENCH_PAUSE_MS ?? 0);
const RUNS = Number(env.BENCH_RUNS ?? 1);
const STORE = env.BENCH_STORE ?? 'pglite';
const DATABASE_URL = env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const TIMEOUT_S = Number(env.BENCH_TIMEOUT ?? 180);
const MARK = env.BENCH_MARK === '1';
const hrUs = () => Number(process.hrtime.bigint() / 1000n);

interface RunResult {
  concurrency: number;
  turns: number;
  p50: number;
  p99: number;
  max: number;
  /** Turns per second over the measured conversations. */
  rate: number;
  /** Transcript lines found in the database afterwards (2 per turn expected). */
  stored: number;
}

interface Bench {
  sb: Switchboard;
  carrier: BenchCarrier;
  orgId: string;
  cleanup(): Promise<void>;
}

async function build(): Promise<Bench> {
  const baseEnv: Record<string, string | undefined> = {
    NODE_ENV: 'production',
    LOG_LEVEL: 'silent',
    PORT: '0',
    MAX_CONCURRENT_CALLS: '1000',
    SHUTDOWN_GRACE_SECONDS: '0',
  };
  const carrier = new BenchCarrier();
  const overrides = { carrier, brain: new InstantBrain(), clock: new RealClock(1) };
  let sb: Switchboard;
  let cleanup: () => Promise<void>;
  if (STORE === 'pglite') {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sb-bench-turn-'));
    sb = await createSwitchboard(loadConfig({ ...baseEnv, DATA_DIR: dir }), overrides);
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
  } else if (STORE === 'memory') {
    sb = await createSwitchboard(loadConfig(baseEnv), { ...overrides, inMemory: true });
    cleanup = async () => {};
  } else if (STORE === 'postgres') {
    const schema = `bench_turn_${process.pid}_${Date.now().toString(36)}`;
    sb = await createSwitchboard(loadConfig({ ...baseEnv, DATABASE_URL }), { ...overrides, schema });
    cleanup = async () => {
      const c = new pg.Client({ connectionString: DATABASE_URL });
      // A connection lost while idle is an 'error' event: without a listener it would end the run.
      c.on('error', (err) => console.warn('database client error', err.message));
      await c.connect();
      await c.query(`drop schema if exists ${schema} cascade`);
      await c.end();
    };
  } else {
    throw new Error(`BENCH_STORE: unknown store ${STORE} (pglite | memory | postgres)`);
  }
  const { org } = await sb.core.orgs.ensure('bench', { credits: 1_000_000_000 });
  return { sb, carrier, orgId: org.id, cleanup };
}

/** Starts `n` calls and resolves with their lines once every one is answered and listening. */
async function connect(b: Bench, n: number): Promise<BenchLine[]> {
  const req = canonicalStartCall({ phone_number: '+15550100', task: 'bench', language: 'en' });
  const ids = await Promise.all(Array.from({ length: n }, async () => (await b.sb.core.calls.start(b.orgId, req)).call.id));
  const lines = await Promise.all(ids.map((id) => b.carrier.line(id)));
  await Promise.all(lines.map((l) => l.ready));
  return lines;
}

/** Plays the callee on every line at once; returns each turn's milliseconds and the elapsed time. */
async function converse(b: Bench, lines: BenchLine[], turns: number): Promise<{ times: number[]; elapsed: number }> {
  const times: number[] = [];
  const t0 = performance.now();
  await Promise.all(
    lines.map(async (line) => {
      // Paced callees do not speak in step: each starts at a random moment within one pause.
      if (PAUSE_MS > 0) await sleep(Math.random() * PAUSE_MS);
      for (let i = 0; i < turns; i++) {
        const ms = await line.speak(`This is the callee, utterance ${i + 1}. Can you help me?`);
        times.push(ms);
        if (line.said[line.said.length - 1]?.text !== INSTANT_REPLY) throw new Error('unexpected reply');
        if (PAUSE_MS > 0 && i < turns - 1) await sleep(PAUSE_MS * (0.5 + Math.random()));
      }
    }),
  );
  const elapsed = performance.now() - t0;
  for (const line of lines) line.hangUp();
  // Every session closes its call (end state, billing, call_completed) before the next run.
  while (b.sb.dialer.liveCount > 0) await sleep(20);
  for (const line of lines) b.carrier.forget(line.req.callId);
  return { times, elapsed };
}

function pct(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

async function run(concurrency: number): Promise<RunResult> {
  const b = await build();
  try {
    // Warm-up: a few short calls, not measured (JIT, statement caches, first-use allocations).
    await converse(b, await connect(b, Math.min(concurrency, 20)), 5);
    const before = await transcriptCount(b);
    const lines = await connect(b, concurrency);
    const from = hrUs();
    const { times, elapsed } = await converse(b, lines, Math.max(TURNS, Math.ceil(MIN_TURNS / concurrency)));
    if (MARK) console.log(`measured window (hrtime µs): ${from} ${from + Math.round(elapsed * 1000)}`);
    const stored = (await transcriptCount(b)) - before;
    times.sort((x, y) => x - y);
    return {
      concurrency,
      turns: times.length,
      p50: pct(times, 50),
      p99: pct(times, 99),
      max: times[times.length - 1],
      rate: times.length / (elapsed / 1000),
      stored,
    };
  } finally {
    await b.sb.shutdown();
    await b.cleanup();
  }
}

async function transcriptCount(b: Bench): Promise<number> {
  const r = await b.sb.store.db
    .selectFrom('call_events')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('kind', '=', 'transcript')
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

function withTimeout<T>(p: Promise<T>, s: number, what: string): Promise<T> {
  let t: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => (t = setTimeout(() => reject(new Error(`${what}: no result after ${s} s`)), s * 1000)));
  return Promise.race([p, timeout]).finally(() => clearTimeout(t));
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const ms = (x: number) => (x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : x.toFixed(0));

function table(head: string[], body: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (cells: string[]) => '| ' + cells.map((c, i) => c.padStart(widths[i])).join(' | ') + ' |';
  return [line(head), '|' + widths.map((w) => '-'.repeat(w + 1) + ':').join('|') + '|', ...body.map(line)].join('\n');
}

async function main() {
  console.log(
    `engine time per turn · store ${STORE} · ${TURNS} turns per call (≥ ${MIN_TURNS} per run) · pause ${PAUSE_MS} ms · ${RUNS} run(s) per concurrency · instant brain`,
  );
  console.log(`node ${process.version} · ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}) · ${os.platform()} ${os.release()}`);
  const rows: string[][] = [];
  for (const c of CONCURRENCY) {
    const results: RunResult[] = [];
    for (let i = 0; i < RUNS; i++) {
      const r = await withTimeout(run(c), TIMEOUT_S, `${c} concurrent calls`);
      results.push(r);
      console.log(
        `${c} calls, run ${i + 1}: ${r.turns} turns · p50 ${ms(r.p50)} ms · p99 ${ms(r.p99)} ms · max ${ms(r.max)} ms · ` +
          `${r.rate.toFixed(0)} turns/s · ${r.stored} transcript lines stored · load ${os.loadavg()[0].toFixed(1)}`,
      );
      if (r.stored !== 2 * r.turns) console.log(`  warning: expected ${2 * r.turns} transcript lines, found ${r.stored}`);
    }
    const m = (f: (r: RunResult) => number) => median(results.map(f));
    rows.push([String(c), String(m((r) => r.turns)), ms(m((r) => r.p50)), ms(m((r) => r.p99)), ms(m((r) => r.max)), m((r) => r.rate).toFixed(0)]);
  }
  console.log('');
  if (RUNS > 1) console.log(`medians of ${RUNS} runs`);
  console.log(table(['concurrent calls', 'turns', 'p50 ms', 'p99 ms', 'max ms', 'turns/s'], rows));
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
