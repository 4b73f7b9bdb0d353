export { OpenAiCompatibleLlm, OPENAI_DEFAULTS, toOpenAiBody, toOpenAiMessages } from './openai-compatible-llm.js';
export type { OpenAiCompatibleOptions, OpenAiModel } from './openai-compatible-llm.js';
