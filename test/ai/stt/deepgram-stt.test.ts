/**
 * The Deepgram live adapter against the fake Deepgram (test/fakes/deepgram/), which speaks the real wire:
 * query settings, `Token` auth, binary μ-law, KeepAlive/Finalize/CloseStream, Results/SpeechStarted/UtteranceEnd.
 * The behaviour every adapter shares is in ./stt.contract.ts; here, what is Deepgram's own.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DeepgramStt, deepgramLanguage, type DeepgramSttOptions } from '../../../src/ai/stt/deepgram/index.js';
import type { SttOptions, SttStream } from '../../../src/ai/stt/stt.js';
import { startFakeDeepgram, type FakeDeepgram, type FakeDeepgramOptions } from '../../fakes/deepgram/fake-deepgram.js';
import { sttContract } from './stt.contract.js';
import { errors, GREETING, MENU, record, speak, transcripts, turns, until, untilTurns, utterances } from './stt-test-helpers.js';

const KEY = 'dg-test-key';

sttContract('Deepgram', {
  async start({ phrases, latencyMs, badKey }) {
    const fake = await startFakeDeepgram({ apiKey: KEY, phrases, latencyMs });
    return { stt: new DeepgramStt({ apiKey: badKey ? 'wrong' : KEY, baseUrl: fake.url }), close: fake.close };
  },
});

describe('Deepgram live speech-to-text', () => {
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

  it('ends each turn once although both endpointing and UtteranceEnd say so', async () => {
    const { stream, events, fake } = await open();
    speak(stream, GREETING.audio, 1500); // past utterance_end_ms: Deepgram also sends UtteranceEnd
    await until(async () => fake.connections[0]?.sent.some((m) => m.type === 'UtteranceEnd'), 15_000, 'UtteranceEnd');
    speak(stream, MENU.audio, 500);
    await untilTurns(events, 2);
    await stream.close();

    expect(turns(events)).toHaveLength(2);
    expect(utterances(events)).toEqual([GREETING.text, MENU.text]);
  });

  it('a long utterance arrives as fixed pieces; interims cover only what follows them; joined they are the utterance', async () => {
    const { stream, events } = await open({ spanWords: 2 });
    speak(stream, GREETING.audio, 500);
    await untilTurns(events, 1);

    const said = transcripts(events);
    const pieces = said.filter((t) => t.final && !t.endOfTurn).map((t) => t.text);
    expect(pieces.length).toBeGreaterThan(1);
    expect(GREETING.text.startsWith(pieces.join(' '))).toBe(true);
    // Each interim follows the pieces fixed before it, repeating none of their words.
    const fixed: string[] = [];
    for (const t of said) {
      if (t.final) fixed.push(t.text);
      else expect(GREETING.text.startsWith([...fixed, t.text].join(' '))).toBe(true);
    }
    expect(utterances(events)).toEqual([GREETING.text]);
  });

  it('ends the turn on UtteranceEnd when endpointing never fires (a noisy line)', async () => {
    const { stream, events } = await open({ noSpeechFinal: true });
    speak(stream, GREETING.audio, 1500);
    await untilTurns(events, 1);

    // The span is fixed (is_final) without speech_final; UtteranceEnd then ends the turn with nothing to add.
    const finals = transcripts(events).filter((t) => t.final);
    expect(finals).toEqual([
      { type: 'transcript', text: GREETING.text, final: true, endOfTurn: false },
      { type: 'transcript', text: '', final: true, endOfTurn: true },
    ]);
    expect(utterances(events)).toEqual([GREETING.text]);
  });

  it('sends the call language, endpointing and telephony audio settings in the query, with Token auth', async () => {
    const { fake } = await open({}, { language: 'sv', endpointingMs: 450 });
    await until(async () => fake.connections.length === 1, 15_000, 'connection');
    const c = fake.connections[0]!;
    expect(c.authorization).toBe(`Token ${KEY}`);
    // No permessage-deflate offered: accepted, it would cost each call ≈ 260 KB of zlib state (docs/performance.md §8).
    expect(c.extensions).toBeUndefined();
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

  it('maps call languages to the codes Deepgram knows', () => {
    expect(['en', 'en-GB', 'sv', 'sv-SE', 'pt-BR', 'es-MX', 'nb', 'EN_us', 'xx-YY'].map(deepgramLanguage)).toEqual([
      'en-US',
      'en-GB',
      'sv',
      'sv-SE',
      'pt-BR',
      'es-419',
      'no',
      'en-US',
      'xx',
    ]);
  });

  it('keeps the stream alive with KeepAlive while no audio flows', async () => {
    const { fake } = await open({}, {}, { keepAliveMs: 100 });
    await until(async () => (fake.connections[0]?.keepAlives ?? 0) >= 2, 15_000, 'two KeepAlives');
    expect(fake.connections[0]!.controls.every((m) => JSON.parse(m).type === 'KeepAlive')).toBe(true);
  });

  it('flush is a Finalize; close is a CloseStream, after which Deepgram closes the socket', async () => {
    const { stream, events, fake } = await open({}, { endpointingMs: 5000 });
    speak(stream, GREETING.audio);
    stream.flush();
    await untilTurns(events, 1);
    await stream.close();
    const c = fake.connections[0]!;
    expect(c.controls.map((m) => JSON.parse(m).type)).toEqual(['Finalize', 'CloseStream']);
    expect(c.audioBytes).toBe(GREETING.audio.length);
    await until(async () => c.closed, 15_000, 'socket closed');
  });

  it('holds the audio pushed before the socket opens and sends it once open', async () => {
    const { stream, events, fake } = await open();
    speak(stream, GREETING.audio, 500); // pushed synchronously, before the handshake completes
    await untilTurns(events, 1);
    await stream.close(); // the last part of a chunk goes with the close
    expect(fake.connections[0]!.audioBytes).toBe(GREETING.audio.length + 4000);
  });

  it('sends the audio in chunks of chunkMs (100 ms by default), not a message per 20 ms frame', async () => {
    const { stream, events, fake } = await open();
    speak(stream, GREETING.audio, 500);
    await untilTurns(events, 1);
    await stream.close();
    const sizes = fake.connections[0]!.audioMessages;
    const total = GREETING.audio.length + 4000;
    // Every message but the last is 100 ms of μ-law (800 bytes); the close sends what was left.
    expect(sizes.slice(0, -1).every((n) => n === 800)).toBe(true);
    expect(sizes.length).toBe(Math.ceil(total / 800));
    expect(utterances(events)).toEqual([GREETING.text]);
  });

  it('chunkMs 20 sends each Twilio frame as it comes', async () => {
    const { stream, events, fake } = await open({}, {}, { chunkMs: 20 });
    speak(stream, GREETING.audio, 500);
    await untilTurns(events, 1);
    await stream.close();
    // The fixture's last frame is short (141 bytes): it waits for the next to make 20 ms, like any part of a chunk.
    expect(fake.connections[0]!.audioMessages.slice(0, -1).every((n) => n === 160)).toBe(true);
    expect(fake.connections[0]!.audioBytes).toBe(GREETING.audio.length + 4000);
  });

  it('speechPaused sends the held audio at once and the silence after it frame by frame, for the endpointing', async () => {
    const { stream, events, fake } = await open({}, { endpointingMs: 300 });
    speak(stream, GREETING.audio);
    await until(async () => fake.connections[0]?.audioBytes === GREETING.audio.length - (GREETING.audio.length % 800), 15_000, 'whole chunks sent');
    const before = fake.connections[0]!.audioMessages.length;
    stream.speechPaused();
    // 300 ms of frames one by one, then chunks again: 8000 bytes of silence = 15 frames + 5600 bytes, seven chunks.
    speak(stream, new Uint8Array(1000 * 8).fill(0xff));
    await untilTurns(events, 1);
    await until(async () => fake.connections[0]!.audioBytes === GREETING.audio.length + 8000, 15_000, 'all audio sent');
    const after = fake.connections[0]!.audioMessages.slice(before);
    expect(after[0]).toBe(GREETING.audio.length % 800); // what was held, at once
    expect(after.slice(1, 16)).toEqual(Array(15).fill(160));
    expect(after.slice(16)).toEqual(Array(7).fill(800));
    expect(utterances(events)).toEqual([GREETING.text]);
  });

  it('speechResumed (a pause inside the utterance) goes back to chunks at once', async () => {
    const { stream, fake } = await open({}, { endpointingMs: 300 });
    speak(stream, new Uint8Array(800).fill(0xff)); // one whole chunk: nothing held
    await until(async () => fake.connections[0]?.audioBytes === 800, 15_000, 'first chunk sent');
    stream.speechPaused();
    speak(stream, new Uint8Array(480).fill(0xff)); // three frames, one by one
    stream.speechResumed();
    speak(stream, new Uint8Array(1600).fill(0xff)); // ten frames: two chunks
    await until(async () => fake.connections[0]!.audioBytes === 800 + 480 + 1600, 15_000, 'all audio sent');
    expect(fake.connections[0]!.audioMessages).toEqual([800, 160, 160, 160, 800, 800]);
  });

  it('a refused handshake keeps Deepgram’s reason (dg-error) as the cause', async () => {
    fake = await startFakeDeepgram({ apiKey: KEY });
    const stream = new DeepgramStt({ apiKey: 'wrong', baseUrl: fake.url }).stream({ language: 'en', endpointingMs: 300, interim: true });
    streams.push(stream);
    const events = record(stream);
    await until(async () => errors(events).length > 0, 15_000, 'error event');
    expect(String((errors(events)[0]!.error.cause as Error).message)).toContain('Invalid credentials');
    expect(fake.refused).toBe(1);
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
});
