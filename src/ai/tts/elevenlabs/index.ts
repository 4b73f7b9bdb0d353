export { ElevenLabsTts, ELEVENLABS_DEFAULTS, elevenLabsBody, type ElevenLabsModel, type ElevenLabsTtsOptions } from './elevenlabs-tts.js';
