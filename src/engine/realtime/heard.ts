/**
 * What the callee heard of a reply that was cut off. A speech-to-speech model sends a reply's audio and its
 * transcript in step but without word timings, so the heard part is estimated: the share of the audio
 * that was played, applied to the words (whole words only; a word cut in the middle is not kept).
 */
export function cutToHeard(text: string, heardBytes: number, sentBytes: number): string {
  if (heardBytes <= 0 || sentBytes <= 0) return '';
  const words = text.trim().split(/\s+/).filter(Boolean);
  const share = Math.min(1, heardBytes / sentBytes);
  return words.slice(0, Math.floor(words.length * share)).join(' ');
}
