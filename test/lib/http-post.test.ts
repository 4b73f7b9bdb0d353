/**
 * The providers' requests (the model's stream, the synthesis) keep their connection between turns: a callee
 * often talks for longer than Node's default 5 s of idleness, and a new connection to a provider is a TCP and
 * TLS handshake before the next reply's first byte. A server that announces a shorter keep-alive is followed.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { post, textOf } from '../../src/lib/http-post.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A server answering every POST with its body, counting the connections it was given. */
async function echoServer(keepAliveTimeoutMs: number) {
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => res.end(body));
  });
  server.keepAliveTimeout = keepAliveTimeoutMs;
  let connections = 0;
  server.on('connection', () => connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/echo`;
  return { url, server, connections: () => connections };
}

const servers: http.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

describe('post', () => {
  it('reuses the connection for a request made after more than 5 s of idleness', async () => {
    // A provider's server keeps idle connections for minutes (and says nothing of it).
    const s = await echoServer(120_000);
    servers.push(s.server);
    expect(await textOf(await post(s.url, { 'content-type': 'text/plain' }, 'first turn'))).toBe('first turn');
    await sleep(5_600);
    expect(await textOf(await post(s.url, { 'content-type': 'text/plain' }, 'second turn'))).toBe('second turn');
    expect(s.connections()).toBe(1);
  }, 20_000);

  it("follows a server's shorter announced keep-alive: the next request opens a new connection and succeeds", async () => {
    // Node's server announces `Keep-Alive: timeout=1` and closes the idle connection after a second.
    const s = await echoServer(1_000);
    servers.push(s.server);
    expect(await textOf(await post(s.url, {}, 'one'))).toBe('one');
    await sleep(1_500);
    expect(await textOf(await post(s.url, {}, 'two'))).toBe('two');
    expect(s.connections()).toBe(2);
  }, 20_000);
});
