/**
 * How a call session builds its speech-to-speech activity (VOICE_ENGINE=realtime): the OpenAI account, the
 * session settings, and the call's voice, in one place, so the controller only hands over what it owns.
 */
import type { AudioChannel } from '../../carriers/carrier.js';
import { REALTIME_DEFAULTS, RealtimeConnection, realtimeSession, realtimeVoice, type RealtimeSettings } from '../../ai/realtime/index.js';
import type { CallRequest } from '../../core/calls/request.js';
import type { TurnTaking } from '../voice/interruptions.js';
import { RealtimeActivity, type RealtimeActivityOptions } from './realtime-activity.js';

/** VOICE_ENGINE=realtime: the OpenAI account the calls' Realtime sessions use, and their settings. */
export interface SpeechToSpeechConfig {
  apiKey: string;
  /** OPENAI_BASE_URL (a local fake in tests). */
  baseUrl: string;
  settings?: Partial<RealtimeSettings>;
  /** Outbound calls: silence before the agent greets first (default 2.5 s). */
  greetAfterMs?: number;
  /** What interrupts the agent (VOICE_MIN_INTERRUPTION_MS, …): the same rule as the cascaded pipeline. */
  turnTaking?: TurnTaking;
}

export type SpeechToSpeechCall = Omit<RealtimeActivityOptions, 'connect' | 'session' | 'greetAfterMs' | 'turnTaking'> & {
  channel: AudioChannel;
  /** The call's request: its voice fields pick the model's voice. */
  request: CallRequest;
};

/** The activity of one call answered in audio mode, on its own Realtime connection. */
export function speechToSpeechActivity(config: SpeechToSpeechConfig, call: SpeechToSpeechCall): RealtimeActivity {
  const settings = { ...REALTIME_DEFAULTS, ...config.settings, ...(call.request.endpointingMs ? { silenceMs: call.request.endpointingMs } : {}) };
  const voice = realtimeVoice(call.request.voice);
  // The prompt's clock is the call's start: the instructions change only when the brief does.
  const now = new Date();
  return new RealtimeActivity({
    ...call,
    greetAfterMs: config.greetAfterMs,
    turnTaking: config.turnTaking,
    connect: () => RealtimeConnection.open({ apiKey: config.apiKey, baseUrl: config.baseUrl, model: settings.model }),
    session: (brief) => realtimeSession(brief, voice, settings, now),
  });
}
