/**
 * 001's voice cloning, `POST /v1/elevenlabs/voices`: the upload is checked before anything reaches
 * ElevenLabs (the fake in test/fakes/elevenlabs), the multipart request reaches it as ElevenLabs' instant
 * voice cloning, and the new voice is then usable as a call's elevenLabsVoice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../helpers/backends.js';
import { startSwitchboard, type TestSwitchboard } from '../helpers/switchboard.js';
import { FAKE_ELEVENLABS_KEY, startElevenLabsFake, type ElevenLabsFake } from '../fakes/elevenlabs/fake-elevenlabs.js';
import { toWav } from '../../src/speech/audio.js';
import { ElevenLabsTts } from '../../src/ai/tts/elevenlabs/index.js';

const wav = (ms: number) => toWav({ sampleRate: 8000, samples: new Int16Array((8000 * ms) / 1000).map((_, i) => Math.round(6000 * Math.sin(i / 3))) });

async function multipart(fields: Record<string, string>, files: { name: string; type: string; data: Uint8Array }[]) {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  for (const f of files) form.append('files', new Blob([f.data], { type: f.type }), f.name);
  const req = new Request('http://local/', { method: 'POST', body: form });
  return { payload: Buffer.from(await req.arrayBuffer()), contentType: req.headers.get('content-type')! };
}

describe('POST /v1/elevenlabs/voices', () => {
  let eleven: ElevenLabsFake;
  let t: TestSwitchboard;
  let bare: TestSwitchboard;

  beforeAll(async () => {
    eleven = await startElevenLabsFake();
    t = await startSwitchboard(BACKENDS[0], { ELEVENLABS_API_KEY: FAKE_ELEVENLABS_KEY, ELEVENLABS_BASE_URL: eleven.url });
    bare = await startSwitchboard(BACKENDS[0]);
  }, 30_000);
  afterAll(async () => {
    await t?.close();
    await bare?.close();
    await eleven?.close();
  });

  const post = async (sb: TestSwitchboard, fields: Record<string, string>, files: { name: string; type: string; data: Uint8Array }[]) => {
    const { payload, contentType } = await multipart(fields, files);
    return sb.sb.app.inject({ method: 'POST', url: '/v1/elevenlabs/voices', headers: { authorization: `Bearer ${sb.key}`, 'content-type': contentType }, payload });
  };

  it('clones a voice from two samples: the multipart reaches ElevenLabs, the answer is {success, voice_id, name}', async () => {
    const r = await post(t, { name: 'My Voice', remove_background_noise: 'true' }, [
      { name: 'sample1.wav', type: 'audio/wav', data: wav(400) },
      { name: 'sample2.wav', type: 'audio/wav', data: wav(300) },
    ]);
    expect(r.statusCode, r.body).toBe(200);
    const body = r.json();
    expect(body).toEqual({ success: true, voice_id: expect.any(String), name: 'My Voice' });
    const cloned = eleven.cloned.at(-1)!;
    expect(cloned).toEqual({
      voiceId: body.voice_id,
      name: 'My Voice',
      files: [
        { name: 'sample1.wav', type: 'audio/wav', size: wav(400).length },
        { name: 'sample2.wav', type: 'audio/wav', size: wav(300).length },
      ],
      removeBackgroundNoise: 'true',
    });
    expect(eleven.received.at(-1)!.headers['xi-api-key']).toBe(FAKE_ELEVENLABS_KEY);

    // The voice is usable: a call accepts it as elevenLabsVoice, and ElevenLabs speaks with it.
    const call = await t.sb.app.inject({
      method: 'POST',
      url: '/v1/start-call',
      headers: { authorization: `Bearer ${t.key}` },
      payload: { phone_number: '+15550100', task: 'Confirm my booking', language: 'sv', elevenLabsVoice: body.voice_id },
    });
    expect(call.statusCode, call.body).toBe(200);
    const tts = new ElevenLabsTts({ apiKey: FAKE_ELEVENLABS_KEY, baseUrl: eleven.url });
    let bytes = 0;
    for await (const c of tts.synthesize({ text: 'Hej.', voice: { provider: 'elevenlabs', voice: body.voice_id }, language: 'sv', signal: new AbortController().signal })) bytes += c.length;
    expect(bytes).toBeGreaterThan(0);
  });

  it('refuses a bad upload with a 400 naming the field, sending nothing to ElevenLabs', async () => {
    const before = eleven.received.length;
    const cases: [Record<string, string>, { name: string; type: string; data: Uint8Array }[], string, RegExp][] = [
      [{}, [{ name: 'a.wav', type: 'audio/wav', data: wav(200) }], 'name', /name/],
      [{ name: '  ' }, [{ name: 'a.wav', type: 'audio/wav', data: wav(200) }], 'name', /name/],
      [{ name: 'V' }, [], 'files', /at least one/],
      [{ name: 'V' }, [{ name: 'notes.wav', type: 'audio/wav', data: Buffer.from('just some text, not audio at all, sorry') }], 'files', /audio/],
      [{ name: 'V' }, [{ name: 'empty.wav', type: 'audio/wav', data: new Uint8Array(0) }], 'files', /empty/],
      [{ name: 'V' }, [{ name: 'big.wav', type: 'audio/wav', data: Buffer.concat([wav(100), Buffer.alloc(10 * 1024 * 1024)]) }], 'files', /10 MB/],
      [{ name: 'V', remove_background_noise: 'maybe' }, [{ name: 'a.wav', type: 'audio/wav', data: wav(200) }], 'remove_background_noise', /true or false/],
      [{ name: 'V', labels: '{}' }, [{ name: 'a.wav', type: 'audio/wav', data: wav(200) }], 'labels', /labels/],
    ];
    for (const [fields, files, field, message] of cases) {
      const r = await post(t, fields, files);
      expect(r.statusCode, `${field}: ${r.body}`).toBe(400);
      expect(r.json().error).toMatch(message);
      expect(r.json().field).toBe(field);
    }
    const json = await t.sb.app.inject({ method: 'POST', url: '/v1/elevenlabs/voices', headers: { authorization: `Bearer ${t.key}` }, payload: { name: 'V' } });
    expect(json.statusCode).toBe(400);
    expect(json.json().error).toMatch(/multipart/);
    expect(eleven.received.length).toBe(before);
  });

  it('answers a clear 400 when the server has no ElevenLabs key', async () => {
    const r = await post(bare, { name: 'V' }, [{ name: 'a.wav', type: 'audio/wav', data: wav(200) }]);
    expect(r.statusCode).toBe(400);
    expect(r.json().error).toMatch(/ElevenLabs.*ELEVENLABS_API_KEY/);
  });

  it('needs an API key', async () => {
    const { payload, contentType } = await multipart({ name: 'V' }, [{ name: 'a.wav', type: 'audio/wav', data: wav(200) }]);
    const r = await t.sb.app.inject({ method: 'POST', url: '/v1/elevenlabs/voices', headers: { 'content-type': contentType }, payload });
    expect(r.statusCode).toBe(401);
  });

  it('reports ElevenLabs refusing the server’s key as 502, not as the client’s fault', async () => {
    eleven.failNext(401, { detail: { status: 'invalid_api_key', message: 'Invalid API key' } });
    const r = await post(t, { name: 'V' }, [{ name: 'a.wav', type: 'audio/wav', data: wav(200) }]);
    expect(r.statusCode).toBe(502);
    expect(r.json().error).toMatch(/ElevenLabs/);
  });

  it('an answer from ElevenLabs with no voice in it (JSON null, no voice_id) is a 502 naming ElevenLabs, not a 500', async () => {
    for (const answer of [null, {}, { voice_id: 7 }]) {
      eleven.failNext(200, answer);
      const r = await post(t, { name: 'V' }, [{ name: 'a.wav', type: 'audio/wav', data: wav(200) }]);
      expect(r.statusCode, JSON.stringify(answer)).toBe(502);
      expect(r.json().error, JSON.stringify(answer)).toMatch(/ElevenLabs/);
    }
  });
});
