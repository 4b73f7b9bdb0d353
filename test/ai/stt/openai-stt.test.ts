/**
 * The OpenAI streaming transcription adapter against the fake Realtime transcription server
 * (test/fakes/openai-transcription/): `?intent=transcription`, Bearer auth, a GA `session.update` of type
 * `transcription`, base64 μ-law appends, server VAD events, transcription deltas and completions.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SttError } from '../../../src/ai/stt/errors.js';
import { OpenAiStt } from '../../../src/ai/stt/openai/index.js';
import type { SttOptions, SttStream } from '../../../src/ai/stt/stt.js';
import {
  startFakeOpenAiTranscription,
  type FakeOpenAiTranscription,
  type FakeOpenAiTranscriptionOptions,
} from '../../fakes/openai-transcription/fake-openai-transcription.js';
import { errors, GREETING, MENU, record, speak, transcripts, turns, until, untilTurns } from './stt-test-helpers.js';

const KEY = 'sk-test-key';
let fake: FakeOpenAiTranscription | undefined;
let streams: SttStream[] = [];

afterEach(async () => {
  await Promise.all(streams.map((s) => s.close()));
  streams = [];
  await fake?.close();
  fake = undefined;
});

async function open(fakeOptions: FakeOpenAiTranscriptionOptions = {}, sttOptions: Partial<SttOptions> = {}) {
  fake = await startFakeOpenAiTranscription({ apiKey: KEY, phrases: [GREETING, MENU], ...fakeOptions });
  const stream = new OpenAiStt({ apiKey: KEY, baseUrl: fake.url }).stream({ language: 'en', endpointingMs: 300, interim: true, ...sttOptions });
  streams.push(stream);
  return { stream, events: record(stream), fake };
}

describe('OpenAI streaming transcription', () => {
  it('reports speech starting, interim transcripts from the deltas, then the completed transcript ending the turn', async () => {
    const { stream, events } = await open({ latencyMs: 5 });
    speak(stream, GREETING.audio, 500);
    await untilTurns(events, 1);

    expect(events[0]).toEqual({ type: 'speech_started' });
    const said = transcripts(events);
    const interim = said.filter((t) => !t.final);
    expect(interim.length).toBeGreaterThan(1);
    for (let i = 1; i < interim.length; i++) expect(interim[i]!.text.startsWith(interim[i - 1]!.text)).toBe(true);
    expect(said.at(-1)).toEqual({ type: 'transcript', text: GREETING.text, final: true, endOfTurn: true });
  });

  it('transcribes one turn per utterance the server VAD cuts', async () => {
    const { stream, events } = await open();
    speak(stream, GREETING.audio, 600);
    speak(stream, MENU.audio, 600);
    await untilTurns(events, 2);
    expect(turns(events).map((t) => t.text)).toEqual([GREETING.text, MENU.text]);
    expect(events.filter((e) => e.type === 'speech_started')).toHaveLength(2);
  });

  it('opens a GA transcription session: μ-law in, the model, the language and endpointing as VAD silence', async () => {
    const { fake } = await open({}, { language: 'sv-SE', endpointingMs: 450 });
    await until(async () => fake.connections[0]?.sessions.length === 1, 15_000, 'session.update');
    const c = fake.connections[0]!;
    expect(c.query.get('intent')).toBe('transcription');
    expect(c.authorization).toBe(`Bearer ${KEY}`);
    expect(c.betaHeader).toBeUndefined();
    expect(c.sessions[0]).toEqual({
      type: 'transcription',
      audio: {
        input: {
          format: { type: 'audio/pcmu' },
          transcription: { model: 'gpt-4o-mini-transcribe', language: 'sv' },
          turn_detection: { type: 'server_vad', threshold: 0.5, prefix_padding_ms: 300, silence_duration_ms: 450 },
        },
      },
    });
  });

  it('leaves out interim transcripts when the caller does not want them', async () => {
    const { stream, events } = await open({}, { interim: false });
    speak(stream, GREETING.audio, 500);
    await untilTurns(events, 1);
    expect(transcripts(events).every((t) => t.final)).toBe(true);
  });

  it('flush commits the turn being spoken without waiting for silence', async () => {
    const { stream, events, fake } = await open({}, { endpointingMs: 5000 });
    speak(stream, GREETING.audio);
    await until(async () => events.some((e) => e.type === 'speech_started'), 15_000, 'speech_started');
    stream.flush();
    await untilTurns(events, 1);
    expect(fake.connections[0]!.commits).toBe(1);
    expect(turns(events)).toEqual([{ type: 'transcript', text: GREETING.text, final: true, endOfTurn: true }]);
  });

  it('close commits what is being said, waits for its transcript, and counts the audio sent', async () => {
    const { stream, events, fake } = await open({ latencyMs: 5 }, { endpointingMs: 5000 });
    speak(stream, GREETING.audio);
    await until(async () => events.some((e) => e.type === 'speech_started'), 15_000, 'speech_started');
    await stream.close();

    expect(turns(events)).toEqual([{ type: 'transcript', text: GREETING.text, final: true, endOfTurn: true }]);
    expect(stream.audioSeconds).toBe(GREETING.audio.length / 8000);
    expect(fake.connections[0]!.audioBytes).toBe(GREETING.audio.length);
    await until(async () => fake.connections[0]!.closed, 15_000, 'socket closed');
    expect(errors(events)).toEqual([]);
  });

  it('close waits for transcripts still coming after the server VAD committed', async () => {
    const { stream, events } = await open({ latencyMs: 20 });
    speak(stream, GREETING.audio, 500);
    await stream.close();
    expect(turns(events).map((t) => t.text)).toEqual([GREETING.text]);
  });

  it('a bad key becomes one auth error event; the stream neither throws nor crashes', async () => {
    fake = await startFakeOpenAiTranscription({ apiKey: KEY });
    const stream = new OpenAiStt({ apiKey: 'wrong', baseUrl: fake.url }).stream({ language: 'en', endpointingMs: 300, interim: true });
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
    expect(error).toMatchObject({ kind: 'auth', status: 401, retryable: false, requestId: 'req_fake_refused' });
    expect(String((error.cause as Error).message)).toContain('invalid_api_key');
    expect(stream.audioSeconds).toBe(0);
  });

  it('a session OpenAI rejects (an unsupported language) becomes a bad-request error event', async () => {
    const { stream, events } = await open({
      sessionError: { code: 'invalid_value', message: "Invalid value: 'xx'.", param: 'session.audio.input.transcription.language' },
    });
    speak(stream, GREETING.audio, 500);
    await until(async () => errors(events).length > 0, 15_000, 'error event');
    expect(errors(events)[0]!.error).toMatchObject({ kind: 'bad_request', retryable: false });
    expect(events.at(-1)!.type).toBe('error');
  });
});
