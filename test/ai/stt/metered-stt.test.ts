/** Speech-to-text usage reaches the call's usage meter (billing "transcription"): every second of audio sent, once. */
import { afterEach, describe, expect, it } from 'vitest';
import { DeepgramStt } from '../../../src/ai/stt/deepgram/index.js';
import { meteredStt } from '../../../src/ai/stt/index.js';
import { UsageMeter } from '../../../src/core/credits/usage.js';
import { startFakeDeepgram, type FakeDeepgram } from '../../fakes/deepgram/fake-deepgram.js';
import { errors, GREETING, record, speak, until } from './stt-test-helpers.js';

let fake: FakeDeepgram | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

describe('metered speech-to-text', () => {
  it('reports the seconds of audio a stream sent, silence included, when it closes', async () => {
    fake = await startFakeDeepgram({ apiKey: 'k', phrases: [GREETING] });
    const meter = new UsageMeter();
    const stt = meteredStt(new DeepgramStt({ apiKey: 'k', baseUrl: fake.url }), meter);
    expect(stt.provider).toBe('deepgram');
    const stream = stt.stream({ language: 'en', endpointingMs: 300, interim: true });
    record(stream);
    speak(stream, GREETING.audio, 1000);
    expect(meter.total().sttSeconds).toBe(0);
    await stream.close();
    await stream.close();

    expect(meter.total().sttSeconds).toBe(GREETING.audio.length / 8000 + 1);
  });

  it('a stream that fails reports what it sent at the failure, without waiting for close', async () => {
    fake = await startFakeDeepgram({ apiKey: 'k', failAfterAudioMs: { ms: 200, code: 1011, reason: 'NET-0001' } });
    const meter = new UsageMeter();
    const stream = meteredStt(new DeepgramStt({ apiKey: 'k', baseUrl: fake.url }), meter).stream({ language: 'en', endpointingMs: 300, interim: true });
    const events = record(stream);
    speak(stream, GREETING.audio);
    await until(async () => errors(events).length > 0, 15_000, 'error event');

    expect(meter.total().sttSeconds).toBeGreaterThan(0);
    expect(meter.total().sttSeconds).toBe(stream.audioSeconds);
    await stream.close();
    expect(meter.total().sttSeconds).toBe(stream.audioSeconds);
  });
});
