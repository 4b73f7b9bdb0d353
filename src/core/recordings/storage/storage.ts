/**
 * Where recordings' audio is kept, behind one small interface: a folder on disk (default, under DATA_DIR)
 * or S3-compatible object storage. Keys are relative paths made by Switchboard (`<org>/<sid>.mp3`), never
 * from client input.
 */
import type { Readable } from 'node:stream';

/** Inclusive byte range, as HTTP Range requests name them. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface RecordingStorage {
  /** `folder` or `s3`, for logs and docs. */
  readonly kind: string;
  /** Stores `body` under `key`, replacing what was there. */
  put(key: string, body: Buffer, contentType: string): Promise<void>;
  /** The object's bytes (only `range` of them when given). Rejects with `StoredObjectMissing` when absent. */
  read(key: string, range?: ByteRange): Promise<Readable>;
  /** Deletes the object; deleting one that is not there is not an error. */
  delete(key: string): Promise<void>;
}

/** The object is not (or no longer) in the storage. */
export class StoredObjectMissing extends Error {
  constructor(readonly key: string) {
    super('stored recording object is missing');
    this.name = 'StoredObjectMissing';
  }
}
