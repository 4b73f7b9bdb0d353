/**
 * One POST over `node:http(s)`, shared by the clients that stream a provider's answer (speech synthesis, the
 * models' Server-Sent Events). The default agents keep connections alive, so a turn's requests reuse them.
 *
 * Why not `fetch`: a turn makes one request to the model and one a clause to the synthesis, and `fetch`'s WHATWG
 * machinery (Request, Headers, a web stream read a promise at a time, a resource-timing entry) cost 0.5–1 ms of
 * CPU more per request (`npx tsx bench/voice-http.ts`) and a tenth of a node's allocation at 100 audio calls, held
 * for as long as the answer streams (docs/performance.md §8 "Per-call CPU, third round", §22).
 */
import http from 'node:http';
import https from 'node:https';

/**
 * How long a connection to a provider is kept once idle, for the next request. Node's default agents let it go
 * after 5 s, less than a callee often talks between two of the agent's replies: the next turn's request to the
 * model and the synthesis then opened a new connection — over the internet a TCP and a TLS handshake before its
 * first byte. Providers keep idle connections for minutes; one that announces less (`Keep-Alive: timeout=N`) is
 * followed, as Node's agent reads that header.
 */
export const IDLE_CONNECTION_MS = 60_000;

const agents = {
  http: new http.Agent({ keepAlive: true, timeout: IDLE_CONNECTION_MS }),
  https: new https.Agent({ keepAlive: true, timeout: IDLE_CONNECTION_MS }),
};

/** Sends the request; resolves with the response once its headers arrive (an abort through `signal` rejects). */
export function post(url: string, headers: Record<string, string>, body: string, signal?: AbortSignal): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const withLength = { ...headers, 'content-length': String(Buffer.byteLength(body)) };
    const secure = target.protocol === 'https:';
    const options = { method: 'POST', headers: withLength, signal, agent: secure ? agents.https : agents.http };
    const req = (secure ? https : http).request(target, options, resolve);
    req.on('error', reject);
    req.end(body);
  });
}

/** The whole body as text. */
export async function textOf(res: http.IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of res as AsyncIterable<Buffer>) text += chunk.toString('utf8');
  return text;
}

/** One response header's value (the first, if it came more than once). */
export function headerOf(res: http.IncomingMessage, name: string): string | undefined {
  const v = res.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/** The response's headers as a WHATWG `Headers` (for code that reads them as `fetch` gives them). */
export function headersOf(res: http.IncomingMessage): Headers {
  const out = new Headers();
  for (const [name, value] of Object.entries(res.headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) out.append(name, v);
  }
  return out;
}
