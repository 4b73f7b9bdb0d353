/**
 * The voice fields of 000/001 at start-call: a provider chosen explicitly but not configured, or a field
 * of another provider than the one chosen, is a 400 naming the field, and nothing is stored. (Which voice
 * each combination gives: test/core/voice.resolve.test.ts.) An agent's voice_settings (002) are checked
 * when the agent is saved.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../helpers/backends.js';
import { startSwitchboard, type TestSwitchboard } from '../helpers/switchboard.js';
import { loadConfig } from '../../src/config/index.js';
import { canonicalStartCall } from '../../src/core/calls/request.js';
import { speechFromConfig } from '../../src/engine/voice/speech.js';

describe('voice options at start-call', () => {
  let bare: TestSwitchboard;
  let keyed: TestSwitchboard;
  beforeAll(async () => {
    bare = await startSwitchboard(BACKENDS[0]);
    // Keys only: nothing is synthesised by these calls (the simulated network speaks text).
    keyed = await startSwitchboard(BACKENDS[0], { OPENAI_API_KEY: 'sk-unused', ELEVENLABS_API_KEY: 'xi-unused' });
  });
  afterAll(async () => {
    await bare?.close();
    await keyed?.close();
  });

  const start = (t: TestSwitchboard, body: Record<string, unknown>) =>
    t.sb.app.inject({ method: 'POST', url: '/v1/start-call', headers: { authorization: `Bearer ${t.key}` }, payload: { phone_number: '+15550100', task: 'Confirm my booking', ...body } });
  const count = async (t: TestSwitchboard) => Number((await t.sb.store.db.selectFrom('calls').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

  it.each([
    [{ tts_provider: 'elevenlabs' }, 'tts_provider', /ElevenLabs.*not configured/],
    [{ tts_provider: 'azure', language: 'en' }, 'tts_provider', /Azure.*not configured/],
    [{ '11labsVoice': 'abc123' }, 'elevenLabsVoice', /ElevenLabs.*not configured/],
    [{ azureVoice: 'en-US-JennyNeural' }, 'azureVoice', /Azure.*not configured/],
    [{ style: 'cheerful' }, 'style', /Azure.*not configured/],
    [{ openaiVoice: 'marin', language: 'en' }, 'openaiVoice', /OpenAI.*not configured/],
  ])('a server without the provider: %j → 400 naming %s', async (body, field, message) => {
    const before = await count(bare);
    const r = await start(bare, body);
    expect(r.statusCode, r.body).toBe(400);
    expect(r.json()).toMatchObject({ error: expect.stringMatching(message), field });
    expect(await count(bare)).toBe(before);
  });

  it.each([
    [{ tts_provider: 'openai', style: 'cheerful' }, 'style'],
    [{ tts_provider: 'elevenlabs', openaiVoice: 'marin' }, 'openaiVoice'],
    [{ openaiVoice: 'morgan', language: 'en' }, 'openaiVoice'],
  ])('a field the chosen provider cannot honour: %j → 400 naming %s', async (body, field) => {
    const r = await start(keyed, body);
    expect(r.statusCode, r.body).toBe(400);
    expect(r.json().field).toBe(field);
  });

  it('accepts the documents’ voice fields where the provider is configured', async () => {
    for (const body of [
      { tts_provider: 'auto', language: 'sv', voice_gender: 'female' },
      { tts_provider: 'elevenlabs', elevenLabsVoice: 'abc123', elevenLabsModel: 'eleven_turbo_v2_5' },
      { language: 'en', voiceGender: 'male', openaiVoice: 'ash' },
      { language: 'en' },
    ]) {
      const r = await start(keyed, body);
      expect(r.statusCode, `${JSON.stringify(body)}: ${r.body}`).toBe(200);
    }
    // auto never fails for want of a key: with none, the call speaks offline.
    expect((await start(bare, { language: 'sv' })).statusCode).toBe(200);
  });

  it('endpointing_ms (an extension) sets the silence that ends a turn on this call only, and is checked', async () => {
    const bad = await start(bare, { endpointing_ms: 20 });
    expect(bad.statusCode).toBe(400);
    expect(JSON.stringify(bad.json())).toContain('endpointing_ms');
    const speech = speechFromConfig(loadConfig({}).speech);
    const call = canonicalStartCall({ phone_number: '+15550100', task: 'Confirm my booking', endpointing_ms: 1200 });
    expect(speech.turnTakingFor(call).endpointingMs).toBe(1200);
    const plain = canonicalStartCall({ phone_number: '+15550100', task: 'Confirm my booking' });
    expect(speech.turnTakingFor(plain).endpointingMs).toBe(loadConfig({}).speech.turnTaking!.endpointingMs);
    const ok = await start(bare, { endpointing_ms: 1200 });
    expect(ok.statusCode, ok.body).toBe(200);
  });

  it('an agent’s voice_settings are ElevenLabs settings, checked when the agent is saved (agents/tasks face)', async () => {
    const agent = (voice_settings: unknown) =>
      keyed.sb.app.inject({ method: 'POST', url: '/api/v1/agents', headers: { authorization: `Bearer ${keyed.key}` }, payload: { name: 'A', system_prompt: 'Be brief.', voice_settings } });
    const ok = await agent({ stability: 0.5, similarity_boost: 0.75 });
    expect(ok.statusCode, ok.body).toBe(201);
    expect(ok.json().data.voice_settings).toEqual({ stability: 0.5, similarity_boost: 0.75 });
    const bad = await agent({ stability: 5 });
    expect(bad.statusCode).toBe(400);
    expect(JSON.stringify(bad.json())).toContain('voice_settings.stability');
    const unknown = await agent({ pitch: 1 });
    expect(unknown.statusCode).toBe(400);
    expect(JSON.stringify(unknown.json())).toContain('voice_settings.pitch');
  });
});
