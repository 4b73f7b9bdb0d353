/**
 * The OpenAI Realtime client against the fake server (GA protocol): the URL it dials, the bearer key, the
 * classified failure of a refused key, and the server's `error` events reaching the listener as the real
 * server sends them (an invalid voice named by its param, a second response while one is active).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeOpenAIRealtime } from '../../fakes/openai-realtime/fake-openai-realtime.js';
import { RealtimeConnection, realtimeUrl, realtimeVoice, type RealtimeServerEvent } from '../../../src/ai/realtime/index.js';
import { LlmError } from '../../../src/ai/llm/llm.js';

describe('OpenAI Realtime client', () => {
  const fake = new FakeOpenAIRealtime({ apiKey: 'sk-rt', latencyMs: 5 });
  beforeAll(() => fake.start());
  afterAll(() => fake.close());

  it('dials /realtime under the base URL with the model, ws for http and wss for https', () => {
    expect(realtimeUrl('https://api.openai.com/v1', 'gpt-realtime')).toBe('wss://api.openai.com/v1/realtime?model=gpt-realtime');
    expect(realtimeUrl('http://127.0.0.1:9/v1/', 'gpt-realtime-mini')).toBe('ws://127.0.0.1:9/v1/realtime?model=gpt-realtime-mini');
  });

  it('picks the call\'s OpenAI voice when the model has it, else the default of the gender', () => {
    expect(realtimeVoice({ gender: 'female', openaiVoice: 'Coral' })).toBe('coral');
    expect(realtimeVoice({ gender: 'female', openaiVoice: 'nova' })).toBe('marin'); // a speech voice Realtime lacks
    expect(realtimeVoice({ gender: 'male' })).toBe('cedar');
  });

  it('a refused key fails the handshake as an auth error, not a crash', async () => {
    const rt = RealtimeConnection.open({ apiKey: 'sk-wrong', baseUrl: fake.url });
    const closed = new Promise<{ error?: Error }>((r) => rt.onClose(r));
    const err = await rt.ready.then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(LlmError);
    expect((err as LlmError).kind).toBe('auth');
    expect((err as LlmError).retryable).toBe(false);
    expect((await closed).error).toBe(err);
  });

  it('hears the server\'s events in order, its errors included', async () => {
    const rt = RealtimeConnection.open({ apiKey: 'sk-rt', baseUrl: fake.url });
    const events: RealtimeServerEvent[] = [];
    rt.onEvent((e) => events.push(e));
    await rt.ready;
    // No permessage-deflate offered: its zlib state would cost the call ≈ 260 KB (docs/performance.md §8).
    expect(fake.connections.at(-1)!.headers['sec-websocket-extensions']).toBeUndefined();
    rt.send({ type: 'session.update', session: { type: 'realtime', audio: { output: { voice: 'nova' as never } } } });
    rt.send({ type: 'response.create' });
    rt.send({ type: 'response.create' });
    const until = Date.now() + 10_000;
    while (events.filter((e) => e.type === 'response.done').length < 1 || events.filter((e) => e.type === 'error').length < 2) {
      if (Date.now() > until) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(events[0].type).toBe('session.created');
    const errors = events.filter((e): e is Extract<RealtimeServerEvent, { type: 'error' }> => e.type === 'error').map((e) => [e.error.code, e.error.param]);
    expect(errors).toEqual([
      ['invalid_value', 'session.audio.output.voice'],
      ['conversation_already_has_active_response', null],
    ]);
    expect(events.find((e) => e.type === 'response.done')).toMatchObject({ response: { status: 'completed', usage: { input_tokens: 100 } } });
    rt.close();
    expect(rt.isOpen).toBe(false);
  });
});
