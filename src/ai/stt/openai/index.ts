export { OpenAiStt, OPENAI_STT_DEFAULTS, openAiLanguage } from './openai-stt.js';
export type { OpenAiSttOptions, OpenAiTranscriptionModel } from './openai-stt.js';
