/**
 * How a call's speech is carried, decided once per call before it is dialled (or answered): as text, by a
 * carrier that does speech itself (the simulated network's text, Twilio ConversationRelay), or as audio,
 * with Switchboard's own pipeline over the carrier's media stream. The voice rules (issue 10 §5: a voice
 * that ConversationRelay lacks → audio) plug in here.
 */
import type { CarrierCapabilities, VoiceMode } from '../../carriers/carrier.js';
import type { CallRequest } from '../../core/calls/request.js';
import { needsAudioMode } from '../voice-choice.js';
import type { CallSpeech } from './speech.js';

/**
 * `audio` when the carrier can carry audio, speech is configured with a text-to-speech for the call's voice,
 * and either the call's voice needs it (a voice the carrier's own speech lacks, or a carrier with no text
 * mode: `needsAudioMode`) or the setting asks for audio (VOICE_MODE, SIM_AUDIO). The offline fallback voice
 * (espeak-ng, a server with no speech keys) never asks for audio on a carrier that speaks itself.
 */
export function chooseVoiceMode(req: CallRequest, caps: CarrierCapabilities, speech: CallSpeech | undefined): VoiceMode {
  if (!caps.mediaStream || !speech) return 'text';
  const voice = speech.voiceFor(req);
  if (!speech.tts[voice.provider]) return 'text';
  // espeak-ng is the fallback of a server with no speech keys, never a voice anyone asked for: a carrier
  // that speaks itself (ConversationRelay) keeps its own voice rather than going to audio for it.
  if (voice.provider === 'espeak' && caps.textMode && !speech.preferAudio) return 'text';
  return needsAudioMode(voice, caps) || speech.preferAudio ? 'audio' : 'text';
}
