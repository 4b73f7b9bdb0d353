/**
 * The Deepgram live adapter against the fake Deepgram (test/fakes/deepgram/), which speaks the real wire:
 * query settings, `Token` auth, binary μ-law, KeepAlive/Finalize/CloseStream, Results/SpeechStarted/UtteranceEnd.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DeepgramStt, type DeepgramSttOptions } from '../../../src/ai/stt/deepgram/index.js';
import { SttError } from '../../../src/ai/stt/errors.js';
import type { SttOptions, SttStream } from '../../../src/ai/stt/stt.js';
import { startFakeDeepgram, type FakeDeepgram, type FakeDeepgramOptions } from '../../fakes/deepgram/fake-deepgram.js';
import { errors, GREETING, MENU, record, speak, transcripts, turns, until, untilTurns } from './stt-test-helpers.js';

const KEY = 'dg-test-key';
let fake: FakeDeepgram | undefined;
let streams: SttStream[] = [];

afterEach(async () => {
  await Promise.all(streams.map((s) => s.close()));
  streams = [];
  await fake?.close();
  fake = undefined;
});

async function open(fakeOptions: FakeDeepgramOptions = {}, sttOptions: Partial<SttOptions> = {}, adapter: Partial<DeepgramSttOptions> = {}) {
  fake = await startFakeDeepgram({ apiKey: KEY, phrases: [GREETING, MENU], ...fakeOptions });
  const stt = new DeepgramStt({ apiKey: KEY, baseUrl: fake.url, ...adapter });
  const stream = stt.stream({ language: 'en', endpointingMs: 300, interim: true, ...sttOptions });
  streams.push(stream);
  return { stream, events: record(stream), fake };
}

describe('Deepgram live speech-to-text', () => {
  it('reports speech starting, interim transcripts that grow, then the final transcript ending the turn', async () => {
    const { stream, events } = await open({ latencyMs: 5 });
    speak(stream, GREETING.audio, 500);
    await untilTurns(events, 1);

    expect(events[0]).toEqual({ type: 'speech_started' });
    const said = transcripts(events);
    const interim = said.filter((t) => !t.final);
    expect(interim.length).toBeGreaterThan(1);
    for (let i = 1; i < interim.length; i++) expect(interim[i]!.text.startsWith(interim[i - 1]!.text)).toBe(true);
    expect(said.at(-1)).toEqual({ type: 'transcript', text: GREETING.text, final: true, endOfTurn: true });
    expect(said.indexOf(said.at(-1)!)).toBeGreaterThan(said.indexOf(interim.at(-1)!));
  });

  it('ends each turn once although both endpointing and UtteranceEnd say so', async () => {
    const { stream, events, fake } = await open();
    speak(stream, GREETING.audio, 1500); // past utterance_end_ms: Deepgram also sends UtteranceEnd
    await until(async () => fake.connections[0]?.sent.some((m) => m.type === 'UtteranceEnd'), 15_000, 'UtteranceEnd');
    speak(stream, MENU.audio, 500);
    await untilTurns(events, 2);
    await stream.close();

    expect(turns(events).map((t) => t.text)).toEqual([GREETING.text, MENU.text]);
  });

  it('ends the turn on UtteranceEnd when endpointing never fires (a noisy line)', async () => {
    const { stream, events } = await open({ noSpeechFinal: true });
    speak(stream, GREETING.audio, 1500);
    await untilTurns(events, 1);

    const finals = transcripts(events).filter((t) => t.final);
    expect(finals).toEqual([
      { type: 'transcript', text: GREETING.text, final: true, endOfTurn: false },
      { type: 'transcript', text: GREETING.text, final: true, endOfTurn: true },
    ]);
  });

  it('sends the call language, endpointing and telephony audio settings in the query, with Token auth', async () => {
    const { fake } = await open({}, { language: 'sv', endpointingMs: 450 });
    await until(async () => fake.connections.length === 1, 15_000, 'connection');
    const c = fake.connections[0]!;
    expect(c.authorization).toBe(`Token ${KEY}`);
    expect(Object.fromEntries(c.query)).toEqual({
      model: 'nova-3',
      encoding: 'mulaw',
      sample_rate: '8000',
      channels: '1',
      language: 'sv',
      punctuate: 'true',
      smart_format: 'true',
      interim_results: 'true',
      endpointing: '450',
      utterance_end_ms: '1000',
      vad_events: 'true',
    });
  });

  it('asks for US English when the call is in English', async () => {
    const { fake } = await open({}, { language: 'en' });
    await until(async () => fake.connections.length === 1, 15_000, 'connection');
    expect(fake.connections[0]!.query.get('language')).toBe('en-US');
  });

  it('keeps the stream alive with KeepAlive while no audio flows', async () => {
    const { fake } = await open({}, {}, { keepAliveMs: 100 });
    await until(async () => (fake.connections[0]?.keepAlives ?? 0) >= 2, 15_000, 'two KeepAlives');
    expect(fake.connections[0]!.controls.every((m) => JSON.parse(m).type === 'KeepAlive')).toBe(true);
  });

  it('leaves out interim transcripts when the caller does not want them', async () => {
    const { stream, events } = await open({}, { interim: false });
    speak(stream, GREETING.audio, 500);
    await untilTurns(events, 1);
    expect(transcripts(events).every((t) => t.final)).toBe(true);
  });

  it('flush sends Finalize and ends the turn without waiting for silence', async () => {
    const { stream, events, fake } = await open({}, { endpointingMs: 5000 });
    speak(stream, GREETING.audio);
    stream.flush();
    await untilTurns(events, 1);
    expect(fake.connections[0]!.finalizes).toBe(1);
    expect(turns(events)).toEqual([{ type: 'transcript', text: GREETING.text, final: true, endOfTurn: true }]);
  });

  it('close sends CloseStream, delivers the last final transcript, and counts the audio sent', async () => {
    const { stream, events, fake } = await open({ latencyMs: 5 }, { endpointingMs: 5000 });
    speak(stream, GREETING.audio);
    await stream.close();

    expect(fake.connections[0]!.closeStreams).toBe(1);
    expect(turns(events)).toEqual([{ type: 'transcript', text: GREETING.text, final: true, endOfTurn: true }]);
    expect(stream.audioSeconds).toBe(GREETING.audio.length / 8000);
    expect(fake.connections[0]!.audioBytes).toBe(GREETING.audio.length);
    expect(errors(events)).toEqual([]);
  });

  it('holds the audio pushed before the socket opens and sends it once open', async () => {
    const { stream, events, fake } = await open({}, { endpointingMs: 300 });
    speak(stream, GREETING.audio, 500); // pushed synchronously, before the handshake completes
    await untilTurns(events, 1);
    expect(fake.connections[0]!.audioBytes).toBe(GREETING.audio.length + 4000);
  });

  it('a bad key becomes one auth error event; the stream neither throws nor crashes', async () => {
    fake = await startFakeDeepgram({ apiKey: KEY });
    const stream = new DeepgramStt({ apiKey: 'wrong', baseUrl: fake.url }).stream({ language: 'en', endpointingMs: 300, interim: true });
    streams.push(stream);
    const events = record(stream);
    speak(stream, GREETING.audio);
    await until(async () => errors(events).length > 0, 15_000, 'error event');
    speak(stream, MENU.audio);
    stream.flush();
    await stream.close();

    expect(events).toHaveLength(1);
    const error = errors(events)[0]!.error as SttError;
    expect(error).toBeInstanceOf(SttError);
    expect(error).toMatchObject({ kind: 'auth', status: 401, retryable: false });
    expect(String((error.cause as Error).message)).toContain('Invalid credentials');
    expect(fake.refused).toBe(1);
    expect(stream.audioSeconds).toBe(0);
  });

  it('a provider that cannot be reached becomes a connectivity error event', async () => {
    const gone = await startFakeDeepgram();
    await gone.close();
    const stream = new DeepgramStt({ apiKey: KEY, baseUrl: gone.url }).stream({ language: 'en', endpointingMs: 300, interim: true });
    streams.push(stream);
    const events = record(stream);
    await until(async () => errors(events).length > 0, 15_000, 'error event');
    expect(errors(events)[0]!.error).toMatchObject({ kind: 'connectivity', retryable: true });
  });

  it('a provider that never answers the handshake becomes a timeout error event', async () => {
    const { events } = await open({ stallHandshake: true }, {}, { connectTimeoutMs: 200 });
    await until(async () => errors(events).length > 0, 15_000, 'error event');
    expect(errors(events)[0]!.error).toMatchObject({ kind: 'timeout', retryable: true });
  });

  it('a stream Deepgram closes mid-call (idle timeout NET-0001) becomes an error event', async () => {
    const { stream, events } = await open({ failAfterAudioMs: { ms: 200, code: 1011, reason: 'NET-0001' } });
    speak(stream, GREETING.audio);
    await until(async () => errors(events).length > 0, 15_000, 'error event');
    expect(errors(events)[0]!.error).toMatchObject({ kind: 'timeout' });
    expect(events.at(-1)!.type).toBe('error');
  });

  it('keeps events that arrive before a listener is attached', async () => {
    fake = await startFakeDeepgram({ apiKey: KEY, phrases: [GREETING] });
    const stream = new DeepgramStt({ apiKey: KEY, baseUrl: fake.url }).stream({ language: 'en', endpointingMs: 5000, interim: false });
    streams.push(stream);
    speak(stream, GREETING.audio);
    await stream.close();
    const events = record(stream);
    expect(turns(events).map((t) => t.text)).toEqual([GREETING.text]);
  });
});
