export { DeepgramStt, DEEPGRAM_DEFAULTS } from './deepgram-stt.js';
export type { DeepgramModel, DeepgramSttOptions } from './deepgram-stt.js';
export { deepgramLanguage } from './language.js';
