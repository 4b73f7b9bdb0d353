/**
 * Plain audio as Switchboard handles it: 16-bit signed mono PCM with its sample rate (`Pcm`), read from and
 * written to WAV, mixed on a timeline, keypad tones, and MP3 through lame. Resampling goes through sox.
 *
 * The WAV header is written and read here rather than with a library: a RIFF header is 44 bytes with one
 * layout for this one format, and espeak-ng's stdout WAV (whose sizes say "unknown", 0x7fffffff) must be
 * read too, which WAV libraries refuse.
 */
import { runTool } from './run.js';

export interface Pcm {
  sampleRate: number;
  /** Mono, signed 16-bit. */
  samples: Int16Array;
}

/** Seconds of audio in `pcm`. */
export function durationOf(pcm: Pcm): number {
  return pcm.samples.length / pcm.sampleRate;
}

/** Silence of `seconds` at `sampleRate`. */
export function silence(seconds: number, sampleRate: number): Pcm {
  return { sampleRate, samples: new Int16Array(Math.max(0, Math.round(seconds * sampleRate))) };
}

/** A 16-bit mono PCM WAV file of `pcm`. */
export function toWav(pcm: Pcm): Buffer {
  const data = Buffer.from(pcm.samples.buffer, pcm.samples.byteOffset, pcm.samples.byteLength);
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'ascii');
  h.writeUInt32LE(36 + data.length, 4);
  h.write('WAVE', 8, 'ascii');
  h.write('fmt ', 12, 'ascii');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20); // PCM
  h.writeUInt16LE(1, 22); // mono
  h.writeUInt32LE(pcm.sampleRate, 24);
  h.writeUInt32LE(pcm.sampleRate * 2, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'ascii');
  h.writeUInt32LE(data.length, 40);
  return Buffer.concat([h, data]);
}

/** The audio of a 16-bit PCM WAV file (mono, or the first channel of several). Throws on anything else. */
export function fromWav(wav: Buffer): Pcm {
  if (wav.length < 12 || wav.toString('ascii', 0, 4) !== 'RIFF' || wav.toString('ascii', 8, 12) !== 'WAVE') throw new Error('not a WAV file');
  let at = 12;
  let fmt: { format: number; channels: number; rate: number; bits: number } | undefined;
  while (at + 8 <= wav.length) {
    const id = wav.toString('ascii', at, at + 4);
    const size = wav.readUInt32LE(at + 4);
    const body = at + 8;
    if (id === 'fmt ') {
      fmt = { format: wav.readUInt16LE(body), channels: wav.readUInt16LE(body + 2), rate: wav.readUInt32LE(body + 4), bits: wav.readUInt16LE(body + 14) };
    } else if (id === 'data') {
      if (!fmt) throw new Error('WAV data before its format');
      // 0xFFFFFFFF / 0x7FFFFFFF: a streamed WAV of unknown length (espeak-ng --stdout): the data runs to the end.
      const end = size >= 0x7fffffff || body + size > wav.length ? wav.length : body + size;
      return pcm16(wav.subarray(body, end), fmt);
    }
    at = body + size + (size % 2);
  }
  throw new Error('WAV file without data');
}

function pcm16(data: Buffer, fmt: { format: number; channels: number; rate: number; bits: number }): Pcm {
  // 1 = PCM; 0xFFFE = WAVE_FORMAT_EXTENSIBLE (PCM inside for 16-bit files).
  if ((fmt.format !== 1 && fmt.format !== 0xfffe) || fmt.bits !== 16) throw new Error('only 16-bit PCM WAV is read');
  const frames = Math.floor(data.length / (2 * fmt.channels));
  const samples = new Int16Array(frames);
  for (let i = 0; i < frames; i++) samples[i] = data.readInt16LE(i * 2 * fmt.channels);
  return { sampleRate: fmt.rate, samples };
}

/** `pcm` at `sampleRate` (sox's resampler). Aborting `signal` stops sox. */
export async function resample(pcm: Pcm, sampleRate: number, signal?: AbortSignal): Promise<Pcm> {
  if (pcm.sampleRate === sampleRate) return pcm;
  const out = await runTool('sox', ['-q', '-t', 'wav', '-', '-t', 'wav', '-r', String(sampleRate), '-b', '16', '-c', '1', '-'], toWav(pcm), undefined, signal);
  return fromWav(out);
}

/**
 * Adds `clip` into `into` starting at `atSeconds` (both at one sample rate), clipping at 16-bit limits.
 * Whatever would fall past the end of `into` is cut: the timeline's length is the call's.
 */
export function mixInto(into: Pcm, clip: Pcm, atSeconds: number): void {
  if (clip.sampleRate !== into.sampleRate) throw new Error('mixing needs one sample rate');
  const start = Math.max(0, Math.round(atSeconds * into.sampleRate));
  const n = Math.min(clip.samples.length, into.samples.length - start);
  for (let i = 0; i < n; i++) {
    const v = into.samples[start + i] + clip.samples[i];
    into.samples[start + i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
  }
}

/** The two frequencies (Hz) of each keypad key (ITU-T Q.23). */
const DTMF: Record<string, [number, number]> = {
  '1': [697, 1209], '2': [697, 1336], '3': [697, 1477], A: [697, 1633],
  '4': [770, 1209], '5': [770, 1336], '6': [770, 1477], B: [770, 1633],
  '7': [852, 1209], '8': [852, 1336], '9': [852, 1477], C: [852, 1633],
  '*': [941, 1209], '0': [941, 1336], '#': [941, 1477], D: [941, 1633],
};

/**
 * The keypad tone of `key` (`0-9 * # A-D`), `seconds` long; null for anything else. Two sines summed, as a
 * telephone makes them (generated here: spawning sox for a tenth of a second of two sines would cost more
 * than the tone).
 */
export function dtmfTone(key: string, seconds: number, sampleRate: number): Pcm | null {
  const f = Object.hasOwn(DTMF, key.toUpperCase()) ? DTMF[key.toUpperCase()] : undefined;
  if (!f) return null;
  const n = Math.round(seconds * sampleRate);
  const samples = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    const t = i / sampleRate;
    samples[i] = Math.round(8000 * (Math.sin(2 * Math.PI * f[0] * t) + Math.sin(2 * Math.PI * f[1] * t)));
  }
  return { sampleRate, samples };
}

/** `pcm` as MP3 (lame; mono, constant `kbps`). */
export async function toMp3(pcm: Pcm, kbps = 32): Promise<Buffer> {
  return runTool('lame', ['--quiet', '-m', 'm', '-b', String(kbps), '-', '-'], toWav(pcm));
}

/** The audio of an MP3 file, decoded by lame (for checks; Switchboard itself never needs to decode one). */
export async function fromMp3(mp3: Buffer): Promise<Pcm> {
  return fromWav(await runTool('lame', ['--quiet', '--mp3input', '--decode', '-', '-'], mp3));
}
