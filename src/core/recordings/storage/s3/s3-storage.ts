/**
 * Recordings in S3-compatible object storage (AWS S3, MinIO, Ceph, R2, …) through the official
 * @aws-sdk/client-s3, loaded only when this storage is configured. `endpoint` points it at a compatible
 * server (path-style addressing then, which they all serve).
 */
import type { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { StoredObjectMissing, type ByteRange, type RecordingStorage } from '../storage.js';

export interface S3StorageOptions {
  bucket: string;
  region: string;
  /** A compatible server's URL (unset: AWS). */
  endpoint?: string;
  /** Unset: the SDK's default chain (environment, instance role, …). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** `bucket/key` paths instead of `bucket.host` (what compatible servers expect). */
  forcePathStyle: boolean;
  /** Put before every key (`recordings/`). */
  prefix: string;
}

export class S3Storage implements RecordingStorage {
  readonly kind = 's3';
  private client: Promise<{ s3: S3Client; sdk: typeof import('@aws-sdk/client-s3') }> | undefined;

  constructor(private readonly opts: S3StorageOptions) {}

  private api() {
    this.client ??= import('@aws-sdk/client-s3').then((sdk) => ({
      sdk,
      s3: new sdk.S3Client({
        region: this.opts.region,
        endpoint: this.opts.endpoint,
        forcePathStyle: this.opts.forcePathStyle,
        credentials: this.opts.credentials,
        // Checksums only where the API requires them: not every compatible server knows the newer headers.
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
        maxAttempts: 3,
      }),
    }));
    return this.client;
  }

  private key(key: string): string {
    return this.opts.prefix + key;
  }

  async put(key: string, body: Buffer, contentType: string): Promise<void> {
    const { s3, sdk } = await this.api();
    await s3.send(new sdk.PutObjectCommand({ Bucket: this.opts.bucket, Key: this.key(key), Body: body, ContentType: contentType }));
  }

  async read(key: string, range?: ByteRange): Promise<Readable> {
    const { s3, sdk } = await this.api();
    try {
      const r = await s3.send(
        new sdk.GetObjectCommand({ Bucket: this.opts.bucket, Key: this.key(key), ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}) }),
      );
      // In Node the body is an IncomingMessage (a Readable).
      return r.Body as Readable;
    } catch (err) {
      const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
      if (e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404) throw new StoredObjectMissing(key);
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    const { s3, sdk } = await this.api();
    await s3.send(new sdk.DeleteObjectCommand({ Bucket: this.opts.bucket, Key: this.key(key) }));
  }
}
