/**
 * OpenAI's 24 kHz PCM → μ-law 8 kHz as it streams in (src/ai/tts/pcm-to-mulaw.ts): however the network
 * splits the bytes (odd counts cut a sample in two), the call hears the same audio, a third as many samples.
 */
import { describe, expect, it } from 'vitest';
import alawmulaw from 'alawmulaw';
import { pcmToMulaw } from '../../src/ai/tts/pcm-to-mulaw.js';
import { pcmToneFor } from '../fakes/audio-fake-common.js';

async function convert(pcm: Uint8Array, chunk: number): Promise<Uint8Array> {
  async function* pieces() {
    for (let at = 0; at < pcm.length; at += chunk) yield pcm.subarray(at, at + chunk);
  }
  const out: Uint8Array[] = [];
  for await (const c of pcmToMulaw(pieces(), 24_000)) out.push(c);
  return Buffer.concat(out);
}

describe('pcmToMulaw', () => {
  it('gives the same audio, all of it, whether the bytes come in 20 ms chunks or in odd 7-byte pieces', async () => {
    const pcm = pcmToneFor('A sentence of about two seconds of speech.', 24_000);
    const even = await convert(pcm, 960);
    const odd = await convert(pcm, 7);
    expect(even.length).toBe(pcm.length / 2 / 3);
    expect(Buffer.from(odd).equals(Buffer.from(even))).toBe(true);
  });

  it('starts each reply afresh: nothing of the previous reply leaks into the next (resamplers are reused)', async () => {
    const first = pcmToneFor('One reply.', 24_000);
    const silence = new Uint8Array(first.length);
    await convert(first, 960);
    const next = alawmulaw.mulaw.decode(await convert(silence, 960));
    expect(Math.max(...next.map(Math.abs))).toBeLessThan(16);
  });

  it('keeps the tone a tone: 440 Hz at 8 kHz crosses zero ~880 times a second', async () => {
    const pcm = pcmToneFor('x'.repeat(50), 24_000); // 3 s
    const decoded = alawmulaw.mulaw.decode(await convert(pcm, 960));
    const steady = decoded.subarray(800, decoded.length - 800);
    let crossings = 0;
    for (let i = 1; i < steady.length; i++) if ((steady[i - 1] < 0) !== (steady[i] < 0)) crossings++;
    const perSecond = crossings / (steady.length / 8000);
    expect(perSecond).toBeGreaterThan(860);
    expect(perSecond).toBeLessThan(900);
  });
});
