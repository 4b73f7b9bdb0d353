/**
 * A language model whose token usage is reported to one call's usage meter (billing: core/credits). Every
 * request the call makes through it counts, the after-call summary included. A stream given up before its
 * end (barge-in) reports nothing: providers send the usage last, and this counts what they report.
 */
import type { UsageReporter } from '../../core/credits/usage.js';
import type { Llm } from './llm.js';

export function meteredLlm(llm: Llm, usage: UsageReporter): Llm {
  return {
    name: llm.name,
    async *stream(req) {
      for await (const chunk of llm.stream(req)) {
        if (chunk.type === 'usage') usage.add({ llmInputTokens: chunk.inputTokens, llmOutputTokens: chunk.outputTokens });
        yield chunk;
      }
    },
  };
}
