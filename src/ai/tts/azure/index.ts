export { AzureTts, type AzureTtsOptions } from './azure-tts.js';
export { buildSsml, xmlEscape } from './ssml.js';
