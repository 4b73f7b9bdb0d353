import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../helpers/backends.js';
import { until } from '../helpers/switchboard.js';
import { EXAMPLE_AGENT_ID, startTruedy, type TruedyTest } from './truedy.helpers.js';
import { decode, loudness, pathOf } from './recordings.helpers.js';

/** The answering machine of the simulated network: greeting, beep, message. */
const VOICEMAIL = '+15550104';

describe('Truedy: call_settings.recording_enabled records the call (default true) [pglite]', () => {
  let T: TruedyTest;
  let dir: string;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-trec-'));
    T = await startTruedy(BACKENDS[0], { RECORDINGS_DIR: dir });
  }, 60_000);
  afterAll(async () => {
    await T?.t.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const create = async (callSettings: Record<string, unknown>) => {
    const r = await T.api('POST', '/calls', { agent_id: EXAMPLE_AGENT_ID, phone_number: VOICEMAIL, variables: { first_name: 'Maria' }, call_settings: callSettings });
    expect(r.statusCode, r.body).toBe(201);
    const id = r.json().data.id as string;
    const ended = await until(async () => {
      const c = (await T.api('GET', `/calls/${id}`)).json().data;
      return c.ended_at ? c : null;
    }, 60_000, 'the call to end');
    return { id, ended };
  };

  it('by default: the call object gets a recording_url that plays for the length of the call', async () => {
    const { id, ended } = await create({});
    expect(ended.call_settings.recording_enabled).toBe(true);
    const c = await until(async () => {
      const data = (await T.api('GET', `/calls/${id}`)).json().data;
      return data.recording_url ? data : null;
    }, 90_000, 'the recording');
    const r = await T.api('GET', `/calls/${id}/recording`);
    expect(r.statusCode).toBe(200);
    expect(Object.keys(r.json().data)).toEqual(['recording_url']);
    const media = await T.t.sb.app.inject({ method: 'GET', url: pathOf(c.recording_url) });
    expect(media.statusCode).toBe(200);
    const pcm = await decode(media.rawPayload, 'mp3');
    expect(Math.abs(pcm.samples.length / pcm.sampleRate - c.duration_seconds)).toBeLessThan(1.5);
    expect(loudness(pcm)).toBeGreaterThan(300);
  }, 150_000);

  it('recording_enabled: false records nothing: 404 not_found, recording_url null', async () => {
    const { id } = await create({ recording_enabled: false });
    // Time for a recording to have been made, had it been asked for.
    await new Promise((r) => setTimeout(r, 2000));
    const r = await T.api('GET', `/calls/${id}/recording`);
    expect(r.statusCode).toBe(404);
    expect(r.json().error.code).toBe('not_found');
    expect((await T.api('GET', `/calls/${id}`)).json().data.recording_url).toBeNull();
    expect(fs.readdirSync(dir, { recursive: true }).map(String).filter((f) => /\.(mp3|wav)$/.test(f))).toHaveLength(2);
  }, 150_000);
});
