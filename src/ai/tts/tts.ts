/**
 * Streaming text-to-speech, behind one small interface: the cascaded audio pipeline (src/engine/voice/)
 * speaks one clause at a time and plays the audio as it arrives. Every adapter hands back telephony audio
 * (G.711 μ-law, 8 kHz, mono), converting in the adapter where the provider has no such output (OpenAI's
 * 24 kHz PCM); providers' wire formats stop in their adapter (openai/, elevenlabs/, azure/, espeak/).
 *
 * @example
 *   for await (const chunk of tts.synthesize({ text: 'Hello.', voice, language: 'en', signal })) channel.play(chunk);
 */

export type TtsProvider = 'openai' | 'elevenlabs' | 'azure' | 'espeak';

/** The voice a call speaks with, resolved from the call's voice fields (src/core/voice/, docs/voice.md). */
export interface VoiceChoice {
  provider: TtsProvider;
  /** The provider's voice: OpenAI `alloy`…, an ElevenLabs voice id, an Azure voice name, an espeak-ng variant. */
  voice: string;
  /** The provider's model (`gpt-4o-mini-tts`, `eleven_flash_v2_5`); the adapter's default when absent. */
  model?: string;
  /** Azure: `mstts:express-as` style and role. */
  style?: string;
  role?: string;
  /** Azure: `mstts:backgroundaudio` under the speech of each request (a sentence, or a reply's first clause). */
  backgroundAudio?: { src: string; volume?: number; fadeInMs?: number; fadeOutMs?: number };
  /** ElevenLabs: 002's `voice_settings` (an agent's), in ElevenLabs' own terms. */
  settings?: { stability?: number; similarityBoost?: number; style?: number; useSpeakerBoost?: boolean; speed?: number };
}

export interface TtsRequest {
  text: string;
  voice: VoiceChoice;
  /** BCP 47-ish language code of the call. */
  language: string;
  /**
   * What was said just before, in the same sentence (a reply's first clause, synthesised on its own): given to
   * providers that can carry its intonation on (ElevenLabs' `previous_text`); the others ignore it.
   */
  previousText?: string;
  /** Aborting stops the synthesis (barge-in): the iteration ends and the connection is released. */
  signal: AbortSignal;
}

export interface TextToSpeech {
  readonly provider: TtsProvider;
  /**
   * `text` spoken, as μ-law 8 kHz chunks (any size) as soon as the provider sends them. Rejects (through the
   * iteration) when the provider fails; ends early, without error, when `signal` aborts.
   */
  synthesize(req: TtsRequest): AsyncIterable<Uint8Array>;
}
