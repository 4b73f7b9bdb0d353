/**
 * What part of a clause the callee heard when it was cut off, from the share of its audio that was
 * played: the words whose end falls within that share of the text (a word cut in the middle was not
 * heard). Speech runs at a roughly even rate of characters, so the share of audio is a share of text.
 *
 * @example heardPart('Your table is booked for eight.', 0.5) // 'Your table is'
 */
export function heardPart(text: string, fraction: number): string {
  if (fraction >= 1) return text.trim();
  if (!(fraction > 0)) return '';
  const cut = text.length * fraction;
  let heard = '';
  for (const m of text.matchAll(/\S+/g)) {
    if (m.index + m[0].length > cut) break;
    heard = text.slice(0, m.index + m[0].length);
  }
  return heard.trim();
}
