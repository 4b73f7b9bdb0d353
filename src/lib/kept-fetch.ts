/**
 * A `fetch` whose connections stay open `IDLE_CONNECTION_MS` between requests, for the clients that take a
 * `fetch` of ours (the `openai` package's speech, `OpenAiTts`).
 *
 * Why: Node's own `fetch` lets an idle connection go after 4 s (its undici's default) and has no setting for
 * it; a callee often talks longer than that between two of the agent's replies, so the next reply's first
 * clause opened a new connection — a TCP and a TLS handshake, two round trips to the provider, before its
 * first audio byte. undici (the library Node's `fetch` is built from) takes an `Agent` with a longer
 * keep-alive; a server that announces a shorter one (`Keep-Alive: timeout=N`) is followed, as it is by
 * src/lib/http-post.ts's agents. undici is loaded when the first such client is made (≈ 40 ms once), not at
 * every node's start.
 */
import { IDLE_CONNECTION_MS } from './http-post.js';

type Fetch = typeof globalThis.fetch;

let loading: Promise<Fetch> | undefined;

/** The process's kept-alive `fetch` (one connection pool for all its clients); starts loading undici. */
export function keptAliveFetch(): Fetch {
  loading ??= import('undici').then(({ Agent, fetch }) => {
    const dispatcher = new Agent({ keepAliveTimeout: IDLE_CONNECTION_MS });
    // undici's types are its own classes; at run time they are the same WHATWG shapes as the global ones.
    return ((input: Parameters<Fetch>[0], init?: RequestInit) => fetch(input as never, { ...(init as object), dispatcher } as never)) as unknown as Fetch;
  });
  const loaded = loading;
  return async (input, init) => (await loaded)(input, init);
}
