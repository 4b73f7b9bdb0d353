import { describe, expect, it } from 'vitest';
import { decodeMulaw, encodeMulaw, linearToMulaw, mulawToLinear, mulawToPcm16le, pcm16leToMulaw } from '../../src/carriers/twilio/mulaw.js';

describe('G.711 μ-law codec', () => {
  it('decodes known values', () => {
    expect(mulawToLinear(0xff)).toBe(0); // silence
    expect(mulawToLinear(0x7f)).toBe(0); // negative zero
    expect(mulawToLinear(0x80)).toBe(32124); // positive peak
    expect(mulawToLinear(0x00)).toBe(-32124); // negative peak
    expect(mulawToLinear(0xfe)).toBe(8);
    expect(mulawToLinear(0x7e)).toBe(-8);
  });

  it('encodes known values', () => {
    expect(linearToMulaw(0)).toBe(0xff);
    expect(linearToMulaw(32767)).toBe(0x80);
    expect(linearToMulaw(-32768)).toBe(0x00);
    expect(linearToMulaw(8)).toBe(0xfe);
    expect(linearToMulaw(-8)).toBe(0x7e);
  });

  it('every μ-law byte survives decode → encode (0x7F, negative zero, becomes 0xFF)', () => {
    for (let b = 0; b < 256; b++) expect(linearToMulaw(mulawToLinear(b))).toBe(b === 0x7f ? 0xff : b);
  });

  it('linear samples round-trip within μ-law precision (half a quantisation step)', () => {
    for (let x = -32768; x <= 32767; x += 7) {
      const y = mulawToLinear(linearToMulaw(x));
      const clipped = Math.max(-32124, Math.min(32124, x));
      // steps are 8 at the bottom of the scale and 1024 at the top: error ≤ half a step
      expect(Math.abs(y - clipped)).toBeLessThanOrEqual(Math.max(4, Math.abs(clipped) / 16) + 4);
    }
  });

  it('buffer helpers agree with the sample functions', () => {
    const pcm = Int16Array.from([0, 100, -100, 1000, -1000, 30000, -30000]);
    const mu = encodeMulaw(pcm);
    expect([...mu]).toEqual([...pcm].map(linearToMulaw));
    expect([...decodeMulaw(mu)]).toEqual([...mu].map(mulawToLinear));
    const le = Buffer.from(pcm.buffer);
    expect(pcm16leToMulaw(le).equals(mu)).toBe(true);
    expect(mulawToPcm16le(mu).equals(Buffer.from(decodeMulaw(mu).buffer))).toBe(true);
  });
});
