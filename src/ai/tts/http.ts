/**
 * One streamed HTTP synthesis request, shared by the adapters that speak plain HTTP (ElevenLabs, Azure):
 * POST, then the response body's bytes as they arrive. A non-2xx answer or a network failure rejects with
 * a classified `TtsError`; an abort (barge-in) ends the iteration quietly and closes the connection.
 */
import { httpFailure, networkFailure } from './errors.js';
import type { TtsProvider } from './tts.js';

export interface AudioPost {
  provider: TtsProvider;
  url: string;
  headers: Record<string, string>;
  body: string;
  signal: AbortSignal;
  /** The response header that carries the provider's request id. */
  requestIdHeader?: string;
}

/** The response body of `post`, chunk by chunk, as the provider sends it. */
export async function* postForAudio(post: AudioPost): AsyncGenerator<Uint8Array> {
  const { provider, signal } = post;
  if (signal.aborted) return;
  let res: Response;
  try {
    res = await fetch(post.url, { method: 'POST', headers: post.headers, body: post.body, signal });
  } catch (err) {
    if (signal.aborted) return;
    throw networkFailure(provider, err);
  }
  const requestId = post.requestIdHeader ? (res.headers.get(post.requestIdHeader) ?? undefined) : undefined;
  if (!res.ok) {
    const text = await res.text().catch(() => '');
    throw httpFailure(provider, res.status, text, requestId);
  }
  yield* readBody(provider, res.body, signal);
}

/**
 * The chunks of a response body. Leaving the loop early (the consumer's `return`) or an abort cancels the
 * body, so the connection is released at once rather than left to drain.
 */
export async function* readBody(provider: TtsProvider, body: ReadableStream<Uint8Array> | null, signal: AbortSignal): AsyncGenerator<Uint8Array> {
  if (!body) return;
  const reader = body.getReader();
  try {
    for (;;) {
      let step: Awaited<ReturnType<typeof reader.read>>;
      try {
        step = await reader.read();
      } catch (err) {
        if (signal.aborted) return;
        throw networkFailure(provider, err);
      }
      if (step.done) return;
      if (step.value.byteLength > 0) yield step.value;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}
