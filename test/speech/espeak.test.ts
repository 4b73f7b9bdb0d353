import { describe, expect, it } from 'vitest';
import { ESPEAK_SAMPLE_RATE, espeakVoice, speak, speakWav } from '../../src/speech/espeak.js';
import { dtmfTone, durationOf, fromMp3, fromWav, mixInto, silence, toMp3, toWav } from '../../src/speech/audio.js';
import { loudness, toneShare } from '../faces/recordings.helpers.js';

describe('offline speech with espeak-ng', () => {
  it('speaks text as PCM at the asked rate and pace: slower speech lasts longer, and it is not silence', async () => {
    const text = 'Good evening, Bella Cucina, Anna speaking. How can I help you?';
    const fast = await speak(text, { wordsPerMinute: 300, sampleRate: 8000 });
    const slow = await speak(text, { wordsPerMinute: 120, sampleRate: 8000 });
    expect(fast.sampleRate).toBe(8000);
    expect(durationOf(slow)).toBeGreaterThan(durationOf(fast) * 1.5);
    expect(loudness(slow)).toBeGreaterThan(500);
    const native = fromWav(await speakWav('Hej, det här är Salong Lugn.', { language: 'sv', variant: 'm3' }));
    expect(native.sampleRate).toBe(ESPEAK_SAMPLE_RATE);
    expect(durationOf(native)).toBeGreaterThan(0.8);
  }, 60_000);

  it('reads the text on stdin: text that looks like an option is spoken, not obeyed; empty text is no audio', async () => {
    const pcm = await speak('--help -v xx', { sampleRate: 8000 });
    expect(durationOf(pcm)).toBeGreaterThan(0.3);
    expect((await speak('   ', {})).samples.length).toBe(0);
  }, 60_000);

  it('picks espeak-ng voices for language tags, and never passes anything else through', () => {
    expect(espeakVoice('en')).toBe('en-us');
    expect(espeakVoice('en-GB')).toBe('en-gb');
    expect(espeakVoice('sv-SE')).toBe('sv');
    expect(espeakVoice('pl')).toBe('pl');
    expect(espeakVoice('x; rm -rf /')).toBe('en-us');
  });
});

describe('audio helpers', () => {
  it('keypad tones carry their two frequencies; mixing places them on a timeline of fixed length', () => {
    const line = silence(2, 8000);
    mixInto(line, dtmfTone('5', 0.2, 8000)!, 1);
    mixInto(line, dtmfTone('#', 5, 8000)!, 1.9); // runs past the end: cut there
    expect(durationOf(line)).toBe(2);
    expect(loudness(line, 0, 0.9)).toBe(0);
    // 5 = 770 Hz + 1336 Hz; # = 941 Hz + 1477 Hz.
    expect(toneShare(line, 770, 1, 0.2)).toBeGreaterThan(0.3);
    expect(toneShare(line, 1336, 1, 0.2)).toBeGreaterThan(0.3);
    expect(toneShare(line, 697, 1, 0.2)).toBeLessThan(0.05);
    expect(toneShare(line, 941, 1.9, 0.1)).toBeGreaterThan(0.3);
    expect(dtmfTone('x', 0.1, 8000)).toBeNull();
  });

  it('WAV round-trips sample for sample; MP3 (lame) decodes to the same length', async () => {
    const pcm = { sampleRate: 8000, samples: dtmfTone('1', 1.5, 8000)!.samples };
    const back = fromWav(toWav(pcm));
    expect(back.sampleRate).toBe(8000);
    expect(Array.from(back.samples)).toEqual(Array.from(pcm.samples));
    const mp3 = await fromMp3(await toMp3(pcm));
    expect(Math.abs(durationOf(mp3) - 1.5)).toBeLessThan(0.1);
    expect(() => fromWav(Buffer.from('not a wav at all'))).toThrow(/WAV/);
  }, 60_000);
});
