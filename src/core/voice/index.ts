/**
 * Voices: which voice a call speaks with (resolve.ts, the rules of 000/001), each provider's defaults
 * (defaults.ts), and ElevenLabs voice cloning (cloning.ts).
 */
export { resolveVoice, voiceForCall, parseVoiceSettings, type ElevenLabsVoiceSettings, type HostedTtsProvider, type VoiceFields, type VoiceGender } from './resolve.js';
export { OPENAI_DEFAULT_VOICES, ELEVENLABS_DEFAULT_VOICES, AZURE_DEFAULT_VOICES, OPENAI_VOICES, azureDefaultVoice } from './defaults.js';
export { configuredTtsProviders } from './configured.js';
export { VoiceCloning, checkSamples, VOICE_SAMPLE_LIMITS, type CloneVoice, type CloneVoiceInput, type VoiceSample } from './cloning.js';
