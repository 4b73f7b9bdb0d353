/**
 * Switchboard nodes as child processes (`node dist/cli/main.js serve`, the built server, as in production),
 * for `npm run cluster`, the chaos test and the cluster bench. Each node gets its own port, NODE_ID and
 * DATA_DIR; everything else (DATABASE_URL, REDIS_URL, CREDENTIALS_KEY, PUBLIC_URL…) comes from `env`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MAIN = path.join(ROOT, 'dist/cli/main.js');

export interface ClusterNode {
  id: string;
  port: number;
  url: string;
  proc: ChildProcess;
  /** What the node printed (stdout and stderr), for diagnosis. */
  output: string[];
  /** Resolves with the exit code (or signal) when the process ends. */
  exited: Promise<number | string | null>;
  /** SIGKILL, as a crash would. */
  kill(): void;
  /** SIGTERM and wait for the exit. */
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** Starts one node and waits until its `/healthz` answers (or it exits, or `timeoutMs` passes). */
export async function startNode(o: { id: string; port?: number; env: Record<string, string>; echo?: boolean; timeoutMs?: number }): Promise<ClusterNode> {
  const port = o.port ?? (await freePort());
  const env = {
    ...process.env,
    DATA_DIR: path.join(os.tmpdir(), `switchboard-${o.id}-${port}`),
    ...o.env,
    NODE_ID: o.id,
    PORT: String(port),
    HOST: '127.0.0.1',
  };
  const proc = spawn(process.execPath, [MAIN, 'serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const take = (chunk: Buffer) => {
    const text = chunk.toString();
    output.push(text);
    if (output.length > 2000) output.splice(0, 1000);
    if (o.echo) process.stdout.write(text.replace(/^(?=.)/gm, `[${o.id}] `));
  };
  proc.stdout!.on('data', take);
  proc.stderr!.on('data', take);
  const exited = new Promise<number | string | null>((r) => proc.once('exit', (code, signal) => r(code ?? signal)));
  const url = `http://127.0.0.1:${port}`;
  const node: ClusterNode = {
    id: o.id,
    port,
    url,
    proc,
    output,
    exited,
    kill: () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    },
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      await exited;
    },
  };
  const deadline = Date.now() + (o.timeoutMs ?? 60_000);
  let gone = false;
  exited.then(
    () => (gone = true),
    () => (gone = true),
  );
  for (;;) {
    if (gone) throw new Error(`node ${o.id} exited before answering: ${output.join('').slice(-2000)}`);
    try {
      const r = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) });
      if (r.ok) return node;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      node.kill();
      throw new Error(`node ${o.id} did not answer /healthz within ${o.timeoutMs ?? 60_000} ms: ${output.join('').slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
