/**
 * G.711 μ-law ⇄ 16-bit linear PCM (ITU-T G.711, the classic Sun/CCITT reference algorithm): the audio
 * of Twilio Media Streams (protocols.md §4: audio/x-mulaw, 8000 Hz, mono). μ-law silence is 0xFF.
 */

const BIAS = 0x84;
const CLIP = 32635;

/** One μ-law byte → one 16-bit linear sample. */
export function mulawToLinear(u: number): number {
  const v = ~u & 0xff;
  let t = ((v & 0x0f) << 3) + BIAS;
  t <<= (v & 0x70) >> 4;
  return v & 0x80 ? BIAS - t : t - BIAS;
}

/** One 16-bit linear sample → one μ-law byte (values beyond ±32635 are clipped). */
export function linearToMulaw(sample: number): number {
  let s = Math.max(-32768, Math.min(32767, Math.round(sample)));
  const sign = s < 0 ? 0x80 : 0;
  if (s < 0) s = -s;
  if (s > CLIP) s = CLIP;
  s += BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (s >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

const DECODE = new Int16Array(256);
for (let i = 0; i < 256; i++) DECODE[i] = mulawToLinear(i);

/** μ-law bytes → 16-bit samples. */
export function decodeMulaw(mulaw: Uint8Array): Int16Array {
  const out = new Int16Array(mulaw.length);
  for (let i = 0; i < mulaw.length; i++) out[i] = DECODE[mulaw[i]];
  return out;
}

/** 16-bit samples → μ-law bytes. */
export function encodeMulaw(pcm: Int16Array): Buffer {
  const out = Buffer.alloc(pcm.length);
  for (let i = 0; i < pcm.length; i++) out[i] = linearToMulaw(pcm[i]);
  return out;
}

/** Little-endian 16-bit PCM bytes (the usual wire form) → μ-law bytes. */
export function pcm16leToMulaw(pcm: Buffer): Buffer {
  const n = pcm.length >> 1;
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) out[i] = linearToMulaw(pcm.readInt16LE(i * 2));
  return out;
}

/** μ-law bytes → little-endian 16-bit PCM bytes. */
export function mulawToPcm16le(mulaw: Uint8Array): Buffer {
  const out = Buffer.alloc(mulaw.length * 2);
  for (let i = 0; i < mulaw.length; i++) out.writeInt16LE(DECODE[mulaw[i]], i * 2);
  return out;
}
