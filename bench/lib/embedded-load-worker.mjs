/**
 * The load generator of `bench/embedded-load.ts`, in its own thread so that it does not share the
 * server's event loop. Two autocannon instances at once: the API mix (GETs of live calls' details, one
 * start-call every `startEvery` requests) on `connections` clients, and one client polling `/healthz`.
 * Posts both results back. autocannon's `setupRequest` functions cannot cross into its own workers, which
 * is why this thread runs it in-process. Plain JavaScript: a worker thread does not get tsx's loader.
 *
 * workerData: { url, key, callIds: string[], connections, seconds, startEvery, startBody }
 */
import autocannon from 'autocannon';
import { parentPort, workerData } from 'node:worker_threads';

const p = workerData;
const auth = { authorization: `Bearer ${p.key}` };
let n = 0;

function randomCall() {
  return p.callIds[Math.floor(Math.random() * p.callIds.length)];
}

const apiOpts = { url: p.url, connections: p.connections, duration: p.seconds };
const healthOpts = { url: p.url + '/healthz', connections: 1, duration: p.seconds };
const api = autocannon({
  ...apiOpts,
  requests: [
    {
      setupRequest: (req) => {
        n++;
        if (p.startEvery > 0 && n % p.startEvery === 0) {
          return { ...req, method: 'POST', path: '/v1/start-call', headers: { ...auth, 'content-type': 'application/json' }, body: p.startBody };
        }
        return { ...req, method: 'GET', path: `/v1/calls/${randomCall()}`, headers: auth };
      },
    },
  ],
});
const health = autocannon(healthOpts);

// Off the main thread autocannon hands back raw histograms (as it does to its own workers): aggregate them.
Promise.all([api, health]).then(
  ([a, h]) => parentPort.postMessage({ api: autocannon.aggregateResult([a], apiOpts), health: autocannon.aggregateResult([h], healthOpts) }),
  (e) => parentPort.postMessage({ error: String(e) }),
);
