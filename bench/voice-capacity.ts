/**
 * Voice capacity (issue 10, "Done when"): how many audio calls one core carries. The built server
 * (`node --single-threaded-gc dist/cli/main.js serve`, embedded store: a one-core node as docs/operations.md
 * starts it) runs pinned to core 0 (`taskset -c 0`); this process, the
 * load, pins itself to core 1 and plays everything the server talks to, over the real wires on loopback:
 * Twilio (REST + one Media Streams socket a call, all calls' 20 ms frames from ONE timer, each call's at a phase
 * of its own within the 20 ms as independent streams arrive — ./lib/voice-capacity/twilio-driver.ts), Deepgram live and ElevenLabs `ulaw_8000` (./lib/voice-capacity/speech-fakes.ts), and
 * an OpenAI-compatible chat model (test/fakes/openai-chat.ts). Every call runs in audio mode (VOICE_MODE=audio,
 * `tts_provider: elevenlabs`): the callee says a phrase (test/fixtures/audio/greeting.ulaw), the speech-to-text
 * ends the turn after the server's endpointing, the model answers a short reply, its speech comes back as
 * paced frames; once the agent has been quiet for 600 ms the callee speaks again, for the whole run.
 *
 * For each number of live calls it prints: the server's CPU (% of one core, from /proc/<pid>/stat over the
 * measured window) in all and per call, its RSS and MB per call (RSS above the idle server's / calls), turn
 * latency p50/p99 (the callee's last sounding frame sent → the agent's first frame received), the largest
 * lateness of an outbound frame (how long the callee's playout of a reply ran dry before it arrived, as
 * Twilio plays from a buffer — see twilio-driver.ts; the largest gap between arrivals is printed beside it),
 * and in brackets the late frames read while this process's own loop was behind and the largest lateness of the
 * others (a frame read after a stall of the driver's own may owe it some of its lateness: the rule still counts
 * it), missed turns, and this process's own CPU and event-loop delay (p99 and max) beside the server's, and the host's
 * speed before and after (a fixed piece of work timed on the server's core: runs compare only when it does). The ramp stops at the first level that breaks
 * the rule (p99 within 100 ms of the idle server's, no frame later than 20 ms, no turn missed). At
 * BENCH_ADDED_AT calls the fakes are switched to 0 ms for one window: "the time Switchboard adds", the
 * speech-to-text's final sent → the agent's first frame received, p50/p99.
 *
 *   npm run bench:voice                                   (builds first; about 6 minutes)
 *   BENCH_CALLS=1,50 BENCH_SECONDS=10 npm run bench:voice (a quick look)
 *
 * Environment (all optional):
 *   BENCH_CALLS       1,100,250,500,750,1000   live calls at each level (1 = the idle baseline, first)
 *   BENCH_SECONDS     20     measured seconds per level, after BENCH_WARMUP seconds (default 5)
 *   BENCH_ADDED_AT    100    the level where "the time Switchboard adds" is measured (fakes at 0 ms)
 *   BENCH_ADDED_SECONDS 3 × BENCH_SECONDS   how long it is measured (≈ 900 turns at 100 calls: a steadier p99)
 *   BENCH_CPU_PROF    a folder: the server runs with --cpu-prof and writes its profile there on exit
 *   BENCH_NODE_ARGS   more flags for the server's node, space-separated (--max-semi-space-size=4,
 *                     --heapsnapshot-signal=SIGUSR2 …)
 *   BENCH_HELD_MB=1   after each level's window, a full garbage collection (through the server's inspector) and
 *                     its RSS then: what the calls hold, not garbage not yet collected (docs/performance.md §8)
 *   BENCH_SERVER_CORE 0, BENCH_DRIVER_CORE 1   the cores (taskset); BENCH_NO_PIN=1 pins nothing
 *   BENCH_GC          the pinned server runs as `npm start` runs it: on one core it nices its helper threads
 *                     (V8's collector marks on them) so that they yield the core to its own (docs/performance.md
 *                     §27); `single`: with --single-threaded-gc instead, as §19–§26 ran it (and docs/operations.md
 *                     advised until §27)
 *   BENCH_DRIVER_GC   this process, the load, runs with --single-threaded-gc on its core (it starts itself again
 *                     with the flag: §24); `parallel`: V8's default collector (its figures before §24)
 *   BENCH_IDLE_SECONDS 15  before the first call: the server's CPU with no call at all (an idle node), over this
 *                     many seconds after BENCH_WARMUP seconds of rest; 0 skips it
 *   BENCH_SERVER_MAIN dist/cli/main.js   the server build to run (a copy of another branch's dist/, to compare
 *                     two builds interleaved)
 *   BENCH_SERVER      null: instead of Switchboard, ./lib/voice-capacity/null-server.mjs — the same wires (Twilio,
 *                     Deepgram, the model, ElevenLabs) and nothing between them: what the host itself costs a turn
 *                     and a call, the floor under Switchboard's figures on the same host (docs/performance.md §25)
 *   BENCH_LOG_LEVEL   warn   the server's LOG_LEVEL
 *   BENCH_SERVER_LOG  a file: everything the server writes goes there too (with BENCH_NODE_ARGS=--trace-gc,
 *                     V8's line for each collection)
 *   BENCH_RAMP        all: every level runs even past one that breaks the rule (a loaded machine)
 *   BENCH_THREAD_NICE a niceness (e.g. 10) given to every thread of the server but its main one (V8's compiler
 *                     and GC helpers, the embedded store's worker, libuv's pool), set again before each window:
 *                     whether the main thread's wait for its one core is what the turn latency's tail is made of
 *   BENCH_IN_STEP=1   every call's frame in one burst each 20 ms instead of at its own phase: the worst case (a
 *                     node sees its streams in step only if they all started together), and how this bench ran
 *                     before 2026-12-04 (docs/performance.md §18)
 *   BENCH_STALLS=1    the server runs with ./lib/voice-capacity/stall-probe.mjs: each window's stalls of its main
 *                     thread (no timer run for over 12 ms), how many overlap a pause of the garbage collector, the
 *                     collector's pauses (docs/performance.md §19), and its time inside `postMessage` to the store's
 *                     thread (§30)
 *   BENCH_TRACE=1     the server logs at debug, which adds a timeline line per turn (AgentActivity): in the
 *                     "fakes at 0 ms" window each turn's added time is split where it went — the final's way in
 *                     (fake's send → the server's activity heard it), the server's steps (turn start, the model's
 *                     first output, the first clause, the first frame handed to the carrier), and the frame's way
 *                     out (handed over → received here) — printed as percentiles and the slowest turns; with
 *                     BENCH_STALLS=1 as well, beside each turn the collector's pauses and the server's timer gaps over
 *                     4 ms within it, and how often the slowest tenth met each against the rest (§26)
 *
 * The fakes' "real time": Deepgram answers 50 ms after the server's endpointing (VOICE_ENDPOINTING_MS, default
 * 500) of silence; the model's first token after 300 ms, then a 4-character piece every 15 ms; ElevenLabs'
 * first byte after 150 ms, then the audio twice as fast as it plays. Timing figures live here, printed; never
 * in test assertions.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, existsSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import WebSocket from 'ws';
import { freePort } from '../scripts/cluster/nodes.js';
import { startOpenAiChatFake } from '../test/fakes/openai-chat.js';
import { TwilioDriver, type Window } from './lib/voice-capacity/twilio-driver.js';
import { API_KEYS, startDeepgram, startElevenLabs, type Latency } from './lib/voice-capacity/speech-fakes.js';

const env = process.env;
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// BENCH_SERVER_MAIN: another build of the server (e.g. a copy of main's dist/), to compare two builds
// interleaved on a loaded machine with the same load and fakes.
const MAIN = env.BENCH_SERVER_MAIN ? path.resolve(env.BENCH_SERVER_MAIN) : path.join(ROOT, 'dist/cli/main.js');
if (env.BENCH_SERVER !== undefined && env.BENCH_SERVER !== 'null') throw new Error(`BENCH_SERVER: ${env.BENCH_SERVER} is not \`null\` (unset: Switchboard)`);
/** The null server instead of Switchboard (BENCH_SERVER=null): the host's own floor. */
const NULL_SERVER = env.BENCH_SERVER === 'null';
const NULL_MAIN = path.join(ROOT, 'bench/lib/voice-capacity/null-server.mjs');
const IDLE_SECONDS = Number(env.BENCH_IDLE_SECONDS ?? 15);
const LEVELS = (env.BENCH_CALLS ?? '1,100,250,500,750,1000').split(',').map(Number);
const SECONDS = Number(env.BENCH_SECONDS ?? 20);
const WARMUP = Number(env.BENCH_WARMUP ?? 5);
const ADDED_AT = Number(env.BENCH_ADDED_AT ?? 100);
// The p99 of a 20 s window is its third-slowest turn of ≈ 300: one stall more or less moves it by tens of ms.
const ADDED_SECONDS = Number(env.BENCH_ADDED_SECONDS ?? 3 * SECONDS);
const PIN = env.BENCH_NO_PIN !== '1';
const WHOLE_RAMP = env.BENCH_RAMP === 'all';
const HELD = env.BENCH_HELD_MB === '1';
const STALLS = env.BENCH_STALLS === '1';
// The server pinned to one core runs as `npm start` would run it: its helper threads then yield the core to its
// own (src/cli/serve.ts, docs/performance.md §27). BENCH_GC=single: with V8's collector on the server's thread
// (`--single-threaded-gc`, the bench's default from §19 to §26).
const SERVER_GC_FLAGS = PIN && env.BENCH_GC === 'single' ? ['--single-threaded-gc'] : [];
// The load, on the other core, runs with its collector on its own thread (§24): BENCH_DRIVER_GC=parallel does not.
const DRIVER_GC_FLAGS = PIN && env.BENCH_DRIVER_GC !== 'parallel' ? ['--single-threaded-gc'] : [];
const SERVER_CORE = env.BENCH_SERVER_CORE ?? '0';
const DRIVER_CORE = env.BENCH_DRIVER_CORE ?? '1';
const TRACE = env.BENCH_TRACE === '1';
const THREAD_NICE = env.BENCH_THREAD_NICE === undefined ? undefined : Number(env.BENCH_THREAD_NICE);
for (const n of LEVELS) if (!Number.isInteger(n) || n < 1) throw new Error(`BENCH_CALLS: ${n} is not a whole number of calls ≥ 1`);

const ACCOUNT = 'AC' + 'be4c'.repeat(8);
const TOKEN = 'bench-voice-capacity-auth-token0';
const PHRASE_TEXT = 'Good evening, Bella Cucina, Anna speaking.';
const REPLY = 'Hello, this is Alex, about the booking on Tuesday.';
const fixture = (name: string) => readFileSync(path.join(ROOT, 'test/fixtures/audio', name));
const REAL_TIME: Latency = { sttMs: 50, llmFirstMs: 300, llmPieceMs: 15, ttsFirstMs: 150, ttsSpeed: 2 };
const ZERO: Latency = { sttMs: 0, llmFirstMs: 0, llmPieceMs: 0, ttsFirstMs: 0, ttsSpeed: 1 };
const REPLY_TIMEOUT_MS = 10_000;

/** The time Switchboard adds to a turn (fakes at 0 ms), ms. */
interface Added {
  calls: number;
  turns: number;
  p50: number;
  p90: number;
  p99: number;
}

interface Row {
  calls: number;
  turns: number;
  cpuPct: number;
  rssMb: number;
  p50: number;
  p99: number;
  maxLate: number;
  maxGap: number;
  lateGaps: number;
  /** Late frames read while this process's own loop was behind (the driver's stall may be part of their lateness). */
  lateAfterOwnStall: number;
  /** The largest lateness of a frame read with this process's loop on time. */
  maxLateOwnClear: number;
  missed: number;
  driverCpuPct: number;
  driverLagP99: number;
  /** The driver's longest event-loop delay (ms): a stall of its own that long is read as lateness of the server's. */
  driverLagMax: number;
  /** RSS right after a full garbage collection (BENCH_HELD_MB). */
  heldRssMb?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/** utime + stime of `pid`, in seconds. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** Every thread of `pid` but its main one gets niceness `n` (Linux: a thread id is a pid to setpriority). */
function niceHelperThreads(pid: number, n: number): void {
  for (const tid of readdirSync(`/proc/${pid}/task`).map(Number)) if (tid !== pid) os.setPriority(tid, n);
}

function rssMb(pid: number): number {
  const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) / 1024;
}

function pct(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function main(): Promise<void> {
  if (!NULL_SERVER && !existsSync(MAIN)) throw new Error('dist/ is missing: run `npm run build` (npm run bench:voice does)');
  if (PIN) execFileSync('taskset', ['-a', '-p', '-c', DRIVER_CORE, String(process.pid)], { stdio: 'ignore' });
  const latency: Latency = { ...REAL_TIME };
  const greeting = fixture('greeting.ulaw');
  const driver = new TwilioDriver({ accountSid: ACCOUNT, authToken: TOKEN, phrase: greeting, quietMs: 600, replyTimeoutMs: REPLY_TIMEOUT_MS, spreadMs: 8000, ringMs: 2000, staggered: env.BENCH_IN_STEP !== '1' });
  await driver.start();
  const deepgram = await startDeepgram(latency, { text: PHRASE_TEXT, audioMs: greeting.length / 8 }, (idx, at) => driver.finalSent(idx, at));
  const eleven = await startElevenLabs(latency, fixture('menu.ulaw'));
  const llm = await startOpenAiChatFake();
  llm.script(() => ({ text: REPLY, delayMs: latency.llmFirstMs, chunkDelayMs: latency.llmPieceMs, usage: { prompt_tokens: 400, completion_tokens: 20 } }));

  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'switchboard-voice-bench-'));
  const port = await freePort();
  const serverEnv: Record<string, string> = {
    PATH: env.PATH ?? '',
    NODE_ENV: 'production',
    DATA_DIR: dataDir,
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    LOG_LEVEL: TRACE ? 'debug' : (env.BENCH_LOG_LEVEL ?? 'warn'),
    SHUTDOWN_GRACE_SECONDS: '0',
    RATE_LIMIT_PER_MINUTE: '10000000',
    MAX_CONCURRENT_CALLS: '100000',
    CARRIER: 'twilio',
    TWILIO_ACCOUNT_SID: ACCOUNT,
    TWILIO_AUTH_TOKEN: TOKEN,
    TWILIO_FROM_NUMBER: '+15005550006',
    TWILIO_API_BASE_URL: driver.url,
    VOICE_MODE: 'audio',
    STT_PROVIDER: 'deepgram',
    DEEPGRAM_API_KEY: API_KEYS.deepgram,
    DEEPGRAM_BASE_URL: deepgram.url,
    ELEVENLABS_API_KEY: API_KEYS.elevenlabs,
    ELEVENLABS_BASE_URL: eleven.url,
    LLM_BASE_URL: llm.url,
    LLM_API_KEY: 'bench-llm-key',
    LLM_MODEL: 'gpt-4o-mini',
    // BENCH_DATABASE_URL: PostgreSQL instead of the embedded store (with a schema of its own, dropped at the end), to tell the
    // store's share of the server's thread from the rest.
    ...(env.BENCH_DATABASE_URL ? { DATABASE_URL: env.BENCH_DATABASE_URL, DATABASE_SCHEMA: `bench_voice_${process.pid}`, CREDENTIALS_KEY: 'ab'.repeat(32) } : {}),
  };
  /** The run's schema on PostgreSQL is dropped when the run ends, as the other benches' are. */
  const dropSchema = async () => {
    if (!env.BENCH_DATABASE_URL) return;
    const c = new pg.Client({ connectionString: env.BENCH_DATABASE_URL });
    // A connection lost while idle is an 'error' event: without a listener it would end the run.
    c.on('error', (err) => console.warn('database client error', err.message));
    await c.connect();
    await c.query(`drop schema if exists ${serverEnv.DATABASE_SCHEMA} cascade`);
    await c.end();
  };
  const key = NULL_SERVER ? 'none' : execFileSync(process.execPath, [MAIN, 'keys', 'create', '--org', 'bench', '--credits', '1000000000'], { env: serverEnv }).toString().trim();
  const referenceBefore = referenceWorkMs();
  const profile = env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(env.BENCH_CPU_PROF)}`] : [];
  const extra = env.BENCH_NODE_ARGS ? env.BENCH_NODE_ARGS.split(' ').filter(Boolean) : [];
  const inspectPort = HELD ? await freePort() : 0;
  if (HELD) extra.push(`--inspect=127.0.0.1:${inspectPort}`);
  const stallFile = path.join(dataDir, 'stalls.jsonl');
  if (STALLS) {
    extra.push('--import', path.join(ROOT, 'bench/lib/voice-capacity/stall-probe.mjs'));
    serverEnv.STALL_PROBE_FILE = stallFile;
  }
  /** Each measured window, in wall-clock ms: the stall probe's lines are summed over it. */
  const spans: Span[] = [];
  const nodeArgs = [...SERVER_GC_FLAGS, ...profile, ...extra, ...(NULL_SERVER ? [NULL_MAIN] : [MAIN, 'serve'])];
  const server = PIN ? spawn('taskset', ['-c', SERVER_CORE, process.execPath, ...nodeArgs], { env: serverEnv, stdio: ['ignore', 'pipe', 'pipe'] }) : spawn(process.execPath, nodeArgs, { env: serverEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const timelines = new Map<string, Timeline[]>();
  let partial = '';
  // BENCH_SERVER_LOG: everything the server writes, kept in a file (with BENCH_NODE_ARGS=--trace-gc, its GC's own account).
  const serverLog = env.BENCH_SERVER_LOG ? path.resolve(env.BENCH_SERVER_LOG) : undefined;
  const keep = (b: Buffer) => {
    const text = b.toString();
    if (serverLog) appendFileSync(serverLog, text);
    output.push(text);
    if (output.length > 200) output.shift();
    if (TRACE) partial = readTimelines(partial + text, timelines);
  };
  server.stdout!.on('data', keep);
  server.stderr!.on('data', keep);
  // Interrupted (Ctrl-C, a timeout): the server goes too.
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      server.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
      dropSchema().then(() => process.exit(130), () => process.exit(130));
    });
  }
  const base = `http://127.0.0.1:${port}`;
  const rows: Row[] = [];
  let added: Added | undefined;
  let stopped = '';
  let serverView = '';
  let idleCpuPct = NaN;
  // A server that dies during the run (a crash, a V8 flag it cannot take) ends the bench with its last words,
  // rather than leaving the load waiting for calls nothing will answer.
  let ending = false;
  const died = new Promise<never>((_, reject) =>
    server.once('exit', (code, signal) => {
      if (!ending) reject(new Error(`the server exited (${signal ?? `code ${code}`}) during the run: ${output.join('').slice(-2000)}`));
    }),
  );
  died.catch(() => undefined); // raced below; an exit after the run is ours
  try {
    const run = async (): Promise<void> => {
      await healthy(base, server, output);
      const pid = server.pid!;
      if (IDLE_SECONDS > 0) {
        await sleep(WARMUP * 1000);
        const c0 = cpuSeconds(pid);
        await sleep(IDLE_SECONDS * 1000);
        idleCpuPct = ((cpuSeconds(pid) - c0) / IDLE_SECONDS) * 100;
        console.log(`  no call (idle node): server ${f(idleCpuPct, 2)} % CPU over ${IDLE_SECONDS} s`);
      }
      let started = 0;
      const lag = monitorEventLoopDelay({ resolution: 10 });
      lag.enable();
      for (const target of LEVELS) {
        if (target > started) {
          await startCalls(base, key, started, target - started);
          started = target;
        }
        const filled = await waitFor(() => driver.live >= target, 60_000 + target * 200, () => '').then(() => true, () => false);
        if (!filled) {
          // The server could not bring the calls up in time: that is where the ramp ends (the table so far is printed).
          const short = `only ${driver.live} of ${target} calls got a media stream in time (lost: ${JSON.stringify([...driver.lostWhy])})`;
          stopped = stopped ? `${stopped}; ${short}` : short;
          if (!rows.length) throw new Error(`${short}; server said: ${output.join('').slice(-1500)}`);
          break;
        }
        if (THREAD_NICE !== undefined) niceHelperThreads(pid, THREAD_NICE);
        // The idle server's one call has few turns a window: it is watched three times as long.
        const from = Date.now();
        const row = await measure(driver, pid, target, rows.length ? SECONDS : 3 * SECONDS, lag, () => llm.requests.splice(0));
        spans.push({ label: `${target} calls`, from, to: Date.now() });
        // The bench measures μ-law from ElevenLabs; a server speaking through another synthesiser would measure that one.
        if (!eleven.requests) throw new Error('no call spoke through the ElevenLabs fake: the server chose another voice (speechFromConfig\'s voice rules)');
        if (HELD) row.heldRssMb = await heldRss(inspectPort, pid);
        rows.push(row);
        printRow(row, rows[0]);
        if (target === ADDED_AT) {
          Object.assign(latency, ZERO);
          await sleep(WARMUP * 1000);
          const m0 = await turnMetrics(base);
          const from = Date.now();
          const w = await windowOf(driver, 0, ADDED_SECONDS);
          spans.push({ label: `${target} calls, fakes at 0 ms`, from, to: Date.now() });
          const m1 = await turnMetrics(base);
          if (!NULL_SERVER) serverView = meansSince(m0, m1);
          Object.assign(latency, REAL_TIME);
          const a = w.addedMs.sort((x, y) => x - y);
          added = { calls: target, turns: a.length, p50: pct(a, 50), p90: pct(a, 90), p99: pct(a, 99) };
          console.log(`  fakes at 0 ms, ${target} calls: final transcript → first frame p50 ${added.p50.toFixed(1)} ms, p90 ${added.p90.toFixed(1)} ms, p99 ${added.p99.toFixed(1)} ms over ${added.turns} turns`);
          if (TRACE && !NULL_SERVER) {
            // A turn's line is written once its first clause was heard; the stall probe writes every 10 s.
            await sleep(STALLS ? 10_500 : 2000);
            printTimelines(w, timelines, STALLS ? probeEvents(stallFile) : undefined);
            console.log(`  the server's thread in that window (prom-client): event-loop delay max ${f((m1.get('nodejs_eventloop_lag_max_seconds') ?? NaN) * 1000)} ms, p99 ${f((m1.get('nodejs_eventloop_lag_p99_seconds') ?? NaN) * 1000)} ms; ${gcSince(m0, m1)}`);
          }
          await sleep(WARMUP * 1000);
        }
        // The idle row is the baseline: its own late frames are reported, but the ramp goes on from it.
        if (rows.length > 1 && !carries(row, rows[0]) && !stopped) {
          stopped = `${target} calls broke the rule: ${why(row, rows[0])}`;
          if (!WHOLE_RAMP) break;
        }
      }
    };
    await Promise.race([run(), died]);
  } finally {
    ending = true;
    server.kill('SIGTERM');
    await new Promise((r) => (hasExited(server) ? r(null) : server.once('exit', r)));
    await driver.close();
    await deepgram.close();
    await eleven.close();
    await llm.close();
    if (STALLS) printStalls(stallFile, spans);
    rmSync(dataDir, { recursive: true, force: true });
    await dropSchema();
  }
  report(rows, added, stopped);
  console.log(`\nThe host's speed (the reference work on the server's core, CPU ms; less is faster): ${f(referenceBefore)} before the ramp, ${f(referenceWorkMs())} after it`);
  if (Number.isFinite(idleCpuPct)) console.log(`\nIdle node (no call, ${IDLE_SECONDS} s): server ${f(idleCpuPct, 2)} % of a core`);
  if (serverView) console.log(`\nThe server's own per-turn figures in that window (/metrics, means): ${serverView}`);
}

/**
 * The host's speed now: a fixed piece of work like the server's per frame (a Media Streams message made, parsed and
 * its payload decoded, 100,000 times) timed in a process of its own on the server's core, its CPU time in ms. A
 * shared host's speed moves by up to 2× within the hour (docs/performance.md §24): two runs compare only when this
 * figure does.
 */
function referenceWorkMs(): number {
  const work = `const t=process.cpuUsage();let n=0;const b=Buffer.alloc(160,7);for(let i=0;i<100000;i++){const m=JSON.stringify({event:'media',sequenceNumber:String(i),media:{payload:b.toString('base64')}});n+=Buffer.from(JSON.parse(m).media.payload,'base64').length}const u=process.cpuUsage(t);console.log((u.user+u.system)/1000,n)`;
  const args = [process.execPath, '-e', work];
  const out = PIN ? execFileSync('taskset', ['-c', SERVER_CORE, ...args]) : execFileSync(args[0], args.slice(1));
  return Number(out.toString().split(' ')[0]);
}

interface Span {
  label: string;
  from: number;
  to: number;
}

/** The stall probe's account of each window (stall-probe.mjs writes a line every 10 s, times from the server's start). */
function printStalls(file: string, spans: Span[]): void {
  if (!existsSync(file)) return console.log('\n  the stall probe wrote nothing');
  const lines = readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { origin: number; at: number; stalls: Array<[number, number, number]>; gc: [number, number]; posts?: [number, number, number, number] });
  console.log('\n  the server\'s main thread (BENCH_STALLS): gaps of its 2 ms timer over 12 ms, in each window');
  console.log('  | window | stalls 12–20 ms | 20–40 ms | ≥ 40 ms | longest (ms) | with a GC pause in it | GC pauses (≈, the probe\'s 10 s lines) | posts to the store\'s thread: over 100 µs of all, longest, total (ms) |');
  console.log('  |---|---:|---:|---:|---:|---:|---|---|');
  for (const w of spans) {
    const stalls = lines.flatMap((l) => l.stalls.map(([s, ms, gc]) => ({ at: l.origin + s, ms, gc }))).filter((x) => x.at >= w.from && x.at < w.to);
    const gcLines = lines.filter((l) => l.origin + l.at > w.from && l.origin + l.at - 10_000 < w.to);
    const n = (lo: number, hi: number) => stalls.filter((x) => x.ms >= lo && x.ms < hi).length;
    const gc = gcLines.reduce((sum, l) => [sum[0] + l.gc[0], sum[1] + l.gc[1]], [0, 0]);
    const posts = gcLines.reduce((sum, l) => (l.posts ? [sum[0] + l.posts[0], sum[1] + l.posts[1], Math.max(sum[2], l.posts[2]), sum[3] + l.posts[3]] : sum), [0, 0, 0, 0]);
    console.log(`  | ${w.label} | ${n(12, 20)} | ${n(20, 40)} | ${n(40, Infinity)} | ${f(Math.max(0, ...stalls.map((x) => x.ms)))} | ${stalls.filter((x) => x.gc > 0).length} of ${stalls.length} | ${gc[0]} pauses, ${f(gc[1])} ms over ${gcLines.length * 10} s | ${posts[1]} of ${posts[0]}, ${f(posts[2])}, ${f(posts[3])} |`);
  }
}

/** A turn's timeline as the server logged it (AgentActivity `timeline`): `at` ms since the epoch, the rest ms after it. */
interface Timeline {
  at: number;
  turnStart: number | null;
  firstOutput: number | null;
  firstClause: number | null;
  firstFrame: number | null;
}

/** Takes the complete `turn timeline` lines out of the server's output; returns the unfinished last line. */
function readTimelines(text: string, into: Map<string, Timeline[]>): string {
  const lines = text.split('\n');
  const rest = lines.pop() ?? '';
  for (const line of lines) {
    if (!line.includes('"turn timeline"')) continue;
    const l = JSON.parse(line) as { callId: string; timeline: Timeline };
    const list = into.get(l.callId) ?? [];
    list.push(l.timeline);
    into.set(l.callId, list);
  }
  return rest;
}

/**
 * Each turn of the window split where its time went: the driver's final sent → the server heard it ("in"),
 * the server's steps, and its first frame handed to the carrier → received by the driver ("out").
 */
function printTimelines(w: Window, timelines: Map<string, Timeline[]>, probe?: ProbeEvents): void {
  const rows: Array<Record<string, number>> = [];
  for (const t of w.addedTurns) {
    const s = timelines.get(t.callId)?.find((l) => l.at >= t.finalAt - 5 && l.at <= t.frameAt);
    if (!s || s.firstFrame === null) continue;
    // With the stall probe: how much of the turn the collector paused the server's thread, and how much of it
    // the thread's 2 ms timer was late by more than 4 ms (busy or paused: the turn's hops waited).
    const within: Record<string, number> = probe ? { gc: overlapMs(probe.pauses, t.finalAt, t.frameAt), gaps: overlapMs(probe.gaps, t.finalAt, t.frameAt) } : {};
    rows.push({
      ...within,
      added: t.frameAt - t.finalAt,
      in: s.at - t.finalAt,
      turnStart: s.turnStart ?? NaN,
      firstOutput: s.firstOutput ?? NaN,
      firstClause: s.firstClause ?? NaN,
      firstFrame: s.firstFrame,
      out: t.frameAt - (s.at + s.firstFrame),
    });
  }
  console.log(`\n  where the added time went (BENCH_TRACE), ${rows.length} of ${w.addedTurns.length} turns matched to the server's timeline; ms after the final was sent, except "in"/"out":`);
  const cols = ['added', 'in', 'turnStart', 'firstOutput', 'firstClause', 'firstFrame', 'out', ...(probe ? ['gc', 'gaps'] : [])];
  if (probe) console.log('  (gc: the collector\'s pauses of the server\'s thread within the turn; gaps: its 2 ms timer late by over 4 ms within it — the stall probe)');
  console.log(`  | | ${cols.join(' | ')} |`);
  console.log(`  |---|${cols.map(() => '---:').join('|')}|`);
  for (const p of [50, 90, 99, 100]) {
    console.log(`  | p${p} | ${cols.map((c) => f(pct(rows.map((r) => r[c]).sort((a, b) => a - b), p))).join(' | ')} |`);
  }
  console.log('  the slowest turns:');
  for (const r of rows.sort((a, b) => b.added - a.added).slice(0, 8)) console.log(`  | | ${cols.map((c) => f(r[c])).join(' | ')} |`);
  if (!probe) return;
  // The slowest tenth against the rest: is the tail the collector's, the thread's other work, or neither?
  const slow = rows.slice(0, Math.max(1, Math.round(rows.length / 10)));
  const rest = rows.slice(slow.length);
  const share = (rs: typeof rows, c: string) => `${f((100 * rs.filter((r) => r[c] > 0).length) / Math.max(1, rs.length))} % (mean ${f(rs.reduce((sum, r) => sum + r[c], 0) / Math.max(1, rs.length))} ms)`;
  console.log(`  the slowest tenth (${slow.length} turns): a GC pause in ${share(slow, 'gc')}, a gap in ${share(slow, 'gaps')}; the rest: ${share(rest, 'gc')}, ${share(rest, 'gaps')}`);
}

/** The stall probe's every collector pause and timer gap, on the wall clock (epoch ms): [start, ms]. */
interface ProbeEvents {
  pauses: Array<[number, number]>;
  gaps: Array<[number, number]>;
}

function probeEvents(file: string): ProbeEvents {
  const out: ProbeEvents = { pauses: [], gaps: [] };
  if (!existsSync(file)) return out;
  for (const line of readFileSync(file, 'utf8').trim().split('\n').filter(Boolean)) {
    const l = JSON.parse(line) as { origin: number; pauses?: Array<[number, number]>; gaps?: Array<[number, number]> };
    for (const [s, ms] of l.pauses ?? []) out.pauses.push([l.origin + s, ms]);
    for (const [s, ms] of l.gaps ?? []) out.gaps.push([l.origin + s, ms]);
  }
  return out;
}

/** How many ms of the spans fall within [from, to]. */
function overlapMs(spans: Array<[number, number]>, from: number, to: number): number {
  let ms = 0;
  for (const [s, d] of spans) ms += Math.max(0, Math.min(s + d, to) - Math.max(s, from));
  return ms;
}

const TURN_METRICS = ['stt_final_ms', 'transcript_to_gpt_ms', 'gpt_first_token_ms', 'tts_first_byte_ms', 'first_audio_playback_ms'];

/** The sum and count of each per-turn histogram at /metrics. */
async function turnMetrics(base: string): Promise<Map<string, number>> {
  const text = await fetch(`${base}/metrics`).then((r) => r.text(), () => '');
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^(\w+_(?:sum|count)) ([\d.e+-]+)$/gm)) out.set(m[1], Number(m[2]));
  for (const m of text.matchAll(/^(nodejs_eventloop_lag_(?:max|p99)_seconds) ([\d.e+-]+)$/gm)) out.set(m[1], Number(m[2]));
  // The garbage collector's pauses by kind, and how many took longer than 10 and 100 ms (prom-client's buckets).
  for (const m of text.matchAll(/^nodejs_gc_duration_seconds_(sum|count)\{kind="(\w+)"\} ([\d.e+-]+)$/gm)) out.set(`gc_${m[2]}_${m[1]}`, Number(m[3]));
  for (const m of text.matchAll(/^nodejs_gc_duration_seconds_bucket\{(?=[^}]*le="(0\.01|0\.1)")(?=[^}]*kind="(\w+)")[^}]*\} ([\d.e+-]+)$/gm)) out.set(`gc_${m[2]}_le_${m[1]}`, Number(m[3]));
  return out;
}

function meansSince(a: Map<string, number>, b: Map<string, number>): string {
  const d = (k: string) => (b.get(k) ?? 0) - (a.get(k) ?? 0);
  return TURN_METRICS.map((n) => `${n} ${d(`${n}_count`) ? (d(`${n}_sum`) / d(`${n}_count`)).toFixed(1) : '–'}`).join(', ');
}

/** The garbage collector's pauses between two scrapes, by kind: count, total ms, and how many over 10 / 100 ms. */
function gcSince(a: Map<string, number>, b: Map<string, number>): string {
  const d = (k: string) => (b.get(k) ?? 0) - (a.get(k) ?? 0);
  return ['minor', 'major', 'incremental', 'weakcb']
    .map((k) => {
      const n = d(`gc_${k}_count`);
      return `${k} GC ${n}× ${f(d(`gc_${k}_sum`) * 1000)} ms (${n - d(`gc_${k}_le_0.01`)} over 10 ms, ${n - d(`gc_${k}_le_0.1`)} over 100)`;
    })
    .join(', ');
}

/** Whether the child has ended — by a signal too (a V8 check that failed), which leaves `exitCode` null. */
function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

async function healthy(base: string, server: ChildProcess, output: string[]): Promise<void> {
  await waitFor(async () => {
    if (hasExited(server)) throw new Error(`the server exited: ${output.join('').slice(-2000)}`);
    return fetch(`${base}/healthz`, { signal: AbortSignal.timeout(1000) }).then((r) => r.ok, () => false);
  }, 60_000, () => `the server did not answer /healthz: ${output.join('').slice(-2000)}`);
}

/** POST /v1/start-call `count` times, 20 at a time; every call asks for ElevenLabs (a voice spoken as μ-law). */
async function startCalls(base: string, key: string, from: number, count: number): Promise<void> {
  let next = 0;
  const one = async () => {
    while (next < count) {
      const i = from + next++;
      const body = { phone_number: `+1555126${String(i).padStart(4, '0')}`, task: 'Confirm the booking for two on Tuesday at seven', language: 'en', tts_provider: 'elevenlabs' };
      const r = await fetch(`${base}/v1/start-call`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      if (r.status !== 200) throw new Error(`start-call answered ${r.status}: ${await r.text()}`);
    }
  };
  await Promise.all(Array.from({ length: 20 }, one));
}

async function waitFor(cond: () => boolean | Promise<boolean>, ms: number, what: () => string): Promise<void> {
  const until = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out: ${what()}`);
    await sleep(200);
  }
}

/**
 * The server's RSS right after a full garbage collection, asked for through its inspector (BENCH_HELD_MB): the
 * memory the calls hold, without the garbage that a single RSS reading catches at a random point of V8's cycle.
 */
async function heldRss(inspectPort: number, pid: number): Promise<number> {
  const targets = (await fetch(`http://127.0.0.1:${inspectPort}/json/list`).then((r) => r.json())) as Array<{ webSocketDebuggerUrl: string }>;
  const ws = new WebSocket(targets[0].webSocketDebuggerUrl, { perMessageDeflate: false });
  try {
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    await new Promise((resolve, reject) => {
      ws.once('message', resolve).once('error', reject);
      ws.send(JSON.stringify({ id: 1, method: 'HeapProfiler.collectGarbage' }));
    });
    return rssMb(pid);
  } finally {
    ws.close();
  }
}

/** A warm-up, then one window of `seconds`: its turns and frames. */
async function windowOf(driver: TwilioDriver, warmup: number, seconds: number): Promise<Window> {
  await sleep(warmup * 1000);
  driver.takeWindow();
  await sleep(seconds * 1000);
  return driver.takeWindow();
}

async function measure(driver: TwilioDriver, pid: number, calls: number, seconds: number, lag: ReturnType<typeof monitorEventLoopDelay>, drop: () => void): Promise<Row> {
  await sleep(WARMUP * 1000);
  drop();
  driver.takeWindow();
  lag.reset();
  const cpu0 = cpuSeconds(pid);
  const own0 = process.cpuUsage();
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const w = driver.takeWindow();
  const wall = (performance.now() - t0) / 1000;
  const own = process.cpuUsage(own0);
  // A missed turn counts as the longest wait, so it shows in p99.
  const turns = [...w.turnMs, ...new Array<number>(w.missed).fill(REPLY_TIMEOUT_MS)].sort((a, b) => a - b);
  return {
    calls,
    turns: w.turnMs.length,
    cpuPct: ((cpuSeconds(pid) - cpu0) / wall) * 100,
    rssMb: rssMb(pid),
    p50: pct(turns, 50),
    p99: pct(turns, 99),
    maxLate: w.maxLateMs,
    lateGaps: w.lateFrames,
    lateAfterOwnStall: w.lateAfterOwnStall,
    maxLateOwnClear: w.maxLateOwnClearMs,
    maxGap: w.maxGapMs,
    missed: w.missed,
    driverCpuPct: ((own.user + own.system) / 1e6 / wall) * 100,
    driverLagP99: lag.percentile(99) / 1e6,
    driverLagMax: lag.max / 1e6,
  };
}

/** Above this the driver's core, not the server's, may be what limits a level: such a row is flagged. */
const DRIVER_BOUND_PCT = 85;

function carries(row: Row, idle: Row): boolean {
  return row.p99 <= idle.p99 + 100 && row.maxLate <= 20 && row.missed === 0;
}

function why(row: Row, idle: Row): string {
  const out: string[] = [];
  if (row.p99 > idle.p99 + 100) out.push(`p99 ${row.p99.toFixed(0)} ms > idle ${idle.p99.toFixed(0)} + 100`);
  if (row.maxLate > 20) out.push(`a frame ${row.maxLate.toFixed(0)} ms late`);
  if (row.missed) out.push(`${row.missed} turns unanswered`);
  return out.join(', ');
}

const f = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : '–');

function printRow(r: Row, idle: Row): void {
  console.log(`  ${r.calls} calls: ${r.turns} turns, server ${f(r.cpuPct)} % CPU, ${f(r.rssMb, 0)} MB, p50 ${f(r.p50, 0)} / p99 ${f(r.p99, 0)} ms, max late ${f(r.maxLate)} ms, driver ${f(r.driverCpuPct)} % CPU${carries(r, idle) ? '' : ' — breaks the rule'}`);
}

function report(rows: Row[], added: Added | undefined, stopped: string): void {
  if (!rows.length) return;
  const idle = rows[0];
  if (NULL_SERVER) console.log('\nThe NULL SERVER (BENCH_SERVER=null), not Switchboard: the same wires and nothing between them (./lib/voice-capacity/null-server.mjs)');
  console.log(`\nVoice capacity: server on core ${PIN ? SERVER_CORE : '(not pinned)'}, driver on core ${PIN ? DRIVER_CORE : '(not pinned)'}, the server's collector ${SERVER_GC_FLAGS.length ? 'on its thread (--single-threaded-gc)' : 'on helper threads (niced by the server on one core)'}, ${SECONDS} s measured per level, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
  console.log('| live calls | turns | server CPU (% of a core) | % per call | server RSS (MB) | MB per call | turn p50 (ms) | turn p99 (ms) | max frame lateness (ms; read with the driver on time) | late frames (read after a stall of the driver\'s own) | max arrival gap (ms) | missed turns | driver CPU (%) | driver loop delay p99 / max (ms) | carried |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const perCall = r.cpuPct / r.calls;
    const mb = r.calls > idle.calls ? (r.rssMb - idle.rssMb) / (r.calls - idle.calls) : NaN;
    const bound = r.driverCpuPct > DRIVER_BOUND_PCT ? ' (driver-bound)' : '';
    console.log(`| ${r.calls} | ${r.turns} | ${f(r.cpuPct)} | ${f(perCall, 3)} | ${f(r.rssMb, 0)} | ${f(mb, 2)} | ${f(r.p50, 0)} | ${f(r.p99, 0)} | ${f(r.maxLate)} (${f(r.maxLateOwnClear)}) | ${r.lateGaps} (${r.lateAfterOwnStall}) | ${f(r.maxGap)} | ${r.missed} | ${f(r.driverCpuPct)}${bound} | ${f(r.driverLagP99)} / ${f(r.driverLagMax)} | ${carries(r, idle) ? 'yes' : 'no'} |`);
  }
  if (HELD) {
    console.log('\n| live calls | RSS after a full GC (MB) | held MB per call |');
    console.log('|---|---|---|');
    for (const r of rows) console.log(`| ${r.calls} | ${f(r.heldRssMb ?? NaN, 0)} | ${r.calls > idle.calls ? f(((r.heldRssMb ?? NaN) - (idle.heldRssMb ?? NaN)) / (r.calls - idle.calls), 2) : '–'} |`);
  }
  const carried = rows.filter((r) => carries(r, idle)).at(-1);
  const top = rows.at(-1)!;
  console.log('');
  console.log('| aim (issue 10) | measured |');
  console.log('|---|---|');
  console.log(`| ≤ 0.16 % of a core per call | ${f(top.cpuPct / top.calls, 3)} % at ${top.calls} calls |`);
  const mbTop = top.calls > idle.calls ? (top.rssMb - idle.rssMb) / (top.calls - idle.calls) : NaN;
  console.log(`| ≤ 0.3 MB per call | ${f(mbTop, 2)} MB at ${top.calls} calls |`);
  console.log(`| ≥ 600 calls on one core (p99 within 100 ms of idle ${f(idle.p99, 0)} ms, no frame > 20 ms late) | ${carried ? `${carried.calls} carried` : 'none carried'}${stopped ? `; ${stopped}` : ` (the largest level tried)`} |`);
  console.log(`| ≤ 5 ms added at p99 (final transcript → first frame, fakes at 0 ms) | ${added ? `p50 ${f(added.p50)} / p90 ${f(added.p90)} / p99 ${f(added.p99)} ms at ${added.calls} calls (${added.turns} turns)` : `not measured (BENCH_CALLS has no ${ADDED_AT})`} |`);
}

/**
 * The load runs with V8's collector on its own thread too, as its server does, when pinned to one core: the
 * collector's helper threads would take that core from the driver's timer and reads, and a stall of the driver's
 * reads as lateness of the server's frames (docs/performance.md §24). A flag V8 takes only at start: this process
 * starts itself again with it (under tsx, its loader flags kept), passing on Ctrl-C and `timeout`'s SIGTERM.
 */
function restartedWithOwnGc(): boolean {
  if (!DRIVER_GC_FLAGS.length || process.execArgv.includes('--single-threaded-gc')) return false;
  const child = spawn(process.execPath, [...DRIVER_GC_FLAGS, ...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit' });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
  return true;
}

if (!restartedWithOwnGc()) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1); // a run cut short (the server died) still has the load's timers pending
  });
}
