/**
 * The speech pieces a call in audio mode is built from, as the call controller receives them
 * (`CallSessionDeps.speech`): the speech-to-text, the text-to-speech of each configured provider, the voice
 * of a call, and the turn-taking settings. Built from the configuration here; tests hand in their own.
 */
import type { SpeechConfig } from '../../config/index.js';
import type { CallRequest } from '../../core/calls/request.js';
import { createStt, type SpeechToText } from '../../ai/stt/index.js';
import { createTtsProviders, type TextToSpeech, type TtsProvider, type VoiceChoice } from '../../ai/tts/index.js';
import { espeakVoice } from '../../speech/espeak.js';
import { DEFAULT_TURN_TAKING, type TurnTaking } from './interruptions.js';
import type { Pacer } from './pacer.js';

export interface CallSpeech {
  /** A speech-to-text for one call; throws when none can be built (the call then fails, saying so). */
  stt(): SpeechToText;
  tts: Partial<Record<TtsProvider, TextToSpeech>>;
  /** The voice a call speaks with (its voice fields, its language). */
  voiceFor(req: CallRequest): VoiceChoice;
  /** The turn-taking of a call (endpointing, interruptions). */
  turnTakingFor(req: CallRequest): TurnTaking;
  /** Calls on a carrier that can carry either run in audio mode (VOICE_MODE=audio, SIM_AUDIO). */
  preferAudio: boolean;
  /** The pacer of outbound audio (default: the node's shared one). */
  pacer?: Pacer;
}

/**
 * The speech of audio calls from the configuration (docs/voice.md); `voiceOf` is the voice rules (the core's
 * `CallService.voiceOf`), else `defaultVoice`.
 */
export function speechFromConfig(cfg: SpeechConfig, voiceOf?: (req: CallRequest) => VoiceChoice): CallSpeech {
  const tts = createTtsProviders(cfg);
  return {
    stt: () => createStt(cfg),
    tts,
    voiceFor: voiceOf ?? ((req) => defaultVoice(req, tts)),
    // No document has a per-call field for these: every call gets the node's settings.
    turnTakingFor: (req) => ({ ...(cfg.turnTaking ?? DEFAULT_TURN_TAKING), ...(req.endpointingMs ? { endpointingMs: req.endpointingMs } : {}) }),
    preferAudio: cfg.voiceMode === 'audio' || cfg.simAudio,
  };
}

/**
 * A call's voice where no voice rules are given (tests, tools): OpenAI's voice when OpenAI is configured (the
 * call's `openaiVoice`, else `alloy`), else espeak-ng's voice for the call's language.
 */
export function defaultVoice(req: CallRequest, tts: Partial<Record<TtsProvider, TextToSpeech>>): VoiceChoice {
  if (tts.openai) return { provider: 'openai', voice: req.voice.openaiVoice ?? 'alloy' };
  return { provider: 'espeak', voice: espeakVoice(req.language) };
}
