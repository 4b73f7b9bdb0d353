import { describe, it, expect } from 'vitest';
import { SentenceSplitter, endsMidSentence, speakable } from '../../src/ai/agent/index.js';

function split(chunks: string[], options: { firstClause?: boolean } = {}): { early: string[][]; all: string[] } {
  const s = new SentenceSplitter(options);
  const early = chunks.map((c) => s.push(c));
  return { early, all: [...early.flat(), ...s.flush()] };
}

describe('sentence splitter', () => {
  it('yields each sentence as soon as it ends', () => {
    const r = split(['Hello! How', ' are you? I am', ' fine… Thanks.', ' Bye']);
    expect(r.early).toEqual([['Hello!'], ['How are you?'], ['I am fine…'], ['Thanks.']]);
    expect(r.all).toEqual(['Hello!', 'How are you?', 'I am fine…', 'Thanks.', 'Bye']);
  });

  it('does not split decimals and times, even across chunks', () => {
    expect(split(['It costs 9.', '30 kronor. Come at 9.30 please.']).all).toEqual(['It costs 9.30 kronor.', 'Come at 9.30 please.']);
    expect(split(['The price is 12.50. Ok?']).all).toEqual(['The price is 12.50.', 'Ok?']);
  });

  it('does not split on common abbreviations and initials', () => {
    expect(split(['I am calling for Dr. Smith and Mrs. Jones. ', 'Ta med t.ex. papper. Kom kl. 9. ', 'J. Smith here.']).all).toEqual([
      'I am calling for Dr. Smith and Mrs. Jones.',
      'Ta med t.ex. papper.',
      'Kom kl. 9.',
      'J. Smith here.',
    ]);
  });

  it('keeps closing quotes and repeated marks with the sentence', () => {
    expect(split(['He said "yes." Really?! Wait...', ' ok']).all).toEqual(['He said "yes."', 'Really?!', 'Wait...', 'ok']);
  });

  it('with firstClause, lets the first clause go before its sentence ends, and only the first', () => {
    const r = split(['Sure, I can', ' move it, yes. Then, ', 'Tuesday. Bye'], { firstClause: true });
    expect(r.early).toEqual([['Sure,'], ['I can move it, yes.'], ['Then, Tuesday.']]);
    expect(split(['Hello; this is Alex: about the booking.'], { firstClause: true }).all).toEqual(['Hello;', 'this is Alex: about the booking.']);
    expect(split(['Tuesday – at seven.'], { firstClause: true }).all).toEqual(['Tuesday –', 'at seven.']);
    // A sentence that ends first takes the turn of the clause: later commas are inside sentences.
    expect(split(['Yes. Well, fine.'], { firstClause: true }).all).toEqual(['Yes.', 'Well, fine.']);
    // Without the option a comma never ends a piece.
    expect(split(['Sure, I can move it.']).all).toEqual(['Sure, I can move it.']);
  });

  it('with firstClause, keeps numbers and very short openers whole', () => {
    expect(split(['It is 1,', '000 kronor, yes.'], { firstClause: true }).all).toEqual(['It is 1,000 kronor,', 'yes.']);
    expect(split(['Hi, this is Alex.'], { firstClause: true }).all).toEqual(['Hi, this is Alex.']);
    expect(split(['Sure,'], { firstClause: true }).early).toEqual([[]]); // the end of a chunk is not yet a clause
  });

  it('tells a clause from a sentence', () => {
    expect(['Sure,', 'Hello;', 'Tuesday –', 'Fine.', 'Why?', 'Line'].map(endsMidSentence)).toEqual([true, true, true, false, false, false]);
  });

  it('treats a line break as an end and ignores empty pieces', () => {
    expect(split(['First line\n\nSecond line\n', '  ']).all).toEqual(['First line', 'Second line']);
  });

  it('waits at the end of a chunk rather than guessing', () => {
    const s = new SentenceSplitter();
    expect(s.push('Done.')).toEqual([]);
    expect(s.push(' Next')).toEqual(['Done.']);
    expect(s.flush()).toEqual(['Next']);
    expect(s.flush()).toEqual([]);
  });
});

describe('speakable', () => {
  it('strips markdown a voice would read out', () => {
    expect(speakable('**Sure**, the `code` is [here](http://x).')).toBe('Sure, the code is here.');
    expect(speakable('- First item')).toBe('First item');
    expect(speakable('## Title')).toBe('Title');
    expect(speakable(' . ')).toBe('');
  });
});
