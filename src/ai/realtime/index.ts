/**
 * OpenAI Realtime: a speech-to-speech model on one WebSocket per call (docs/voice.md "Speech-to-speech").
 * The engine's `RealtimeActivity` (src/engine/realtime/) drives it over a carrier's audio channel.
 */
export { RealtimeConnection, realtimeUrl, type RealtimeClosed, type RealtimeOptions } from './realtime-client.js';
export { REALTIME_DEFAULTS, realtimeInstructions, realtimeSession, realtimeVoice, type RealtimeSettings } from './session.js';
export * from './protocol.js';
