import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../helpers/backends.js';
import { startSwitchboard, until, type TestSwitchboard } from '../helpers/switchboard.js';
import { authOf, decode, loudness, pathOf, recordedCall, recordingOf } from '../faces/recordings.helpers.js';

const BUCKET = 'switchboard-recordings';
const KEYS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

// A local S3-compatible server (s3rver, on port 0) started by the test: the same flow as the folder storage.
describe.each(BACKENDS)('recordings kept in S3-compatible storage [$name]', (backend) => {
  let server: S3rver;
  let dir: string;
  let endpoint: string;
  let s3: S3Client;
  let t: TestSwitchboard;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-s3-'));
    server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: dir, configureBuckets: [{ name: BUCKET, configs: [] }] });
    const { port } = await server.run();
    endpoint = `http://127.0.0.1:${port}`;
    s3 = new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials: KEYS });
    t = await startSwitchboard(backend, {
      SHUTDOWN_GRACE_SECONDS: '1',
      RECORDINGS_S3_BUCKET: BUCKET,
      RECORDINGS_S3_ENDPOINT: endpoint,
      RECORDINGS_S3_ACCESS_KEY_ID: KEYS.accessKeyId,
      RECORDINGS_S3_SECRET_ACCESS_KEY: KEYS.secretAccessKey,
      RECORDINGS_S3_PREFIX: 'calls/',
    });
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    s3?.destroy();
    await server?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const object = (key: string) => s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));

  it('a recorded call is stored in the bucket, plays through its signed URL (with Range), and goes when the call is deleted', async () => {
    expect(t.sb.core.recordings.storageKind).toBe('s3');
    const call = await recordedCall(t, { phone_number: '+15550104', task: 'Tell Maria that the plumber comes on Friday at 9', language: 'en', record: true });
    const rec = await recordingOf(t, call.sid, 'wav');
    const sid = /RE[0-9a-f]{32}/.exec(rec.recording_url)![0];
    // The objects are in the bucket, under the prefix.
    const stored = await object(`calls/${t.orgId}/${sid}.wav`);
    const bytes = Buffer.from(await stored.Body!.transformToByteArray());
    expect(stored.ContentType).toBe('audio/wav');
    await object(`calls/${t.orgId}/${sid}.mp3`);

    const media = await t.sb.app.inject({ method: 'GET', url: pathOf(rec.recording_url) });
    expect(media.statusCode).toBe(200);
    expect(media.rawPayload.equals(bytes)).toBe(true);
    const pcm = await decode(media.rawPayload, 'wav');
    expect(Math.abs(pcm.samples.length / pcm.sampleRate - call.duration)).toBeLessThan(1);
    expect(loudness(pcm)).toBeGreaterThan(300);
    const part = await t.sb.app.inject({ method: 'GET', url: pathOf(rec.recording_url), headers: { range: 'bytes=44-1043' } });
    expect(part.statusCode).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 44-1043/${bytes.length}`);
    expect(part.rawPayload.equals(bytes.subarray(44, 1044))).toBe(true);

    const del = await t.sb.app.inject({ method: 'DELETE', url: `/api/public/v1/calls/${call.id}`, headers: authOf(t) });
    expect(del.statusCode, del.body).toBeLessThan(300);
    await until(
      async () => {
        try {
          await object(`calls/${t.orgId}/${sid}.wav`);
          return false;
        } catch (err) {
          return (err as Error).name === 'NoSuchKey';
        }
      },
      30_000,
      'the objects to be deleted',
    );
    await expect(object(`calls/${t.orgId}/${sid}.mp3`)).rejects.toThrow();
  }, 120_000);
});
