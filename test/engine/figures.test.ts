import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../helpers/backends.js';
import { startSwitchboard, until, type TestSwitchboard } from '../helpers/switchboard.js';

describe('latency figures and metrics', () => {
  let t: TestSwitchboard;
  beforeAll(async () => {
    t = await startSwitchboard(BACKENDS[0], { SHUTDOWN_GRACE_SECONDS: '1' });
  });
  afterAll(() => t.close());

  it('stores per-turn figures, summarises them on the call and exports them at /metrics', async () => {
    const headers = { authorization: `Bearer ${t.key}` };
    const { sid } = (
      await t.sb.app.inject({ method: 'POST', url: '/v1/start-call', headers, payload: { phone_number: '+15550100', task: 'Confirm my booking, reference AB123', language: 'en', persona: { name: 'Alex Smith' } } })
    ).json();
    const c = await until(async () => {
      const v = (await t.sb.app.inject({ method: 'GET', url: `/v1/calls/${sid}`, headers })).json();
      return v.ended_at ? v : null;
    });
    expect(c.latency.turns).toBeGreaterThan(0);
    for (const k of ['transcript_to_gpt_ms', 'gpt_first_token_ms', 'first_audio_playback_ms']) {
      expect(c.latency[k], k).toEqual({ p50: expect.any(Number), max: expect.any(Number) });
      expect(c.latency[k].p50).toBeLessThanOrEqual(c.latency[k].max);
    }
    const turns = await t.sb.store.db.selectFrom('call_turns').selectAll().where('call_id', '=', c.id).execute();
    expect(turns.length).toBe(c.latency.turns);

    // The session counts the call in the metrics just after storing its end (ended_at): wait for that.
    const m = await until(async () => {
      const r = await t.sb.app.inject({ method: 'GET', url: '/metrics' });
      return /calls_ended_total\{status="completed"\} [1-9]/.test(r.body) ? r : null;
    }, 15_000, 'the ended call in /metrics');
    expect(m.statusCode).toBe(200);
    expect(m.headers['content-type']).toMatch(/text\/plain/);
    const body = m.body;
    for (const name of ['transcript_to_gpt_ms_bucket', 'gpt_first_token_ms_count', 'first_audio_playback_ms_sum', 'call_duration_seconds_count', 'transcript_count_bucket', 'command_count_bucket', 'override_count_bucket']) {
      expect(body, name).toContain(name);
    }
    expect(body).toMatch(/calls_ended_total\{status="completed"\} [1-9]/);
    const transcriptCount = /transcript_count_sum (\d+)/.exec(body)?.[1];
    expect(Number(transcriptCount)).toBe(c.transcripts.length);
  });
});
