/**
 * The simulated network's call recordings: what was heard on a line (its timed sounds, see `LineSound`)
 * spoken again offline by espeak-ng, each party in its own voice, with the keypad tones, at the moment it
 * was heard. The recording lasts exactly as long as the line was open, so it plays like the call it records.
 */
import { dtmfTone, mixInto, silence, toWav } from '../../speech/audio.js';
import { speak } from '../../speech/espeak.js';
import type { LineSound } from './line.js';
import { SIM_BEEP } from './parties/voicemail.js';

/** Telephone audio: 8 kHz mono. */
const SAMPLE_RATE = 8000;

/** How a simulated call is recorded, as the carrier hands it over (`CarrierRecording.ref`; plain JSON). */
export interface SimRecordingRef {
  kind: 'sim';
  /** The call's language (both parties speak it on the simulated network's recordings). */
  language: string;
  /** The line's speaking pace. */
  wordsPerSecond: number;
  /** How long the line was open, ms. */
  durationMs: number;
  sounds: LineSound[];
}

/** The agent and the far end sound different: a higher voice for the agent, a lower one for the callee (in recordings and on audio lines). */
export const SIM_VOICES = {
  agent: { variant: 'f3', pitch: 60 },
  party: { variant: 'm3', pitch: 40 },
} as const;

export function isSimRecordingRef(ref: unknown): ref is SimRecordingRef {
  const r = ref as Partial<SimRecordingRef> | null;
  return !!r && r.kind === 'sim' && typeof r.durationMs === 'number' && Array.isArray(r.sounds);
}

/** The recording of a simulated call, as a 16-bit 8 kHz mono WAV file. */
export async function renderSimRecording(ref: SimRecordingRef): Promise<Buffer> {
  const out = silence(ref.durationMs / 1000, SAMPLE_RATE);
  for (const s of ref.sounds) {
    if (s.kind === 'key') {
      const tone = dtmfTone(s.key, s.ms / 1000, SAMPLE_RATE);
      if (tone) mixInto(out, tone, s.at / 1000);
      continue;
    }
    if (s.text === SIM_BEEP) {
      // The answering machine's beep is a tone, not a word.
      mixInto(out, beep(Math.min(s.ms, 600) / 1000), s.at / 1000);
      continue;
    }
    const voice = SIM_VOICES[s.who];
    const clip = await speak(s.text, { language: ref.language, variant: voice.variant, pitch: voice.pitch, wordsPerMinute: ref.wordsPerSecond * 60, sampleRate: SAMPLE_RATE });
    // Speech that ran over its turn is cut where the next sound of the line began (as it was heard).
    const room = Math.round((s.ms / 1000 + 0.5) * SAMPLE_RATE);
    mixInto(out, { sampleRate: SAMPLE_RATE, samples: clip.samples.subarray(0, room) }, s.at / 1000);
  }
  return toWav(out);
}

function beep(seconds: number) {
  const n = Math.round(seconds * SAMPLE_RATE);
  const samples = new Int16Array(n);
  for (let i = 0; i < n; i++) samples[i] = Math.round(9000 * Math.sin((2 * Math.PI * 1000 * i) / SAMPLE_RATE));
  return { sampleRate: SAMPLE_RATE, samples };
}
