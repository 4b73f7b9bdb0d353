/** Helpers for the LLM adapter tests. */
import type { LlmChunk } from '../../src/ai/llm/index.js';

export async function collect(stream: AsyncIterable<LlmChunk>): Promise<LlmChunk[]> {
  const out: LlmChunk[] = [];
  for await (const c of stream) out.push(c);
  return out;
}

/** Collects until the stream fails; returns what came before and the error. */
export async function collectUntilError(stream: AsyncIterable<LlmChunk>): Promise<{ chunks: LlmChunk[]; error: unknown }> {
  const chunks: LlmChunk[] = [];
  try {
    for await (const c of stream) chunks.push(c);
  } catch (error) {
    return { chunks, error };
  }
  throw new Error('expected the stream to fail');
}

export const textOf = (chunks: LlmChunk[]) =>
  chunks
    .filter((c): c is Extract<LlmChunk, { type: 'text' }> => c.type === 'text')
    .map((c) => c.text)
    .join('');

/** A sleep that records the waits and returns at once. */
export function recordingSleep() {
  const waits: number[] = [];
  return { waits, sleep: async (ms: number) => void waits.push(ms) };
}
