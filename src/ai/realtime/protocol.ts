/**
 * The OpenAI Realtime API's events, GA shape (../shared/protocols.md §6; openai-node
 * `src/resources/realtime/realtime.ts`): only the ones Switchboard sends or reads. Every event is one JSON
 * text frame with a `type`. The wire stops here and in ./realtime-client.ts: the engine's realtime activity
 * reads these types, never raw frames.
 */

/** Models that speak the Realtime protocol (a literal union: a typo is refused at start-up, not a 404 mid-call). */
export const REALTIME_MODELS = ['gpt-realtime', 'gpt-realtime-mini', 'gpt-4o-realtime-preview', 'gpt-4o-mini-realtime-preview'] as const;
export type RealtimeModel = (typeof REALTIME_MODELS)[number];

/** The voices a Realtime session may speak with. */
export const REALTIME_VOICES = ['alloy', 'ash', 'ballad', 'coral', 'echo', 'sage', 'shimmer', 'verse', 'marin', 'cedar'] as const;
export type RealtimeVoice = (typeof REALTIME_VOICES)[number];

/** A function the model may call (the engine's actions; ../agent/tools.ts defines them). */
export interface RealtimeFunction {
  type: 'function';
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

/** The `session` of a GA `session.update`. */
export interface RealtimeSession {
  type: 'realtime';
  model?: RealtimeModel;
  instructions?: string;
  output_modalities?: Array<'audio' | 'text'>;
  audio?: {
    input?: {
      format?: { type: 'audio/pcmu' | 'audio/pcma' } | { type: 'audio/pcm'; rate: 24000 };
      transcription?: { model: string; language?: string } | null;
      turn_detection?: {
        type: 'server_vad';
        threshold?: number;
        prefix_padding_ms?: number;
        silence_duration_ms?: number;
        create_response?: boolean;
        interrupt_response?: boolean;
      } | null;
    };
    output?: { format?: { type: 'audio/pcmu' | 'audio/pcma' }; voice?: RealtimeVoice; speed?: number };
  };
  tools?: RealtimeFunction[];
  tool_choice?: 'auto' | 'none' | 'required';
}

/** A conversation item Switchboard adds: a user's text (a keypad entry, a note) or a function's output. */
export type RealtimeInputItem =
  | { type: 'message'; role: 'user' | 'system'; content: Array<{ type: 'input_text'; text: string }> }
  | { type: 'function_call_output'; call_id: string; output: string };

export type RealtimeClientEvent =
  | { type: 'session.update'; session: RealtimeSession }
  | { type: 'input_audio_buffer.append'; audio: string }
  | { type: 'conversation.item.create'; item: RealtimeInputItem }
  | { type: 'conversation.item.truncate'; item_id: string; content_index: 0; audio_end_ms: number }
  | { type: 'response.create'; response?: { instructions?: string; tool_choice?: 'auto' | 'none'; metadata?: Record<string, string> } }
  | { type: 'response.cancel' };

/** Token counts of one response (what is billed). */
export interface RealtimeUsage {
  total_tokens?: number;
  input_tokens?: number;
  output_tokens?: number;
}

/** What a transcription used: seconds of audio, or tokens, depending on the model. */
export type TranscriptionUsage = { type: 'duration'; seconds: number } | { type: 'tokens'; input_tokens?: number; output_tokens?: number; total_tokens?: number };

export type RealtimeServerEvent =
  | { type: 'session.created' | 'session.updated'; session: RealtimeSession & { id?: string } }
  | { type: 'input_audio_buffer.speech_started'; audio_start_ms: number; item_id: string }
  | { type: 'input_audio_buffer.speech_stopped'; audio_end_ms: number; item_id: string }
  | { type: 'conversation.item.input_audio_transcription.delta'; item_id: string; delta: string }
  | { type: 'conversation.item.input_audio_transcription.completed'; item_id: string; transcript: string; usage?: TranscriptionUsage }
  | { type: 'conversation.item.input_audio_transcription.failed'; item_id: string; error: { type?: string; code?: string | null; message: string } }
  | { type: 'response.created'; response: { id: string } }
  | { type: 'response.output_audio.delta'; response_id: string; item_id: string; delta: string }
  | { type: 'response.output_audio_transcript.delta'; response_id: string; item_id: string; delta: string }
  | { type: 'response.output_audio_transcript.done'; response_id: string; item_id: string; transcript: string }
  | { type: 'response.function_call_arguments.done'; response_id: string; item_id: string; call_id: string; name: string; arguments: string }
  | {
      type: 'response.done';
      response: { id: string; status: 'completed' | 'cancelled' | 'failed' | 'incomplete' | 'in_progress'; status_details?: { reason?: string } | null; usage?: RealtimeUsage };
    }
  | { type: 'conversation.item.truncated'; item_id: string; audio_end_ms: number }
  | { type: 'error'; error: { type: string; code?: string | null; message: string; param?: string | null; event_id?: string | null } };
/* Other server events (rate limits, item notifications, content parts…) reach the listener too; nobody reads them. */
