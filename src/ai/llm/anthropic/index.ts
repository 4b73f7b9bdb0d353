export { AnthropicLlm, ANTHROPIC_DEFAULTS, toAnthropicBody, toAnthropicMessages } from './anthropic-llm.js';
export type { AnthropicModel, AnthropicOptions } from './anthropic-llm.js';
