/**
 * A webhook receiver on port 0 that records every request and answers from a script, so delivery tests
 * see the real wire (headers, raw bytes) and can make the receiver fail.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A status to answer, `'hang'` (never answer: a timeout) or `'drop'` (close the socket: a network error). */
export type ReceiverStep = number | 'hang' | 'drop';

export interface ReceivedWebhook {
  headers: http.IncomingHttpHeaders;
  rawBody: string;
  json: any;
}

export interface WebhookReceiver {
  url: string;
  port: number;
  received: ReceivedWebhook[];
  /** Steps for the next requests, in order; 200 once they run out. */
  script(steps: ReceiverStep[]): void;
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  let steps: ReceiverStep[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      received.push({ headers: req.headers, rawBody, json: rawBody ? JSON.parse(rawBody) : undefined });
      const step = steps.shift() ?? 200;
      if (step === 'hang') return;
      if (step === 'drop') return req.socket.destroy();
      res.writeHead(step, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    port,
    received,
    script: (s) => void (steps = [...s]),
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** A local port with nothing listening (connection refused). */
export async function freePort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
