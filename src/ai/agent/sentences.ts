/**
 * A streaming sentence splitter: the model's text arrives token by token, and each sentence goes to the
 * voice as soon as it is complete, so the callee hears the first sentence while the rest is still being
 * written. A sentence ends at `.`, `!`, `?` or `…` followed by a space or a line break; the end of the
 * buffer is never taken as an end (the next token may be `30` of "9.30"). Abbreviations such as "Dr." and
 * "t.ex." do not end a sentence.
 *
 * With `firstClause`, the first piece may be a clause ("Sure," of "Sure, I can move it to Tuesday."): where
 * the voice is synthesised here, its audio starts while the model is still writing the rest of the sentence.
 */

/** Lowercase, without the final dot. Words written with inner dots ("t.ex", "e.g") are matched whole. */
const ABBREVIATIONS = new Set([
  // English
  'mr', 'mrs', 'ms', 'dr', 'prof', 'sr', 'jr', 'st', 'mt', 'vs', 'etc', 'e.g', 'i.e', 'approx', 'no', 'nr', 'tel',
  'dept', 'inc', 'ltd', 'co', 'corp', 'ave', 'rd', 'jan', 'feb', 'mar', 'apr', 'jun', 'jul', 'aug', 'sep', 'sept',
  'oct', 'nov', 'dec', 'a.m', 'p.m', 'min', 'max', 'ext', 'ref',
  // Swedish, German, other
  't.ex', 'bl.a', 'd.v.s', 'dvs', 'ca', 'kl', 's.k', 'o.s.v', 'osv', 'p.g.a', 'pga', 'fr.o.m', 't.o.m', 'resp',
  'bzw', 'z.b', 'usw', 'ggf', 'evtl', 'str', 'nr', 'tfn',
]);

/** Where a first clause may end, before a space (firstClause): a comma, semicolon, colon or dash. */
const CLAUSE_MARKS = ',;:–—';
/** A first clause shorter than this waits for its sentence ("Hi," and "So," do; "Yes," and "Hello," go). */
const FIRST_CLAUSE_MIN_CHARS = 4;

/** A piece that ends at a clause mark: its sentence goes on in the next piece. */
export function endsMidSentence(piece: string): boolean {
  return CLAUSE_MARKS.includes(piece.at(-1) ?? '');
}

/** Characters that may follow the terminator and still belong to the sentence: `."`, `?)`. */
const CLOSERS = `"'”’)]»`;

function isAbbreviation(before: string): boolean {
  // The word right before the dot, with inner dots kept ("t.ex", "e.g").
  const m = /([\p{L}.]+)$/u.exec(before);
  if (!m) return false;
  const word = m[1].replace(/^\.+/, '').toLowerCase();
  if (ABBREVIATIONS.has(word)) return true;
  // An initial ("J. Smith"): one capital letter.
  return /^\p{Lu}$/u.test(m[1]);
}

/**
 * @example
 * const s = new SentenceSplitter();
 * s.push('Hi! The time is 9.'); // ['Hi!']
 * s.push('30 today. Ok');       // ['The time is 9.30 today.']
 * s.flush();                    // ['Ok']
 *
 * const c = new SentenceSplitter({ firstClause: true });
 * c.push('Sure, I can ');       // ['Sure,']
 * c.push('do that, yes. Ok');   // ['I can do that, yes.']
 */
export class SentenceSplitter {
  private buf = '';
  /** A first clause may still end the next piece (firstClause, until a piece has gone). */
  private clauseOpen: boolean;

  constructor(options: { firstClause?: boolean } = {}) {
    this.clauseOpen = options.firstClause ?? false;
  }

  /** Feeds a delta; returns the sentences completed by it. */
  push(delta: string): string[] {
    this.buf += delta;
    const out: string[] = [];
    let start = 0;
    for (let i = 0; i < this.buf.length; i++) {
      const c = this.buf[i];
      let end = -1;
      if (c === '\n') {
        end = i;
      } else if (this.clauseOpen && CLAUSE_MARKS.includes(c)) {
        if (i + 1 >= this.buf.length) break; // wait for the next character ("1,000" is no clause)
        if (/\s/.test(this.buf[i + 1]) && this.buf.slice(start, i + 1).trim().length >= FIRST_CLAUSE_MIN_CHARS) end = i + 1;
      } else if (c === '.' || c === '!' || c === '?' || c === '…') {
        let j = i + 1;
        while (j < this.buf.length && ('.!?…'.includes(this.buf[j]) || CLOSERS.includes(this.buf[j]))) j++;
        if (j >= this.buf.length) break; // wait for the next character
        if (!/\s/.test(this.buf[j])) {
          i = j - 1;
          continue;
        }
        if (c === '.' && j === i + 1 && isAbbreviation(this.buf.slice(start, i))) continue;
        end = j;
        i = j - 1;
      }
      if (end >= 0) {
        const s = this.buf.slice(start, end).trim();
        if (s) {
          out.push(s);
          this.clauseOpen = false;
        }
        start = end;
      }
    }
    this.buf = this.buf.slice(start);
    return out;
  }

  /** Ends the stream: returns what is left as a last sentence (if anything). */
  flush(): string[] {
    const s = this.buf.trim();
    this.buf = '';
    return s ? [s] : [];
  }
}

/**
 * Cleans a sentence for the voice: models sometimes write markdown even when told not to, and a TTS
 * voice reads "asterisk asterisk". Returns '' when nothing speakable is left.
 */
export function speakable(text: string): string {
  return text
    .replace(/\*\*|__|`+/g, '')
    .replace(/^\s*(#{1,6}\s+|[-*•]\s+|\d+\.\s+(?=\p{L}))/u, '')
    .replace(/\[([^\]]+)\]\([^)]*\)/g, '$1')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/^[\s.,;:!?…-]+$/, '');
}
