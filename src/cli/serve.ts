import os from 'node:os';
import { Command } from 'commander';
import { loadConfig, type Config } from '../config/index.js';
import type { Switchboard } from '../app.js';
import { background } from '../lib/background.js';
import { prewarmPglite } from '../store/index.js';
import { installLastResort } from '../lib/last-resort.js';
import { usableCpus } from '../lib/cpus.js';
import { niceOtherThreads } from '../lib/thread-priority.js';
import type { Logger } from '../lib/logger.js';

/** What the built CLI's launcher does at points of the server's start (src/cli/launch.ts). */
export interface ServeHooks {
  /** The server listens and has answered nothing yet: the launcher saves the bundle's code cache. */
  listening?: (log: Logger) => Promise<void>;
}

export function serveCommand(hooks: ServeHooks = {}): Command {
  return new Command('serve')
    .description('Start the Switchboard server (PORT, HOST, DATA_DIR, DATABASE_URL, REDIS_URL, …)')
    .option('-p, --port <port>', 'port to listen on (PORT)')
    .action(async (opts: { port?: string }) => {
      const t0 = performance.now();
      ignoreLostOutput();
      const config = loadConfig({ ...process.env, ...(opts.port ? { PORT: opts.port } : {}) });
      // The embedded store opens (its WebAssembly compiled on V8's helper threads, PGlite booting on its own
      // worker thread) while this thread loads the server's modules (a chunk of their own in the built CLI:
      // scripts/build.js); the store's open in createSwitchboard takes it over.
      if (!config.databaseUrl) prewarmPglite({ dataDir: config.dataDir });
      // One turn of the event loop, so that the store's `open` is posted before the (synchronous) load below.
      await new Promise((resolve) => setImmediate(resolve));
      const { createSwitchboard } = await import('../app.js');
      // The job runners look for work once the server listens: a start's first answer does not wait behind them.
      const sb = await createSwitchboard(config, { firstJobPoll: 'after-listen' });
      installLastResort(sb.log);
      // A first key stays pending until it is used, so a start that fails from here on shows it again next time.
      const first = await sb.bootstrapDevOrg();
      let url: string;
      try {
        url = await sb.listen();
      } catch (err) {
        // Close the store cleanly (the data folder lock, PGlite's files) before the CLI reports the failure.
        await sb.shutdown();
        throw listenFailure(err, config);
      }
      const brainNote = sb.brain.name === 'rules' ? 'offline rules brain (no LLM configured)' : sb.brain.name;
      const lines = [
        '',
        `  Switchboard is listening on ${url}   (public URL ${config.publicUrl})`,
        `  store: ${sb.store.kind}${sb.store.kind === 'pglite' ? ` in ${config.dataDir}` : ''} · bus: ${config.redisUrl ? 'redis' : 'in-process'} · carrier: ${sb.carrier.name} · brain: ${brainNote}`,
        `  API docs: ${url}/docs · started in ${Math.round(performance.now() - t0)} ms`,
      ];
      const advice = oneCpuAdvice();
      if (advice) {
        lines.push('', `  ${advice}`);
        sb.log.warn(advice);
      }
      if (yieldsHelperThreads()) keepHelperThreadsNiced(sb.log);
      if (first && !first.key) {
        lines.push('', `  The first API key was sealed with another deployment key: make one with \`switchboard keys create --org ${first.org}\`.`);
      } else if (first) {
        lines.push(
          '',
          first.created
            ? '  A development organisation was created. Its API key (shown at each start until it is first used):'
            : '  The development organisation\'s API key (not used yet, so shown again):',
          '',
          `    ${first.key}`,
        );
        if (first.webhookSecret) lines.push('', `  Webhook signing secret: ${first.webhookSecret}`);
      }
      // Before the banner: whoever starts the server may stop it as soon as it reads that it started.
      stopOnSignals(sb);
      process.stdout.write(lines.join('\n') + '\n\n');
      if (hooks.listening) background(sb.log, 'saving the code cache failed', hooks.listening(sb.log));
    });
}

/**
 * What a node limited to one CPU by a quota (`docker --cpus=1`) while it may run on more is told at start: V8's
 * collector otherwise marks and scavenges on helper threads beside the server's thread, the process spends its
 * quota early in each period and all its threads are stopped for the rest of it (docs/performance.md §19). The
 * flag cannot be set once the process runs. A node whose affinity is one CPU yields instead (below).
 */
export function oneCpuAdvice(cpus = usableCpus(), execArgv: readonly string[] = process.execArgv, affinity = os.availableParallelism()): string | undefined {
  if (cpus > 1 || affinity === 1 || execArgv.includes('--single-threaded-gc')) return undefined;
  return 'this node has one CPU: start it with `node --single-threaded-gc dist/cli/main.js serve` (docs/operations.md)';
}

/**
 * Whether the server's other threads yield the one CPU it may run on (its affinity: `taskset`, a cpuset) to its
 * own: V8's collector then marks on its helper threads while the server's thread waits for its next event, not
 * in the middle of a call's turn — the time a turn waits on a loaded node has a shorter tail than with the
 * collector on the server's thread (`--single-threaded-gc`, which keeps that way: docs/performance.md §27).
 */
export function yieldsHelperThreads(affinity = os.availableParallelism(), execArgv: readonly string[] = process.execArgv): boolean {
  return affinity === 1 && !execArgv.includes('--single-threaded-gc');
}

/** The lowest priority: such a thread runs when the server's thread does not want the CPU. */
const HELPER_THREAD_NICE = 19;
/** libuv's pool starts its threads at its first use, worker threads at theirs: they are niced at the next round. */
const RENICE_MS = 5_000;

function keepHelperThreadsNiced(log: Logger): void {
  const renice = () => niceOtherThreads(HELPER_THREAD_NICE);
  const threads = renice();
  log.info({ threads, nice: HELPER_THREAD_NICE }, 'one CPU: the helper threads yield it to the server\'s thread');
  setInterval(renice, RENICE_MS).unref();
}

/** SIGTERM or SIGINT: stop taking calls, let live ones finish (up to the grace), then exit. */
function stopOnSignals(sb: Switchboard): void {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    sb.log.info({ signal }, 'shutting down: no new calls; live calls may finish');
    try {
      await sb.shutdown();
    } catch (err) {
      sb.log.error({ err }, 'shutdown failed');
      process.exitCode = 1;
    }
    process.exit();
  };
  process.on('SIGTERM', () => background(sb.log, 'shutdown failed', stop('SIGTERM')));
  process.on('SIGINT', () => background(sb.log, 'shutdown failed', stop('SIGINT')));
}

/**
 * A server whose standard output or error has gone away (the terminal closed, the pipe reader died) keeps
 * serving and still stops on SIGTERM: a write to a closed pipe fails with EPIPE, which would otherwise be
 * an unhandled 'error' event and end the process mid-call. Lost output is lost; nothing else is.
 */
function ignoreLostOutput(): void {
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});
}

/** The usual reason a listen fails, said in the operator's terms (the variable to change). */
function listenFailure(err: unknown, config: Config): Error {
  // (No `cause`: the CLI would print the system's wording of the same fact after ours.)
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') return new Error(`port ${config.port} on ${config.host} is already in use: stop what holds it, or set PORT`);
  if (code === 'EACCES') return new Error(`not allowed to listen on port ${config.port} on ${config.host}: choose another PORT`);
  if (code === 'EADDRNOTAVAIL') return new Error(`HOST ${config.host} is not an address of this machine`);
  return err as Error;
}
