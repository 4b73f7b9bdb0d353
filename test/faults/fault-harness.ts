/**
 * What the fault tests share: a real node listening on loopback (real clock, the simulated network sped
 * up), its log lines kept in memory, a counter of what would have crashed the process, a client that
 * keeps the API busy, and a redis-server of the test's own.
 */
import { nodeEnv } from '../helpers/switchboard.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { Writable } from 'node:stream';
import { loadConfig } from '../../src/config/index.js';
import { createSwitchboard, type Switchboard, type SwitchboardOverrides } from '../../src/app.js';
import { createLogger } from '../../src/lib/logger.js';

export interface Node {
  sb: Switchboard;
  url: string;
  key: string;
  nodeId: string;
  /** Messages (`msg`) of every line logged at warn or above. */
  logged: string[];
  close(): Promise<void>;
}

/** A node on a real clock; simulated calls run `SIM_TIME_SCALE` times faster than real time. */
export async function startNode(env: Record<string, string>, overrides: SwitchboardOverrides = {}): Promise<Node> {
  const nodeId = 'fault-' + randomBytes(4).toString('hex');
  const config = loadConfig({ NODE_ENV: 'test', HOST: '127.0.0.1', PORT: '0', NODE_ID: nodeId, SIM_TIME_SCALE: '4', SHUTDOWN_GRACE_SECONDS: '2', RATE_LIMIT_PER_MINUTE: '1000000', ...nodeEnv(env) }); // the load loops are not a rate-limit test
  const logged: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
        try {
          logged.push(String((JSON.parse(line) as { msg?: unknown }).msg));
        } catch {
          logged.push(line);
        }
      }
      done();
    },
  });
  const sb = await createSwitchboard(config, { log: createLogger('warn', sink), jobPollMs: 100, ...overrides });
  const url = await sb.listen();
  const { org } = await sb.core.orgs.ensure('acme', { credits: 1_000_000 });
  const key = await sb.core.orgs.createKey(org.id);
  return { sb, url, key, nodeId, logged, close: () => sb.shutdown() };
}

/**
 * Counts, in this test process, the rejections nobody handled and the exceptions nobody caught: each
 * is a path that would have ended a real server. A test asserts the count is zero.
 */
export function watchProcess(): { failures: unknown[]; stop(): void } {
  const failures: unknown[] = [];
  const onRejection = (reason: unknown) => failures.push(reason);
  const onException = (err: unknown) => failures.push(err);
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return {
    failures,
    stop() {
      process.off('unhandledRejection', onRejection);
      process.off('uncaughtException', onException);
    },
  };
}

export interface ApiResult {
  status: number;
  body: any;
}

/** One request to the node (0 as status when the connection itself failed). */
export async function api(node: Node, method: string, path: string, body?: unknown): Promise<ApiResult> {
  try {
    const res = await fetch(node.url + path, {
      method,
      headers: { authorization: `Bearer ${node.key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(20_000),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* not JSON: kept as text */
    }
    return { status: res.status, body: parsed };
  } catch (err) {
    return { status: 0, body: String(err) };
  }
}

/** Starts a simulated call to a person (Bella Cucina's receptionist) who talks for a while; returns its sid. */
export async function startCall(node: Node): Promise<string> {
  const r = await api(node, 'POST', '/v1/start-call', {
    phone_number: '+15550100',
    task: 'Confirm my booking, reference AB123',
    language: 'en',
    persona: { name: 'Alex Smith' },
  });
  if (r.status !== 200) throw new Error(`start-call answered ${r.status}: ${JSON.stringify(r.body)}`);
  return (r.body as { sid: string }).sid;
}

/**
 * Keeps the API busy until stopped: reads of the given calls and of the call list, one after another on
 * `parallel` lanes. Every answer is kept with the phase it was sent in.
 */
export function apiLoad(node: Node, sids: () => string[], parallel = 4) {
  const results: Array<{ phase: string; status: number }> = [];
  let phase = 'before';
  let running = true;
  const lane = async (n: number) => {
    for (let i = n; running; i++) {
      const all = sids();
      const path = i % 3 === 0 || all.length === 0 ? '/api/v1/calls?limit=5' : `/v1/calls/${all[i % all.length]}`;
      const sentIn = phase;
      const r = await api(node, 'GET', path);
      results.push({ phase: sentIn, status: r.status });
    }
  };
  const lanes = Array.from({ length: parallel }, (_, n) => lane(n));
  return {
    results,
    setPhase(p: string) {
      phase = p;
    },
    async stop() {
      running = false;
      await Promise.all(lanes);
    },
  };
}

export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** A redis-server of the test's own (never the shared one), on loopback, without persistence. */
export class OwnRedis {
  private proc: ChildProcess | undefined;
  constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const proc = spawn('/usr/bin/redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    this.proc = proc;
    await until(() => canConnect(this.port), 15_000, 'redis-server to listen');
  }

  async stop(): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGKILL');
    await exited;
    this.proc = undefined;
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Polls `fn` until it returns a truthy value; fails after `ms`. */
export async function until<T>(fn: () => Promise<T | undefined | null | false>, ms: number, what: string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits until every call has ended; returns their final views (GET /v1/calls/:sid). */
export async function allEnded(node: Node, sids: string[], ms = 90_000): Promise<any[]> {
  return until(
    async () => {
      const views = await Promise.all(sids.map((sid) => api(node, 'GET', `/v1/calls/${sid}`)));
      return views.every((v) => v.status === 200 && v.body.ended_at) ? views.map((v) => v.body) : null;
    },
    ms,
    'every call to end',
  );
}
