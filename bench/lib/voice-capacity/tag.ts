/**
 * Which call a speech-to-text connection carries: the driver's silence frames begin with the call's index
 * written in the two μ-law codes of zero amplitude (0xFF = +0 is a 0 bit, 0x7F = −0 a 1 bit), after a fixed
 * preamble. The server forwards the callee's μ-law to the speech-to-text as it is, so the fake finds the tag
 * there; to every detector it is silence. Needed to time "final transcript in → first audio frame out" per
 * call, as the final is sent on one socket (speech-to-text) and the frame arrives on another (Twilio).
 */
const PREAMBLE = Buffer.from([0xff, 0x7f, 0x7f, 0xff, 0x7f, 0xff, 0xff, 0x7f, 0x7f, 0x7f, 0xff, 0xff]);
const BITS = 20;

/** The tag of call `idx`: preamble then 20 bits, most significant first. */
export function callTag(idx: number): Buffer {
  const tag = Buffer.alloc(PREAMBLE.length + BITS);
  PREAMBLE.copy(tag);
  for (let b = 0; b < BITS; b++) tag[PREAMBLE.length + b] = (idx >> (BITS - 1 - b)) & 1 ? 0x7f : 0xff;
  return tag;
}

/** The call index tagged in `audio`, if a whole tag is in it. */
export function findTag(audio: Buffer): number | undefined {
  const at = audio.indexOf(PREAMBLE);
  if (at < 0 || at + PREAMBLE.length + BITS > audio.length) return undefined;
  let idx = 0;
  for (let b = 0; b < BITS; b++) {
    const v = audio[at + PREAMBLE.length + b];
    if (v !== 0x7f && v !== 0xff) return undefined;
    idx = (idx << 1) | (v === 0x7f ? 1 : 0);
  }
  return idx;
}
