/**
 * A language model whose token usage is reported to one call's usage meter (billing: core/credits). Every
 * request the call makes through it counts, the after-call summary included.
 *
 * Providers send usage last, after the text and tool calls, and some local servers send none. A request
 * whose stream ends without a usage report (aborted by barge-in or by the call's end, left unread once the
 * turn had what it needed, or a server that reports none) still cost something: it is counted by an
 * estimate of about four characters a token (the rule of thumb OpenAI and Anthropic give for English),
 * the request's messages and tools as input, the text and tool calls received as output. Own code rather
 * than a tokenizer library: the token counts of the provider's own model are not known here, and a rough
 * figure is all an aborted request can have.
 */
import type { UsageReporter } from '../../core/credits/usage.js';
import type { Llm, LlmChunk, LlmRequest } from './llm.js';

const CHARS_PER_TOKEN = 4;

/** About how many tokens `chars` characters of text are. */
export function estimateTokens(chars: number): number {
  return Math.ceil(chars / CHARS_PER_TOKEN);
}

function inputChars(req: LlmRequest): number {
  return JSON.stringify(req.messages).length + (req.tools ? JSON.stringify(req.tools).length : 0);
}

function outputChars(chunk: LlmChunk): number {
  if (chunk.type === 'text') return chunk.text.length;
  if (chunk.type === 'tool_call') return chunk.call.name.length + chunk.call.arguments.length;
  return 0;
}

export function meteredLlm(llm: Llm, usage: UsageReporter): Llm {
  return {
    name: llm.name,
    async *stream(req) {
      let reported = false;
      let output = 0;
      try {
        for await (const chunk of llm.stream(req)) {
          if (chunk.type === 'usage') {
            reported = true;
            usage.add({ llmInputTokens: chunk.inputTokens, llmOutputTokens: chunk.outputTokens });
          }
          output += outputChars(chunk);
          yield chunk;
        }
      } finally {
        if (!reported) usage.add({ llmInputTokens: estimateTokens(inputChars(req)), llmOutputTokens: estimateTokens(output) });
      }
    },
  };
}
