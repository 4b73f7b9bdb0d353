/**
 * Codes read aloud and heard back. A person reads a booking reference or a phone number character by
 * character ("A B one two three"), and a listener writes down "AB123". espeak-ng instead reads "AB123" as
 * "A B one hundred and twenty-three" and "+15550123" as a number in the millions, and a recogniser writes
 * what it hears as words. These two functions stand in for the reader and the listener.
 */

/** A code: letters and digits mixed (AB123, QR-552), or a long digit string (a phone number, 5 digits or more). */
const CODE = /\+?\b(?=[A-Za-z0-9-]*\d)(?:(?=[A-Za-z0-9-]*[A-Za-z])[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*|\d[\d -]{3,}\d)\b/g;

/** Numbers with a unit or an ending, which a synthesiser reads well as they are: 12th, 7pm, 10am, 90s. */
const NOT_A_CODE = /^\d+(st|nd|rd|th|am|pm|h|s|e|a|kr)$/i;

/** `text` with every code spaced out character by character, so that a synthesiser reads it as a person would. */
export function spellCodes(text: string): string {
  return text.replace(CODE, (code) => {
    if (NOT_A_CODE.test(code)) return code;
    const chars = code.replace(/[^A-Za-z0-9]/g, '').toUpperCase();
    return (code.startsWith('+') ? 'plus ' : '') + [...chars].join(' ');
  });
}

const DIGIT_WORDS: Record<string, string> = {
  zero: '0', oh: '0', one: '1', two: '2', three: '3', four: '4', five: '5', six: '6', seven: '7', eight: '8', nine: '9',
  noll: '0', ett: '1', en: '1', två: '2', tre: '3', fyra: '4', fem: '5', sex: '6', sju: '7', åtta: '8', nio: '9',
};

/**
 * `heard` (a recogniser's words) with codes spelled out in it written as a listener notes them down: a run
 * of single letters and digit words that holds a digit and a letter, or five digits or more, becomes one
 * token ("the reference is a b one two three" → "the reference is ab123"). Shorter runs ("table for two",
 * "at seven") stay words.
 */
export function writeSpelledCodes(heard: string): string {
  const words = heard.split(/\s+/).filter(Boolean);
  const out: string[] = [];
  for (let i = 0; i < words.length; ) {
    let j = i;
    let digits = 0;
    let letters = 0;
    for (; j < words.length; j++) {
      const w = words[j].toLowerCase();
      if (Object.hasOwn(DIGIT_WORDS, w)) digits++;
      else if (/^[a-z]$/.test(w)) letters++;
      else break;
    }
    if ((digits > 0 && letters > 0 && digits + letters >= 3) || digits >= 5) {
      out.push(words.slice(i, j).map((w) => DIGIT_WORDS[w.toLowerCase()] ?? w).join(''));
      i = j;
    } else out.push(words[i++]);
  }
  return out.join(' ');
}
