import { describe, expect, it } from 'vitest';
import { spellCodes, writeSpelledCodes } from '../../src/speech/codes.js';
import { spokenWords } from '../../src/speech/language-model.js';

describe('codes read aloud and heard back', () => {
  it('spells references and phone numbers character by character, and leaves plain numbers whole', () => {
    expect(spellCodes('The booking reference is AB123.')).toBe('The booking reference is A B 1 2 3.');
    expect(spellCodes('It is qr-552, thanks')).toBe('It is Q R 5 5 2, thanks');
    expect(spellCodes('Call me on +15550123.')).toBe('Call me on plus 1 5 5 5 0 1 2 3.');
    expect(spellCodes('A table for 2 at 7pm on the 12th, in 2026.')).toBe('A table for 2 at 7pm on the 12th, in 2026.');
  });

  it('writes a spelled-out code as a listener notes it, and leaves ordinary words alone', () => {
    expect(writeSpelledCodes('the booking reference is a b one two three')).toBe('the booking reference is ab123');
    expect(writeSpelledCodes('my number is one five five five zero one two three')).toBe('my number is 15550123');
    expect(writeSpelledCodes('a table for two at seven pm')).toBe('a table for two at seven pm');
    expect(writeSpelledCodes('referensen är a b ett två tre')).toBe('referensen är ab123');
  });

  it('round-trips: what is spelled for the synthesiser is what the recogniser\'s words write back', () => {
    const heard = spokenWords('The booking reference is AB123.').join(' ');
    expect(heard).toBe('the booking reference is a b one two three');
    expect(writeSpelledCodes(heard)).toMatch(/\bab123\b/);
  });
});
