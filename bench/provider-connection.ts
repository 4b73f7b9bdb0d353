/**
 * What a turn's request to a provider pays when its connection was let go while the callee talked
 * (docs/performance.md §23): the time to the answer's first byte over HTTPS on a kept connection (what
 * `src/lib/http-post.ts` now keeps for 60 s of idleness) and on a new one (what Node's default agent, which lets an
 * idle connection go after 5 s, made every turn that followed a pause longer than that), on loopback. Over the
 * internet a new connection adds the round trips of its TCP and TLS handshakes on top of what is printed here.
 *
 *   npx tsx bench/provider-connection.ts        (needs `openssl` for a throw-away certificate)
 *
 * Prints a table; asserts nothing. Alternating rounds, so that a busy machine weighs on both.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type http from 'node:http';
import { IDLE_CONNECTION_MS } from '../src/lib/http-post.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 100);

const dir = mkdtempSync(path.join(os.tmpdir(), 'sb-bench-tls-'));
const keyFile = path.join(dir, 'key.pem');
const certFile = path.join(dir, 'cert.pem');
execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-keyout', keyFile, '-out', certFile], { stdio: 'ignore' });
const cert = readFileSync(certFile);
const server = https.createServer({ key: readFileSync(keyFile), cert }, (req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.end('data: {"choices":[{"delta":{"content":"Hi"}}]}\n\ndata: [DONE]\n\n');
  });
});
server.keepAliveTimeout = 120_000; // a provider keeps idle connections for minutes
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const url = `https://localhost:${(server.address() as AddressInfo).port}/v1/chat/completions`;
// The throw-away certificate is trusted as a provider's is: verified, not skipped. `kept` is set as
// src/lib/http-post.ts's agent is (with the certificate added); a new connection is what a request made after
// Node's default agent let the idle one go had to open.
const kept = new https.Agent({ keepAlive: true, timeout: IDLE_CONNECTION_MS, ca: cert });

/** ms to the first byte of the answer. */
async function firstByte(fresh: boolean): Promise<number> {
  const t0 = performance.now();
  const res = await request(fresh ? new https.Agent({ keepAlive: false, ca: cert }) : kept);
  const ended = new Promise((r) => res.once('end', r));
  await new Promise<void>((resolve) => res.once('data', () => resolve()));
  const ms = performance.now() - t0;
  res.resume();
  await ended;
  return ms;
}

function request(agent: https.Agent): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, resolve);
    req.on('error', reject);
    req.end('{"stream":true}');
  });
}

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];
const results: Record<string, number[]> = { 'kept connection': [], 'new connection (TCP + TLS)': [] };
await firstByte(false); // warm: the kept connection opened once
for (let r = 0; r < ROUNDS; r++) {
  const order = r % 2 === 0 ? [false, true] : [true, false];
  for (const fresh of order) for (let i = 0; i < REQUESTS; i++) results[fresh ? 'new connection (TCP + TLS)' : 'kept connection'].push(await firstByte(fresh));
}
console.log(`\nTime to the answer's first byte over HTTPS on loopback, ${ROUNDS} alternated rounds of ${REQUESTS} requests (load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')})\n`);
console.log('| connection | p50 (ms) | p90 (ms) | p99 (ms) |');
console.log('|---|---:|---:|---:|');
for (const [name, xs] of Object.entries(results)) console.log(`| ${name} | ${quantile(xs, 0.5).toFixed(2)} | ${quantile(xs, 0.9).toFixed(2)} | ${quantile(xs, 0.99).toFixed(2)} |`);
server.closeAllConnections();
server.close();
rmSync(dir, { recursive: true, force: true });
