import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/index.js';
import { FolderStorage, openRecordingStorage, S3Storage } from '../../src/core/index.js';

describe('recordings configuration', () => {
  it('defaults: a folder under DATA_DIR, kept until the call is deleted, URLs good for an hour', () => {
    const c = loadConfig({ DATA_DIR: '/var/lib/sb' });
    expect(c.recordings).toEqual({ dir: path.resolve('/var/lib/sb/recordings'), s3: undefined, retentionDays: 0, urlTtlSeconds: 3600 });
    expect(openRecordingStorage(c)).toBeInstanceOf(FolderStorage);
  });

  it('RECORDINGS_S3_BUCKET switches to S3-compatible storage; an endpoint means path-style addressing', () => {
    const c = loadConfig({
      RECORDINGS_S3_BUCKET: 'call-audio',
      RECORDINGS_S3_ENDPOINT: 'http://127.0.0.1:9000/',
      RECORDINGS_S3_ACCESS_KEY_ID: 'minio',
      RECORDINGS_S3_SECRET_ACCESS_KEY: 'minio-secret',
      RECORDINGS_S3_PREFIX: 'recordings/',
      RECORDING_RETENTION_DAYS: '90',
      RECORDING_URL_TTL_SECONDS: '600',
    });
    expect(c.recordings.s3).toEqual({
      bucket: 'call-audio',
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:9000',
      credentials: { accessKeyId: 'minio', secretAccessKey: 'minio-secret' },
      forcePathStyle: true,
      prefix: 'recordings/',
    });
    expect(c.recordings.retentionDays).toBe(90);
    expect(c.recordings.urlTtlSeconds).toBe(600);
    expect(openRecordingStorage(c)).toBeInstanceOf(S3Storage);
    expect(loadConfig({ RECORDINGS_S3_BUCKET: 'call-audio' }).recordings.s3?.forcePathStyle).toBe(false);
  });

  it.each([
    [{ RECORDINGS_S3_BUCKET: 'Not A Bucket' }, 'RECORDINGS_S3_BUCKET'],
    [{ RECORDINGS_S3_ENDPOINT: 'http://127.0.0.1:9000' }, 'RECORDINGS_S3_BUCKET'],
    [{ RECORDINGS_S3_BUCKET: 'call-audio', RECORDINGS_S3_ACCESS_KEY_ID: 'minio' }, 'RECORDINGS_S3_SECRET_ACCESS_KEY'],
    [{ RECORDINGS_S3_BUCKET: 'call-audio', RECORDINGS_S3_ENDPOINT: 'ftp://x' }, 'RECORDINGS_S3_ENDPOINT'],
    [{ RECORDINGS_S3_BUCKET: 'call-audio', RECORDINGS_S3_PREFIX: '../x y' }, 'RECORDINGS_S3_PREFIX'],
    [{ RECORDING_RETENTION_DAYS: '-1' }, 'RECORDING_RETENTION_DAYS'],
    [{ RECORDING_URL_TTL_SECONDS: '5' }, 'RECORDING_URL_TTL_SECONDS'],
  ])('refuses %o, naming %s', (env, variable) => {
    let err: unknown;
    try {
      loadConfig(env);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).variable).toBe(variable);
  });
});
