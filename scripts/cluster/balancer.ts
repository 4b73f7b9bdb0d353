/**
 * A local load balancer for a Switchboard cluster on one machine: round robin over the nodes that answer
 * `/healthz`, HTTP and WebSocket upgrades alike, on loopback. The proxying itself is http-proxy-3's; this
 * file only picks the target, as a generic balancer would (no knowledge of calls or owners).
 *
 * A node that refuses a connection is taken out at once, and put back when its `/healthz` answers again
 * (checked every `checkMs`). A request that fails to connect gets 502, as from any balancer.
 */
import http from 'node:http';
import type net from 'node:net';
import { createProxyServer } from 'http-proxy-3';

export interface Balancer {
  url: string;
  /** The nodes' base URLs, and whether each is in rotation. */
  targets(): Array<{ url: string; up: boolean }>;
  close(): Promise<void>;
}

export async function startBalancer(opts: { port: number; targets: string[]; checkMs?: number; host?: string }): Promise<Balancer> {
  const host = opts.host ?? '127.0.0.1';
  const state = opts.targets.map((url) => ({ url, up: true }));
  let next = 0;
  const pick = (): string | undefined => {
    for (let i = 0; i < state.length; i++) {
      const t = state[next++ % state.length];
      if (t.up) return t.url;
    }
    return undefined;
  };
  const down = (target: string | undefined) => {
    const t = state.find((s) => s.url === target);
    if (t) t.up = false;
  };

  const proxy = createProxyServer({ xfwd: true, ws: true });
  proxy.on('error', (err, _req, res) => {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ECONNREFUSED' || code === 'ECONNRESET') down((_req as { target?: string }).target);
    if (res instanceof http.ServerResponse) {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'bad_gateway', message: 'the node did not answer' }));
    } else (res as net.Socket).destroy();
  });

  const server = http.createServer((req, res) => {
    const target = pick();
    if (!target) {
      res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'no_node', message: 'no node is up' }));
      return;
    }
    (req as { target?: string }).target = target;
    proxy.web(req, res, { target });
  });
  server.on('upgrade', (req, socket: net.Socket, head: Buffer) => {
    const target = pick();
    if (!target) return socket.destroy();
    (req as { target?: string }).target = target;
    socket.on('error', () => socket.destroy());
    proxy.ws(req, socket, head, { target });
  });

  const check = async () => {
    await Promise.all(
      state.map(async (t) => {
        try {
          const r = await fetch(`${t.url}/healthz`, { signal: AbortSignal.timeout(2000) });
          t.up = r.ok;
        } catch {
          t.up = false;
        }
      }),
    );
  };
  const timer = setInterval(() => {
    check().catch(() => undefined); // check() never rejects: each target's failure is caught above
  }, opts.checkMs ?? 500);
  timer.unref();

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, host, resolve);
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://${host}:${port}`,
    targets: () => state.map((t) => ({ ...t })),
    async close() {
      clearInterval(timer);
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      proxy.close();
    },
  };
}
