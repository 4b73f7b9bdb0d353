/**
 * Linear PCM from a provider (16-bit little-endian mono at its own rate; OpenAI's is 24 kHz) → μ-law
 * 8 kHz for the phone, chunk by chunk as the bytes arrive. Resampling is libsamplerate (its WebAssembly
 * build, `@alexanderolsen/libsamplerate-js`, stateful across chunks so chunk edges leave no clicks); μ-law
 * is `alawmulaw`'s G.711 encoder.
 *
 * A resampler instance costs 13–30 ms to build and ~1.5 MB of resident memory (bench/tts-resample.ts), so
 * instances are pooled by rate and reused: there are only as many as syntheses running at once.
 */
import { createRequire } from 'node:module';
import alawmulaw from 'alawmulaw';
import type { SRC } from '@alexanderolsen/libsamplerate-js/dist/src.js';

const require = createRequire(import.meta.url);
// CommonJS with no named ESM exports: loaded through require.
const libsamplerate = require('@alexanderolsen/libsamplerate-js') as typeof import('@alexanderolsen/libsamplerate-js');

const TELEPHONE_RATE = 8000;
/** Instances kept per input rate when idle; more are built under load and destroyed after. */
const POOL_LIMIT = 16;
const pools = new Map<number, SRC[]>();

async function acquire(rate: number): Promise<SRC> {
  const idle = pools.get(rate)?.pop();
  if (idle) return idle;
  return libsamplerate.create(1, rate, TELEPHONE_RATE, { converterType: libsamplerate.ConverterType.SRC_SINC_FASTEST });
}

function release(rate: number, src: SRC): void {
  const pool = pools.get(rate) ?? [];
  pools.set(rate, pool);
  if (pool.length >= POOL_LIMIT) return src.destroy();
  // Setting the rate again is the library's reset: it rebuilds the filter's state (not the WebAssembly
  // module), so the next reply starts from silence rather than with this one's last milliseconds.
  src.outputSampleRate = TELEPHONE_RATE;
  pool.push(src);
}

/** Samples the resampler still holds back (its filter's delay), pushed out with silence after the last input. */
function flush(src: SRC, missing: number): Float32Array {
  const out: number[] = [];
  for (let i = 0; i < 8 && out.length < missing; i++) out.push(...src.full(new Float32Array(256)));
  return Float32Array.from(out.slice(0, missing));
}

function encode(floats: Float32Array): Uint8Array {
  const ints = new Int16Array(floats.length);
  for (let i = 0; i < floats.length; i++) ints[i] = Math.max(-32768, Math.min(32767, Math.round(floats[i] * 32768)));
  return alawmulaw.mulaw.encode(ints);
}

/**
 * `pcm` (s16le mono at `rate` Hz, in chunks of any size, odd byte counts included) as μ-law 8 kHz chunks;
 * `signal` is the synthesis's (an input ended by it is treated as cut off).
 * The resampler goes back to the pool only when the input ended normally: after an abort or an error its
 * filter still holds the cut-off speech, which must not leak into the next reply.
 */
export async function* pcmToMulaw(pcm: AsyncIterable<Uint8Array>, rate: number, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
  const src = await acquire(rate);
  let completed = false;
  let carry: number | undefined;
  let samplesIn = 0;
  let samplesOut = 0;
  try {
    for await (const chunk of pcm) {
      const bytes = carry === undefined ? chunk : prepend(carry, chunk);
      carry = bytes.length % 2 ? bytes[bytes.length - 1] : undefined;
      const samples = Math.floor(bytes.length / 2);
      if (samples === 0) continue;
      const view = new DataView(bytes.buffer, bytes.byteOffset, samples * 2);
      const floats = new Float32Array(samples);
      for (let i = 0; i < samples; i++) floats[i] = view.getInt16(i * 2, true) / 32768;
      samplesIn += samples;
      const out = src.full(floats);
      if (out.length === 0) continue;
      samplesOut += out.length;
      yield encode(out);
    }
    // An abort ends the input quietly: still not a clean end for the resampler.
    if (signal?.aborted) return;
    const tail = flush(src, Math.floor((samplesIn * TELEPHONE_RATE) / rate) - samplesOut);
    if (tail.length) yield encode(tail);
    completed = true;
  } finally {
    if (completed) release(rate, src);
    else src.destroy();
  }
}

function prepend(byte: number, chunk: Uint8Array): Uint8Array {
  const out = new Uint8Array(chunk.length + 1);
  out[0] = byte;
  out.set(chunk, 1);
  return out;
}
