import { describe, it, expect } from 'vitest';
import { SentenceSplitter, speakable } from '../../src/ai/agent/index.js';

function split(chunks: string[]): { early: string[][]; all: string[] } {
  const s = new SentenceSplitter();
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
