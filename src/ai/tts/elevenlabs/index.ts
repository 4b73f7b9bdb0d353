export { ElevenLabsTts, ELEVENLABS_DEFAULTS, elevenLabsBody, type ElevenLabsModel, type ElevenLabsTtsOptions } from './elevenlabs-tts.js';
export { addElevenLabsVoice, type AddVoiceRequest, type VoiceSampleFile } from './voices.js';
