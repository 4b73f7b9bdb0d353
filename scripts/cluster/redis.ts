/**
 * A redis-server of our own on a loopback port (tests and benches that restart Redis must never touch a
 * shared one): no persistence, so a restart loses everything, as a failover to an empty replica would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { freePort } from './nodes.js';

export interface OwnRedis {
  url: string;
  port: number;
  /** Stops the server and starts a new one on the same port. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

const BINARY = process.env.REDIS_SERVER ?? '/usr/bin/redis-server';

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.setTimeout(500);
    s.once('connect', () => s.write('PING\r\n'));
    s.once('data', (d) => {
      s.destroy();
      resolve(d.toString().startsWith('+PONG'));
    });
    s.once('error', () => resolve(false));
    s.once('timeout', () => {
      s.destroy();
      resolve(false);
    });
  });
}

export async function startOwnRedis(): Promise<OwnRedis> {
  const port = await freePort();
  let proc: ChildProcess | undefined;
  const up = async () => {
    proc = spawn(BINARY, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    const deadline = Date.now() + 15_000;
    while (!(await ping(port))) {
      if (proc.exitCode !== null) throw new Error(`${BINARY} exited (${proc.exitCode})`);
      if (Date.now() > deadline) throw new Error(`${BINARY} did not answer on port ${port}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const down = async () => {
    const p = proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    await exited;
  };
  await up();
  return { url: `redis://127.0.0.1:${port}`, port, restart: async () => (await down(), await up()), stop: down };
}
