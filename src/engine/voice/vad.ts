/**
 * Voice activity detection on the callee's μ-law frames: is someone speaking right now?
 *
 * An energy detector with an adaptive noise floor, not a WebRTC or Silero model. Why: it runs on every
 * 20 ms frame of every call (the hot path of a 1,000-call node: ~1 µs a frame, ~100 bytes a call, see
 * docs/voice.md "The cascaded pipeline"); the maintained WebRTC VAD builds for Node are native addons
 * that need a compiler at install time, and Silero needs onnxruntime (tens of MB, ~0.1 ms a frame). The
 * detector only has to tell sound from silence on a phone line: whether the sound is words is the
 * speech-to-text's call (barge-in waits for words, ./interruptions.ts), so a cough that passes here
 * costs a short pause, never an interruption.
 *
 * @example
 *   const vad = new EnergyVad();
 *   for (const frame of frames) { const change = vad.push(frame); if (change === 'start') … }
 */
import alawmulaw from 'alawmulaw';

export interface VadOptions {
  /** Frames of sound in a row before speech counts as started (default 3 = 60 ms: clicks do not count). */
  onsetFrames?: number;
  /** Frames of quiet in a row before speech counts as ended (default 10 = 200 ms: pauses between words). */
  hangoverFrames?: number;
  /** A frame is sound when its mean level is this many times the noise floor (default 3, ~10 dB)… */
  ratio?: number;
  /** …and at least this loud (mean absolute 16-bit sample, default 300 ≈ −40 dBFS). */
  minLevel?: number;
}

/** The magnitude of each μ-law byte as a linear 16-bit sample, looked up instead of decoded per sample. */
const MAGNITUDE = Uint16Array.from({ length: 256 }, (_, b) => Math.abs(alawmulaw.mulaw.decodeSample(b)));

export type VadChange = 'start' | 'end' | null;

export class EnergyVad {
  private readonly onset: number;
  private readonly hangover: number;
  private readonly ratio: number;
  private readonly minLevel: number;
  /** The quietest recent level: line noise. Starts at the minimum so the first words are not the floor. */
  private floor: number;
  private loudRun = 0;
  private quietRun = 0;
  private inSpeech = false;

  constructor(o: VadOptions = {}) {
    this.onset = o.onsetFrames ?? 3;
    this.hangover = o.hangoverFrames ?? 10;
    this.ratio = o.ratio ?? 3;
    this.minLevel = o.minLevel ?? 300;
    this.floor = this.minLevel / this.ratio;
  }

  /** Whether speech is going on (as of the last frame). */
  get speaking(): boolean {
    return this.inSpeech;
  }

  /** Classifies one frame; says when speech starts or ends with it. */
  push(frame: Uint8Array): VadChange {
    const level = meanLevel(frame);
    // The floor follows quiet at once and noise slowly, so speech never becomes the floor.
    this.floor = level < this.floor ? level : this.floor + (level - this.floor) * 0.002;
    const loud = level >= this.minLevel && level >= this.floor * this.ratio;
    if (loud) {
      this.loudRun++;
      this.quietRun = 0;
      if (!this.inSpeech && this.loudRun >= this.onset) {
        this.inSpeech = true;
        return 'start';
      }
    } else {
      this.quietRun++;
      this.loudRun = 0;
      if (this.inSpeech && this.quietRun >= this.hangover) {
        this.inSpeech = false;
        return 'end';
      }
    }
    return null;
  }
}

/** Mean absolute sample of a μ-law frame. */
export function meanLevel(frame: Uint8Array): number {
  if (!frame.length) return 0;
  let sum = 0;
  for (let i = 0; i < frame.length; i++) sum += MAGNITUDE[frame[i]];
  return sum / frame.length;
}
