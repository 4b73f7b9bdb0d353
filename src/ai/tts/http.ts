/**
 * One streamed HTTP synthesis request, shared by the adapters that speak plain HTTP (ElevenLabs, Azure):
 * POST, then the response body's bytes as they arrive. A non-2xx answer or a network failure rejects with
 * a classified `TtsError`; an abort (barge-in) ends the iteration quietly and closes the connection.
 * Over `node:http(s)`, not `fetch`: src/lib/http-post.ts says why.
 */
import type http from 'node:http';
import { headerOf, post as postRequest, textOf } from '../../lib/http-post.js';
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
  let res: http.IncomingMessage;
  try {
    res = await postRequest(post.url, post.headers, post.body, signal);
  } catch (err) {
    if (signal.aborted) return;
    throw networkFailure(provider, err);
  }
  try {
    const status = res.statusCode ?? 0;
    if (status < 200 || status > 299) {
      const text = await textOf(res).catch(() => '');
      throw httpFailure(provider, status, text, post.requestIdHeader ? headerOf(res, post.requestIdHeader) : undefined);
    }
    try {
      for await (const chunk of res as AsyncIterable<Buffer>) if (chunk.length > 0) yield chunk;
    } catch (err) {
      if (signal.aborted) return;
      throw networkFailure(provider, err);
    }
  } finally {
    // Left before the end (the consumer's `return`, an abort): the connection is cut, not left to drain.
    if (!res.complete) res.destroy();
  }
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
