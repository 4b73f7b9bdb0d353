/**
 * Starting and stopping the server as an operator does (issue 11 §7): `npm start` under a process manager
 * that signals npm, a server whose output has gone away, and a first start that fails after making the
 * development organisation. Real processes, real ports, a real data folder; every wait is bounded.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../helpers/switchboard.js';
import { threadNice, threadNices } from '../helpers/threads.js';
import { STORE_THREAD_NICE } from '../../src/store/pglite.js';
import { ensureBuilt } from '../helpers/built-cli.js';

const ROOT = path.resolve(__dirname, '../..');
const MAIN = path.join(ROOT, 'dist', 'cli', 'main.js');
/** Starting a server on this shared, loaded machine can take tens of seconds. */
const START_MS = 120_000;

const children: ChildProcess[] = [];
afterEach(() => {
  // Each child leads its own process group: a failed test leaves nothing behind (npm's server included).
  for (const c of children.splice(0)) {
    try {
      process.kill(-c.pid!, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
});

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'sb-start-'));
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

function get(port: number, p: string, key?: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: p, agent: false, headers: key ? { authorization: `Bearer ${key}` } : {} }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
  });
}

/** A GET's status, content type and body (empty when nothing answered). */
function fetchText(port: number, p: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: p, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body }));
    });
    req.on('error', () => resolve({ status: 0, type: '', body: '' }));
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function serverEnv(dir: string, port: number, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  // NODE_ENV as an operator has it (vitest sets `test`, where the deployment key is per process).
  return { ...process.env, NODE_ENV: 'development', DATA_DIR: dir, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'silent', SHUTDOWN_GRACE_SECONDS: '1', ...extra };
}

/** Spawns and collects output; `exited` resolves with the exit code (or the signal's name). */
function launch(cmd: string, args: string[], env: NodeJS.ProcessEnv, stdout: 'pipe' | 'ignore' = 'pipe') {
  const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', stdout, 'pipe'], detached: true });
  children.push(child);
  const out = { stdout: '', stderr: '' };
  child.stdout?.on('data', (d: Buffer) => (out.stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out.stderr += d.toString()));
  const exited = new Promise<number | string>((r) => child.once('exit', (code, signal) => r(code ?? signal ?? -1)));
  return { child, out, exited };
}

/** A bounded wait for the child to end, so a server that ignores SIGTERM fails the test instead of hanging it. */
async function exitWithin(p: Promise<number | string>, ms: number): Promise<number | string> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<string>((r) => (timer = setTimeout(() => r('still running'), ms)));
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The API key in a start banner, if it shows one. */
function bannerKey(stdout: string): string | undefined {
  return /API key[^\n]*:\s+(sk_\S+)/.exec(stdout)?.[1];
}

describe('start and stop', () => {
  // The compiled server is what `npm start` runs: bring dist/ up to date once (a no-op after `npm ci`).
  beforeAll(ensureBuilt, 600_000);

  it('a SIGTERM sent to `npm start` reaches the server, which exits and frees its port and data folder', async () => {
    const dir = tmp();
    const port = await freePort();
    const npm = launch('npm', ['start', '--silent'], serverEnv(dir, port));
    await until(async () => (await get(port, '/healthz')) === 200, START_MS, 'the server to answer');
    const serverPid = Number(fs.readFileSync(path.join(dir, 'switchboard.lock'), 'utf8'));
    expect(alive(serverPid)).toBe(true);

    npm.child.kill('SIGTERM');
    expect(await exitWithin(npm.exited, 60_000)).toBe(0);
    await until(async () => !alive(serverPid), 30_000, 'the server process to end');
    expect(fs.existsSync(path.join(dir, 'switchboard.lock'))).toBe(false);
    expect(await get(port, '/healthz')).toBe(0); // nothing listens on the port any more
  }, 300_000);

  it('the built server answers with its store ready and serves the API docs page and the dashboard, with their files', async () => {
    // The built server is one bundle (scripts/bundle-server.js): the files these pages need are found in
    // node_modules (swagger-ui's) and dist/dashboard from where the bundle is.
    const dir = tmp();
    const port = await freePort();
    const server = launch(process.execPath, [MAIN, 'serve'], serverEnv(dir, port));
    await until(async () => (await get(port, '/healthz')) === 200, START_MS, 'the server to answer');
    const health = await fetchText(port, '/healthz');
    expect(JSON.parse(health.body)).toMatchObject({ status: 'ok', store: 'ok', activeCalls: 0 });

    const docs = await fetchText(port, '/docs');
    expect(docs.status).toBe(200);
    expect(docs.body).toMatch(/swagger-ui/);
    const css = await fetchText(port, '/docs/static/swagger-ui.css');
    expect([css.status, css.type]).toEqual([200, expect.stringMatching(/^text\/css/)]);
    expect(css.body.length).toBeGreaterThan(10_000);
    const spec = JSON.parse((await fetchText(port, '/openapi.json')).body) as { paths: Record<string, unknown> };
    expect(Object.keys(spec.paths)).toEqual(expect.arrayContaining(['/v1/start-call', '/healthz']));

    const page = await fetchText(port, '/dashboard/');
    expect([page.status, page.type]).toEqual([200, expect.stringMatching(/^text\/html/)]);
    const script = /<script[^>]+src="\.?\/?(?:dashboard\/)?([^"]+\.js)"/.exec(page.body)?.[1];
    expect(script).toBeDefined();
    const js = await fetchText(port, `/dashboard/${script!}`);
    expect([js.status, js.type]).toEqual([200, expect.stringMatching(/javascript/)]);

    server.child.kill('SIGTERM');
    expect(await exitWithin(server.exited, 60_000)).toBe(0);
  }, 300_000);

  it('a damaged code cache beside the built CLI: the server still starts and answers, and writes a good cache', async () => {
    // dist/cli/switchboard.cjs.cache (src/lib/code-cache.ts): V8's compiled code of the bundle, kept for the next start.
    const cache = path.join(ROOT, 'dist', 'cli', 'switchboard.cjs.cache');
    const damaged = Buffer.from('SBCC1\n'.padEnd(200, 'x'));
    fs.writeFileSync(cache, damaged);
    const dir = tmp();
    const port = await freePort();
    const server = launch(process.execPath, [MAIN, 'serve'], serverEnv(dir, port));
    await until(async () => (await get(port, '/healthz')) === 200, START_MS, 'the server to answer');
    // Written once the server listens (atomically: a file that is either the old one or the whole new one).
    await until(async () => !fs.readFileSync(cache).equals(damaged), 30_000, 'the cache to be written again');
    expect(fs.readFileSync(cache).subarray(0, 6).toString()).toBe('SBCC1\n');
    expect(fs.statSync(cache).size).toBeGreaterThan(100_000);
    server.child.kill('SIGTERM');
    expect(await exitWithin(server.exited, 60_000)).toBe(0);
    expect(server.out.stderr).toBe('');
  }, 300_000);

  it('a server pinned to one CPU has its other threads yield it (the store\'s at 10, the rest at 19); started with --single-threaded-gc only its store yields; given more, nothing', async () => {
    const advice = /one CPU: start it with/;
    // The test run's own niceness, which a server inherits (a run niced that much or more leaves nothing to see).
    const base = os.getPriority();
    const start = async (cmd: string, args: string[], settled: (others: { tid: number; nice: number }[]) => boolean) => {
      const port = await freePort();
      const server = launch(cmd, args, serverEnv(tmp(), port));
      await until(async () => (await get(port, '/healthz')) === 200 && /started in/.test(server.out.stdout), START_MS, 'the start banner');
      // The threads' niceness while it serves: threads started after one round of nicing get it at the next (5 s).
      const pid = server.child.pid!;
      let others: { tid: number; nice: number }[] = [];
      await until(async () => settled((others = threadNices(pid).filter((t) => t.tid !== pid))), 30_000, 'the threads to be niced as expected').catch(() => {});
      const own = threadNice(pid, pid);
      server.child.kill('SIGTERM');
      expect(await exitWithin(server.exited, 60_000)).toBe(0);
      return { stdout: server.out.stdout, own, others };
    };
    // taskset: the affinity a container's one CPU gives (os.availableParallelism reads it). Every thread but the
    // server's own at 19 (V8's helpers, libuv's pool), the store's at the 10 it set itself.
    const lowest = Math.max(base, 19);
    const store = Math.max(base, STORE_THREAD_NICE);
    const yielded = (others: { nice: number }[]) => others.filter((t) => t.nice !== lowest).map((t) => t.nice);
    const one = await start('taskset', ['-c', '0', process.execPath, MAIN, 'serve'], (others) => yielded(others).length <= 1);
    expect(one.stdout).not.toMatch(advice);
    expect(one.own).toBe(base);
    expect(one.others.length).toBeGreaterThan(3);
    expect(yielded(one.others)).toEqual(store === lowest ? [] : [store]);
    // With the flag the collector works on the server's thread, and only the store's thread yields, at 10.
    const storeNiced = base < STORE_THREAD_NICE ? [STORE_THREAD_NICE] : [];
    const niced = (others: { nice: number }[]) => others.filter((t) => t.nice !== base).map((t) => t.nice);
    const flagged = await start('taskset', ['-c', '0', process.execPath, '--single-threaded-gc', MAIN, 'serve'], (others) => niced(others).length === storeNiced.length);
    expect(flagged.stdout).not.toMatch(advice);
    expect(niced(flagged.others)).toEqual(storeNiced);
    if (os.availableParallelism() > 1) {
      const more = await start(process.execPath, [MAIN, 'serve'], () => true);
      expect(more.stdout).not.toMatch(advice);
      expect(niced(more.others)).toEqual([]);
    }
  }, 300_000);

  it('a server whose standard output has gone away still stops cleanly on SIGTERM', async () => {
    const dir = tmp();
    const port = await freePort();
    // Logging at info, so both the log and the start banner are written to the closed pipe.
    const server = launch(process.execPath, [MAIN, 'serve'], serverEnv(dir, port, { LOG_LEVEL: 'info' }));
    server.child.stdout!.destroy();
    await until(async () => (await get(port, '/healthz')) === 200, START_MS, 'the server to answer');
    // Still serving after writing the banner into the closed pipe.
    expect(await get(port, '/healthz')).toBe(200);
    server.child.kill('SIGTERM');
    expect(await exitWithin(server.exited, 60_000)).toBe(0);
    expect(server.out.stderr).toBe('');
    expect(fs.existsSync(path.join(dir, 'switchboard.lock'))).toBe(false);
  }, 300_000);

  it('a first start that fails on a taken port keeps its key: the next start shows it until it is used', async () => {
    const dir = tmp();
    const taken = net.createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
    const takenPort = (taken.address() as net.AddressInfo).port;
    try {
      const failed = launch(process.execPath, [MAIN, 'serve'], serverEnv(dir, takenPort));
      expect(await exitWithin(failed.exited, START_MS)).toBe(1);
      // One line naming the port, no stack trace, and no key printed by a start that failed.
      expect(failed.out.stderr).toBe(`switchboard: port ${takenPort} on 127.0.0.1 is already in use: stop what holds it, or set PORT\n`);
      expect(bannerKey(failed.out.stdout)).toBeUndefined();
    } finally {
      await new Promise((r) => taken.close(r));
    }

    // The next start shows the development organisation's key, and the key works.
    let port = await freePort();
    const second = launch(process.execPath, [MAIN, 'serve'], serverEnv(dir, port));
    await until(async () => bannerKey(second.out.stdout), START_MS, 'the start banner with the key');
    const key = bannerKey(second.out.stdout)!;
    expect(second.out.stdout).toMatch(/not used yet, so shown again/);
    expect(await get(port, '/v1/webhook/deliveries', key)).toBe(200);
    second.child.kill('SIGTERM');
    expect(await exitWithin(second.exited, 60_000)).toBe(0);

    // Once used, it is no longer shown; nor is it anywhere in the data folder in clear.
    port = await freePort();
    const third = launch(process.execPath, [MAIN, 'serve'], serverEnv(dir, port));
    await until(async () => /started in \d+ ms/.test(third.out.stdout), START_MS, 'the start banner');
    expect(bannerKey(third.out.stdout)).toBeUndefined();
    expect(await get(port, '/v1/webhook/deliveries', key)).toBe(200);
    third.child.kill('SIGTERM');
    expect(await exitWithin(third.exited, 60_000)).toBe(0);
    expect(grepDir(dir, key)).toEqual([]);
  }, 600_000);
});

/** Files under `dir` that contain `text`. */
function grepDir(dir: string, text: string): string[] {
  const hits: string[] = [];
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    if (fs.readFileSync(file).includes(text)) hits.push(file);
  }
  return hits;
}
