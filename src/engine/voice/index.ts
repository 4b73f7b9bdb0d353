/** The cascaded audio pipeline (docs/voice.md): the audio I/O, its pacing and turn-taking, and the call's voice mode. */
export { AudioIO, type AudioIOOptions } from './audio-io.js';
export { DEFAULT_TURN_TAKING, InterruptionDetector, type TurnTaking } from './interruptions.js';
export { Pacer, realPacerClock, type PacerClock, FRAME_MS, FRAME_BYTES, LEAD_FRAMES } from './pacer.js';
export { EnergyVad } from './vad.js';
export { chooseVoiceMode } from './mode.js';
export { speechFromConfig, defaultVoice, type CallSpeech } from './speech.js';
