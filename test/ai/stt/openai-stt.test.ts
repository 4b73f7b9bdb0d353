/**
 * The OpenAI streaming transcription adapter against the fake Realtime transcription server
 * (test/fakes/openai-transcription/): `?intent=transcription`, Bearer auth, a GA `session.update` of type
 * `transcription`, base64 μ-law appends, server VAD events, transcription deltas and completions.
 * The behaviour every adapter shares is in ./stt.contract.ts; here, what is OpenAI's own.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { OpenAiStt } from '../../../src/ai/stt/openai/index.js';
import type { SttOptions, SttStream } from '../../../src/ai/stt/stt.js';
import {
  startFakeOpenAiTranscription,
  type FakeOpenAiTranscription,
  type FakeOpenAiTranscriptionOptions,
} from '../../fakes/openai-transcription/fake-openai-transcription.js';
import { sttContract } from './stt.contract.js';
import { frames, silence } from '../../fakes/stt-fake-common.js';
import { errors, GREETING, MENU, record, speak, turns, until, utterances } from './stt-test-helpers.js';

const KEY = 'sk-test-key';

sttContract('OpenAI transcription', {
  async start({ phrases, latencyMs, badKey }) {
    const fake = await startFakeOpenAiTranscription({ apiKey: KEY, phrases, latencyMs });
    return { stt: new OpenAiStt({ apiKey: badKey ? 'wrong' : KEY, baseUrl: fake.url }), close: fake.close };
  },
});

describe('OpenAI streaming transcription', () => {
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

  it('opens a GA transcription session: μ-law in, the model, the language and endpointing as VAD silence', async () => {
    const { fake } = await open({}, { language: 'sv-SE', endpointingMs: 450 });
    await until(async () => fake.connections[0]?.sessions.length === 1, 15_000, 'session.update');
    const c = fake.connections[0]!;
    expect(c.query.get('intent')).toBe('transcription');
    expect(c.authorization).toBe(`Bearer ${KEY}`);
    expect(c.betaHeader).toBeUndefined();
    expect(c.extensions).toBeUndefined(); // no permessage-deflate offered (docs/performance.md §8)
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

  it('flush commits the input buffer; a flush with no speech heard commits nothing', async () => {
    const { stream, events, fake } = await open({}, { endpointingMs: 5000 });
    stream.flush();
    speak(stream, GREETING.audio);
    await until(async () => events.some((e) => e.type === 'speech_started'), 15_000, 'speech_started');
    stream.flush();
    await until(async () => turns(events).length === 1, 15_000, 'end of turn');
    expect(fake.connections[0]!.commits).toBe(1);
  });

  it('close waits for transcripts still coming after the server VAD committed', async () => {
    const { stream, events, fake } = await open({ latencyMs: 20 });
    speak(stream, GREETING.audio, 500);
    await stream.close(); // before the server has reported anything
    expect(utterances(events)).toEqual([GREETING.text]);
    expect(fake.connections[0]!.audioBytes).toBe(GREETING.audio.length + 4000);
    await until(async () => fake.connections[0]!.closed, 15_000, 'socket closed');
  });

  it('a refused handshake keeps OpenAI’s error and request id', async () => {
    fake = await startFakeOpenAiTranscription({ apiKey: KEY });
    const stream = new OpenAiStt({ apiKey: 'wrong', baseUrl: fake.url }).stream({ language: 'en', endpointingMs: 300, interim: true });
    streams.push(stream);
    const events = record(stream);
    await until(async () => errors(events).length > 0, 15_000, 'error event');
    const error = errors(events)[0]!.error;
    expect(error).toMatchObject({ requestId: 'req_fake_refused' });
    expect(String((error.cause as Error).message)).toContain('invalid_api_key');
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
  it('gated (gateSilence): the server VAD still commits each turn, the silence after it stops at STT_SILENCE_MS, the pre-roll goes on speech', async () => {
    const { stream, events, fake } = await open({}, { endpointingMs: 500, gateSilence: true });
    const say = (audio: Uint8Array) => {
      const f = frames(audio);
      for (const frame of f.slice(0, 3)) stream.push(frame); // our detector's onset: 60 ms of sound
      stream.speechResumed();
      for (const frame of f.slice(3)) stream.push(frame);
      for (const frame of frames(silence(200))) stream.push(frame);
      stream.speechPaused();
      for (const frame of frames(silence(3000))) stream.push(frame);
    };
    for (const frame of frames(silence(1000))) stream.push(frame); // the callee silent at first: kept, not sent
    say(GREETING.audio);
    await until(async () => turns(events).length >= 1, 15_000, 'first turn');
    say(MENU.audio);
    await until(async () => turns(events).length >= 2, 15_000, 'second turn');
    expect(utterances(events)).toEqual([GREETING.text, MENU.text]);
    // Per utterance: 400 ms of pre-roll (silence and the onset), the rest of the speech, 200 + 1500 ms of quiet.
    const sent = GREETING.audio.length + MENU.audio.length + 2 * (340 + 200 + 1500) * 8;
    await until(async () => fake.connections[0]!.audioBytes === sent, 15_000, 'audio up to the gate');
    expect(stream.audioSeconds).toBe(sent / 8000);
  });
  it('gated while the server VAD still hears speech (our detector took it for quiet): the turn is committed, not left waiting', async () => {
    const { stream, events, fake } = await open({}, { endpointingMs: 500, gateSilence: true });
    const f = frames(GREETING.audio);
    for (const frame of f.slice(0, 3)) stream.push(frame);
    stream.speechResumed();
    stream.speechPaused(); // the detector hears quiet where the server hears ≈ 2.5 s more of speech
    for (const frame of f.slice(3, 53)) stream.push(frame); // 1 s: the gate is still open
    await until(async () => events.some((e) => e.type === 'speech_started'), 15_000, 'speech_started');
    for (const frame of f.slice(53)) stream.push(frame); // the gate closes 1.5 s after the pause, mid-speech
    await until(async () => turns(events).length >= 1, 15_000, 'the turn');
    expect(fake.connections[0]!.commits).toBe(1);
    expect(fake.connections[0]!.audioBytes).toBe(3 * 160 + 1500 * 8);
  });
});
