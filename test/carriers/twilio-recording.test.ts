import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until, type TestSwitchboard } from '../helpers/switchboard.js';
import { startTwilioSwitchboard, v1Calls } from './twilio-harness.js';
import { FakeTwilio, RECEPTIONIST, sign } from '../fakes/twilio/fake-twilio.js';
import { decode, loudness, pathOf, recordingOf, toneShare } from '../faces/recordings.helpers.js';

const ACCOUNT = 'AC' + 'fedcba9876543210'.repeat(2);
const TOKEN = 'test-auth-token-recordings';

describe('Twilio recordings: asked for when dialling, announced by the signed callback, fetched from Twilio and stored', () => {
  let t: TestSwitchboard;
  let fake: FakeTwilio;
  let publicUrl: string;
  let dir: string;
  const calls = v1Calls(() => t);

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-twrec-'));
    fake = new FakeTwilio(ACCOUNT, TOKEN, { '+15551240001': RECEPTIONIST });
    await fake.start();
    ({ t, publicUrl } = await startTwilioSwitchboard(fake, undefined, { RECORDINGS_DIR: dir }));
  }, 30_000);
  afterAll(async () => {
    await t?.close();
    await fake?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("a recorded call's recording is fetched from Twilio once ready (retried while it is processing) and plays on /v1", async () => {
    // Twilio is still processing the media the first two times it is asked for.
    fake.recordingMediaNotReady = 2;
    const sid = await calls.start('+15551240001', { task: 'Confirm my dinner booking for Tuesday', persona: { name: 'John Smith' }, record: true });
    await calls.ended(sid);
    const fc = [...fake.calls.values()].find((c) => c.to === '+15551240001')!;
    expect(fc.request.Record).toBe('true');
    const callId = (await t.sb.core.calls.find(t.orgId, sid)).id;
    expect(fc.request.RecordingStatusCallback).toBe(`${publicUrl}/twilio/recording-status?callId=${callId}`);
    expect([fc.request.RecordingStatusCallbackEvent].flat()).toEqual(['completed', 'absent']);
    const twilioRec = await until(async () => fc.recording?.callback, 20_000, 'the recording status callback');
    expect(twilioRec.code).toBe(204);

    const rec = await recordingOf(t, sid, 'wav');
    // Asked for three times: twice while processing, then served.
    expect(fc.recording!.fetches).toBe(3);
    const media = await t.sb.app.inject({ method: 'GET', url: pathOf(rec.recording_url) });
    expect(media.statusCode).toBe(200);
    const pcm = await decode(media.rawPayload, 'wav');
    // What Twilio recorded, as long as Twilio said it was.
    expect(pcm.samples.length / pcm.sampleRate).toBe(fc.recording!.duration);
    expect(toneShare(pcm, 440, 0, 0.5)).toBeGreaterThan(0.5);
    const mp3 = await recordingOf(t, sid, 'mp3');
    const audio = await decode((await t.sb.app.inject({ method: 'GET', url: pathOf(mp3.recording_url) })).rawPayload, 'mp3');
    expect(Math.abs(audio.samples.length / audio.sampleRate - fc.recording!.duration)).toBeLessThan(0.2);
    expect(loudness(audio)).toBeGreaterThan(1000);
  }, 60_000);

  it('a recording callback that is not signed by Twilio is refused and fetches nothing', async () => {
    const call = (await t.sb.store.db.selectFrom('calls').select('id').executeTakeFirstOrThrow()).id;
    const url = `${publicUrl}/twilio/recording-status?callId=${call}`;
    const params = { AccountSid: ACCOUNT, CallSid: 'CA' + '1'.repeat(32), RecordingSid: 'RE' + '2'.repeat(32), RecordingStatus: 'completed' };
    const before = fake.requests.length;
    expect((await fake.post(url, params, 'forged')).code).toBe(403);
    expect((await fake.post(url, params, sign('another-token', url, params))).code).toBe(403);
    await new Promise((r) => setTimeout(r, 300));
    expect(fake.requests.slice(before).filter((r) => r.path.includes('/Recordings/'))).toEqual([]);
  }, 30_000);
});
