/**
 * Start-up time and resident memory of the embedded default (PGlite in a data folder, in-process bus,
 * simulated phone network), measured on the real server process: `node dist/cli/main.js serve`.
 *
 *   npm run bench:startup            # builds first, then BENCH_RUNS (default 5) of each measurement
 *
 * - first start: spawn on an empty DATA_DIR until `GET /healthz` answers (migrations and the
 *   development organisation included); a fresh folder each run.
 * - warm restart: the same, on a folder that already holds a database (stopped cleanly before).
 * - warm `npm start`: the same through `npm start` (dist/ up to date, so no compiling: the freshness check,
 *   npm itself, then the server), stopped by a SIGTERM sent to npm.
 * - RSS (VmRSS of the server process, from /proc/<pid>/status): idle 2 s after start-up, then with
 *   100 live calls (to the clinic phone menu +15550101 at real-time clock, whose hold queue keeps each
 *   call live for well over a minute), started with the key the first start prints.
 *
 * With each warm start, the CPU time the process tree had used when /healthz first answered: on a shared,
 * busy machine wall time says more about the other processes than about ours; CPU time far less.
 *
 * Environment: BENCH_RUNS (5), BENCH_LIVE_CALLS (100), BENCH_PHONE (+15550101).
 * Loopback only; every server it starts is stopped (SIGTERM, then SIGKILL after 10 s). Linux only (/proc).
 * Timing figures live here, printed; never in test assertions.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const MAIN = path.join(ROOT, 'dist', 'cli', 'main.js');
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const LIVE_CALLS = Number(process.env.BENCH_LIVE_CALLS ?? 100);
const PHONE = process.env.BENCH_PHONE ?? '+15550101';

interface Server {
  child: ChildProcess;
  port: number;
  /** ms from spawn until /healthz answered 200. */
  readyMs: number;
  /** CPU ms the process (and its children: npm's server) had used by then: what a busy machine disturbs least. */
  cpuMs: number;
  /** What the server itself printed ("started in N ms"). */
  selfMs: number | null;
  stdout: () => string;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

function request(port: number, method: string, p: string, body?: unknown, key?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path: p,
        agent: false,
        headers: {
          ...(data ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } : {}),
          ...(key ? { authorization: `Bearer ${key}` } : {}),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function start(dataDir: string, extraEnv: Record<string, string> = {}, via: 'node' | 'npm' = 'node'): Promise<Server> {
  const port = await freePort();
  let out = '';
  const t0 = performance.now();
  const [cmd, args] = via === 'npm' ? ['npm', ['start', '--silent']] : [process.execPath, [MAIN, 'serve']];
  const child = spawn(cmd, args, {
    cwd: ROOT,
    env: { ...process.env, DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', SHUTDOWN_GRACE_SECONDS: '0', ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.setEncoding('utf8').on('data', (c) => (out += c));
  child.stderr!.setEncoding('utf8').on('data', (c) => (out += c));
  let exited = false;
  child.once('exit', () => (exited = true));
  for (;;) {
    if (exited) throw new Error(`server exited before answering /healthz:\n${out}`);
    if (performance.now() - t0 > 60_000) {
      child.kill('SIGKILL');
      throw new Error(`no /healthz after 60 s:\n${out}`);
    }
    const ok = await request(port, 'GET', '/healthz').then((r) => r.status === 200, () => false);
    if (ok) break;
    await sleep(5);
  }
  const readyMs = performance.now() - t0;
  const cpuMs = treeCpuMs(child.pid!);
  // The banner is written just after listen(); give it a moment to arrive.
  for (let i = 0; i < 100 && !/started in \d+ ms/.test(out); i++) await sleep(10);
  const m = /started in (\d+) ms/.exec(out);
  return { child, port, readyMs, cpuMs, selfMs: m ? Number(m[1]) : null, stdout: () => out };
}

async function stop(s: Server): Promise<void> {
  if (s.child.exitCode !== null || s.child.signalCode !== null) return;
  const gone = new Promise<void>((r) => s.child.once('exit', () => r()));
  s.child.kill('SIGTERM');
  const t = setTimeout(() => s.child.kill('SIGKILL'), 10_000);
  await gone;
  clearTimeout(t);
}

/** User + system CPU of `pid` and its live descendants, in ms (from /proc; clock ticks of 10 ms). */
function treeCpuMs(pid: number): number {
  const stats = readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map((d) => {
      try {
        // Fields after the command name (which may hold spaces): state ppid … utime(14) stime(15).
        const f = readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1].split(' ');
        return { pid: Number(d), ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) };
      } catch {
        return undefined;
      }
    })
    .filter((x) => x !== undefined);
  const tree = new Set([pid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of stats) if (!tree.has(p.pid) && tree.has(p.ppid)) grew = !!tree.add(p.pid);
  }
  return stats.filter((p) => tree.has(p.pid)).reduce((n, p) => n + p.ticks, 0) * 10;
}

function rssMb(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}

function apiKey(stdout: string): string {
  const after = stdout.split('Its API key')[1];
  const m = after ? /\b(sk_[A-Za-z0-9_-]+)/.exec(after) : null;
  if (!m) throw new Error(`no API key in the first start's output:\n${stdout}`);
  return m[1];
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n === 0 ? NaN : n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};

function row(name: string, xs: number[], unit: string, digits = 0): string[] {
  return [name, String(xs.length), median(xs).toFixed(digits) + unit, Math.min(...xs).toFixed(digits) + unit, Math.max(...xs).toFixed(digits) + unit];
}

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => '| ' + cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ') + ' |';
  return [line(head), '|' + widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : '-'.repeat(w + 1) + ':')).join('|') + '|', ...rows.map(line)].join('\n');
}

async function main() {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} not found: run \`npm run build\` first (npm run bench:startup does)`);
  // `npm start` would rebuild a stale dist/ and the figure would be a build's.
  const { isStale } = (await import(path.join(ROOT, 'scripts', 'build.js'))) as { isStale(): boolean };
  if (isStale()) throw new Error('dist/ is older than src/: run `npm run build` first (npm run bench:startup does)');
  console.log(`node ${MAIN} serve · PGlite in a temp DATA_DIR · ${RUNS} runs each · ${LIVE_CALLS} live calls to ${PHONE} at SIM_TIME_SCALE 1`);
  console.log(`node ${process.version} · ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}) · ${os.platform()} ${os.release()} · load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);

  const first: number[] = [];
  const firstSelf: number[] = [];
  const warm: number[] = [];
  const warmSelf: number[] = [];
  const npmWarm: number[] = [];
  const warmCpu: number[] = [];
  const npmWarmCpu: number[] = [];
  const idle: number[] = [];
  const live: number[] = [];
  const liveHwm: number[] = [];
  const liveReached: number[] = [];
  const dirs: string[] = [];

  try {
    for (let run = 0; run < RUNS; run++) {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'sb-startup-'));
      dirs.push(dir);

      // First start on an empty folder.
      let s = await start(dir);
      first.push(s.readyMs);
      if (s.selfMs !== null) firstSelf.push(s.selfMs);
      const key = apiKey(s.stdout());
      await stop(s);

      // Warm start through `npm start`, stopped by signalling npm.
      s = await start(dir, {}, 'npm');
      npmWarm.push(s.readyMs);
      npmWarmCpu.push(s.cpuMs);
      await stop(s);

      // Warm restart on the same folder, then memory idle and with live calls.
      s = await start(dir, { SIM_TIME_SCALE: '1' });
      warm.push(s.readyMs);
      warmCpu.push(s.cpuMs);
      if (s.selfMs !== null) warmSelf.push(s.selfMs);
      try {
        await sleep(2000);
        idle.push(rssMb(s.child.pid!).rss);
        const started = await Promise.all(
          Array.from({ length: LIVE_CALLS }, () =>
            request(s.port, 'POST', '/v1/start-call', { phone_number: PHONE, task: 'Book a new appointment for next week', language: 'en' }, key),
          ),
        );
        const bad = started.filter((r) => r.status !== 200);
        if (bad.length) throw new Error(`${bad.length} start-calls failed, e.g. ${bad[0].status} ${bad[0].body}`);
        // Let every call get past ringing into the menu and the hold queue.
        let active = 0;
        for (let i = 0; i < 50; i++) {
          await sleep(200);
          active = JSON.parse((await request(s.port, 'GET', '/healthz')).body).activeCalls;
          if (active >= LIVE_CALLS && i >= 25) break;
        }
        liveReached.push(active);
        const m = rssMb(s.child.pid!);
        live.push(m.rss);
        liveHwm.push(m.hwm);
      } finally {
        await stop(s);
      }
      process.stdout.write(`run ${run + 1}/${RUNS}: first ${first.at(-1)!.toFixed(0)} ms, warm ${warm.at(-1)!.toFixed(0)} ms (CPU ${warmCpu.at(-1)} ms), npm start ${npmWarm.at(-1)!.toFixed(0)} ms (CPU ${npmWarmCpu.at(-1)} ms), idle ${idle.at(-1)!.toFixed(0)} MB, ${liveReached.at(-1)} live ${live.at(-1)!.toFixed(0)} MB\n`);
    }
  } finally {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }

  console.log('');
  console.log(`load at end ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  console.log(
    table(
      ['measurement', 'runs', 'median', 'min', 'max'],
      [
        row('first start: spawn → /healthz 200', first, ' ms'),
        row('  (server\'s own "started in")', firstSelf, ' ms'),
        row('warm restart: spawn → /healthz 200', warm, ' ms'),
        row('  (server\'s own "started in")', warmSelf, ' ms'),
        row('  (CPU used by then)', warmCpu, ' ms'),
        row('warm `npm start`: spawn → /healthz 200', npmWarm, ' ms'),
        row('  (CPU used by then: npm, the check, the server)', npmWarmCpu, ' ms'),
        row('RSS idle (2 s after start)', idle, ' MB'),
        row(`RSS with ${LIVE_CALLS} live calls`, live, ' MB'),
        row(`  peak RSS (VmHWM) by then`, liveHwm, ' MB'),
        row('  live calls seen by /healthz', liveReached, ''),
      ],
    ),
  );
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
