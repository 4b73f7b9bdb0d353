/**
 * The session a call's Realtime model runs with (GA `session.update`): μ-law in and out (Twilio's audio
 * passes through untouched), server-side voice activity detection (the engine decides turns and
 * interruptions), the callee's words transcribed, the same
 * instructions as the text brain (built from the brief, where the share policy has already removed what
 * may not be said), and the engine's actions as functions (one definition per tool: ../agent/tools.ts).
 */
import type { AgentBrief } from '../../engine/brain.js';
import { buildSystemPrompt } from '../agent/prompt.js';
import { toolSpecs } from '../agent/tools.js';
import { REALTIME_VOICES, type RealtimeModel, type RealtimeSession, type RealtimeVoice } from './protocol.js';

/** How the model hears turns and speaks (defaults are OpenAI's own: 0.5, 300 ms, 500 ms). */
export interface RealtimeSettings {
  model: RealtimeModel;
  /** Server VAD: 0–1, how loud speech must be; higher ignores more line noise. */
  vadThreshold: number;
  /** Server VAD: milliseconds of silence that end the callee's turn (endpointing). */
  silenceMs: number;
  /** Server VAD: audio kept from before speech was detected. */
  prefixPaddingMs: number;
  /** The transcription model for the callee's words (the call's transcript). */
  transcriptionModel: string;
}

export const REALTIME_DEFAULTS: RealtimeSettings = {
  model: 'gpt-realtime',
  vadThreshold: 0.5,
  silenceMs: 500,
  prefixPaddingMs: 300,
  transcriptionModel: 'gpt-4o-mini-transcribe',
};

/**
 * The voice of a call: its `openaiVoice` when the Realtime model has it, else the default for the call's
 * `voice_gender` (marin is OpenAI's recommended female voice for Realtime, cedar the male one).
 */
export function realtimeVoice(voice: { gender: 'male' | 'female'; openaiVoice?: string }): RealtimeVoice {
  const asked = voice.openaiVoice?.trim().toLowerCase();
  if (asked && (REALTIME_VOICES as readonly string[]).includes(asked)) return asked as RealtimeVoice;
  return voice.gender === 'female' ? 'marin' : 'cedar';
}

/** What the text brain's prompt says about written replies, said for a model that hears and speaks itself. */
const SPEAKING =
  '## Your voice\nYou hear the callee and answer with your own voice on a phone line: speak naturally, briefly, one or two ' +
  'sentences at a time. Lines in square brackets in the conversation are notes from Switchboard, not words the callee said.';

/** The instructions of a call: the text brain's prompt for the brief as it is now, plus how speaking works here. */
export function realtimeInstructions(brief: AgentBrief, now?: Date): string {
  return `${buildSystemPrompt(brief, { inlineCommands: false, now })}\n\n${SPEAKING}`;
}

/** The full `session` of a call's `session.update`. */
export function realtimeSession(brief: AgentBrief, voice: RealtimeVoice, s: RealtimeSettings = REALTIME_DEFAULTS, now?: Date): RealtimeSession {
  return {
    type: 'realtime',
    model: s.model,
    instructions: realtimeInstructions(brief, now),
    output_modalities: ['audio'],
    audio: {
      input: {
        format: { type: 'audio/pcmu' },
        transcription: { model: s.transcriptionModel, language: brief.language.slice(0, 2).toLowerCase() },
        turn_detection: {
          type: 'server_vad',
          threshold: s.vadThreshold,
          prefix_padding_ms: s.prefixPaddingMs,
          silence_duration_ms: s.silenceMs,
          // Neither answers nor cancels on its own: the engine decides what is a turn and what interrupts
          // (the cascaded pipeline's rule, src/engine/voice/interruptions.ts), so a cough neither cuts the
          // reply nor gets one. With both off the server still sends its VAD events (OpenAI's docs).
          create_response: false,
          interrupt_response: false,
        },
      },
      output: { format: { type: 'audio/pcmu' }, voice },
    },
    tools: toolSpecs(brief).map((t) => ({ type: 'function', name: t.name, description: t.description, parameters: t.parameters })),
    tool_choice: 'auto',
  };
}
