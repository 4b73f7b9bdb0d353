export { OpenAiTts, OPENAI_TTS_DEFAULTS, type OpenAiTtsModel, type OpenAiTtsOptions } from './openai-tts.js';
