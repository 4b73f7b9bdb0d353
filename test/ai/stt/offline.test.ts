import { describe, expect, it } from 'vitest';
import { createStt } from '../../../src/ai/stt/index.js';
import { OfflineStt } from '../../../src/ai/stt/offline/index.js';
import type { SttEvent } from '../../../src/ai/stt/stt.js';
import { loadConfig } from '../../../src/config/index.js';
import { loadScenarios } from '../../../src/carriers/sim/index.js';
import { offlineSpeechModel } from '../../../src/engine/offline-speech-model.js';
import { SIM_VOICES } from '../../../src/carriers/sim/recording.js';
import { speakMulaw } from '../../../src/speech/espeak.js';
import { missingTools } from '../../speech/tools.js';

const missing = missingTools('espeak-ng', 'sox', 'pocketsphinx_continuous');

const LINES = [
  'Good evening, this is the restaurant, how can I help you?',
  'Hello, I would like to confirm my booking for tomorrow at seven.',
  'Yes, the booking is under the name Smith, for four people.',
];

/** Pushes `mulaw` in 20 ms frames, as a carrier delivers it. */
function pushFrames(push: (f: Uint8Array) => void, mulaw: Uint8Array): void {
  for (let at = 0; at < mulaw.length; at += 160) push(mulaw.subarray(at, at + 160));
}

const SILENCE = new Uint8Array(8000).fill(0xff); // one second of μ-law silence

function words(text: string): Set<string> {
  return new Set(text.toLowerCase().match(/[a-z']+/g) ?? []);
}

describe.skipIf(missing)('offline speech-to-text (PocketSphinx)', () => {
  it('is what STT_PROVIDER=offline (and auto, with no keys) builds', () => {
    expect(createStt(loadConfig({ STT_PROVIDER: 'offline' }).speech).provider).toBe('offline');
    expect(createStt(loadConfig({}).speech).provider).toBe('offline');
  });

  it('hears each utterance once its silence ends it: one final transcript per utterance, each ending a turn, sharing words with what was said', async () => {
    const stream = new OfflineStt().stream({ language: 'en', endpointingMs: 500, interim: true });
    const events: SttEvent[] = [];
    stream.onEvent((e) => events.push(e));
    for (const line of LINES) {
      pushFrames((f) => stream.push(f), await speakMulaw(line, { wordsPerMinute: 150 }));
      pushFrames((f) => stream.push(f), SILENCE);
    }
    await stream.close();
    const transcripts = events.filter((e) => e.type === 'transcript');
    expect(events.filter((e) => e.type === 'error')).toEqual([]);
    expect(transcripts).toHaveLength(LINES.length);
    for (const t of transcripts) expect(t).toMatchObject({ final: true, endOfTurn: true });
    // PocketSphinx's 16 kHz model on telephone audio from espeak-ng is rough (bench/offline-wer.ts measures
    // it): the check is that the words come from what was said, not that all of them do.
    const said = words(LINES.join(' '));
    const heard = [...words(transcripts.map((t) => (t.type === 'transcript' ? t.text : '')).join(' '))];
    expect(heard.filter((w) => said.has(w)).length).toBeGreaterThanOrEqual(5);
    expect(stream.audioSeconds).toBeGreaterThan(8);
  }, 120_000);

  it('flush ends the utterance at once, without waiting for silence; close with nothing pushed starts nothing', async () => {
    const stream = new OfflineStt().stream({ language: 'en-US', endpointingMs: 2000, interim: false });
    const got = new Promise<SttEvent>((resolve) => stream.onEvent(resolve));
    pushFrames((f) => stream.push(f), await speakMulaw('I would like to book a table for two people tomorrow evening.', { wordsPerMinute: 150 }));
    stream.flush();
    expect(await got).toMatchObject({ type: 'transcript', final: true });
    await stream.close();

    const idle = new OfflineStt().stream({ language: 'en', endpointingMs: 300, interim: false });
    await idle.close();
    expect(idle.audioSeconds).toBe(0);
  }, 120_000);

  it('on the simulated network (OFFLINE_SPEECH_MODEL=auto) hears a party word for word where the general model hears other words', async () => {
    const scenarios = await loadScenarios('scenarios');
    // Two of the receptionists' lines, in the simulated parties' voice; PocketSphinx's general model makes
    // something like "do you have the book in redmond" and "it will edit the guilt i can tell you when" of them.
    const lines = ['Do you have the booking reference?', 'Is there anything else I can help you with?'];
    const hear = async (offlineModel: 'auto' | 'general') => {
      const speech = { ...loadConfig({ STT_PROVIDER: 'offline' }).speech, offlineRecognizer: offlineSpeechModel({ offlineModel }, scenarios) };
      const stream = createStt(speech).stream({ language: 'en', endpointingMs: 500, interim: false });
      const heard: string[] = [];
      stream.onEvent((e) => e.type === 'transcript' && heard.push(e.text));
      for (const line of lines) {
        pushFrames((f) => stream.push(f), await speakMulaw(line, { ...SIM_VOICES.party, wordsPerMinute: 150 }));
        pushFrames((f) => stream.push(f), SILENCE);
      }
      await stream.close();
      return heard;
    };
    const domain = await hear('auto');
    expect(domain).toHaveLength(2);
    expect(domain[0]).toBe('do you have the booking reference');
    expect(domain[1]).toMatch(/else i can help you with$/);
    const general = (await hear('general')).join(' ');
    expect(general).not.toContain('booking reference');
    expect(general).not.toContain('else i can help you');
  }, 120_000);

  it('reports a missing recogniser, and a language it has no model for, as an error event', async () => {
    const gone = new OfflineStt({ program: 'no-such-recogniser-program' }).stream({ language: 'en', endpointingMs: 300, interim: false });
    const failed = new Promise<SttEvent>((resolve) => gone.onEvent(resolve));
    gone.push(SILENCE);
    const event = await failed;
    expect(event).toEqual({ type: 'error', error: expect.objectContaining({ name: 'SttError', kind: 'server', retryable: true }) });
    expect(event.type === 'error' && (event.error.cause as Error).message).toMatch(/no-such-recogniser-program is not installed/);
    await gone.close();

    const swedish = new OfflineStt().stream({ language: 'sv', endpointingMs: 300, interim: false });
    const events: SttEvent[] = [];
    swedish.onEvent((e) => events.push(e));
    swedish.push(SILENCE);
    await swedish.close();
    expect(events).toEqual([{ type: 'error', error: expect.objectContaining({ kind: 'bad_request', retryable: false }) }]);
    expect(events[0].type === 'error' && (events[0].error.cause as Error).message).toMatch(/English only/);
  }, 60_000);
});
