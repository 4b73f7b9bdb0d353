import type { Config } from '../../../config/index.js';
import { FolderStorage } from './folder/folder-storage.js';
import { S3Storage } from './s3/s3-storage.js';
import type { RecordingStorage } from './storage.js';

export { FolderStorage } from './folder/folder-storage.js';
export { S3Storage } from './s3/s3-storage.js';
export { StoredObjectMissing, type ByteRange, type RecordingStorage } from './storage.js';

/** The storage the configuration names: S3-compatible when a bucket is set, else a folder. */
export function openRecordingStorage(config: Pick<Config, 'recordings'>): RecordingStorage {
  const r = config.recordings;
  return r.s3 ? new S3Storage(r.s3) : new FolderStorage({ dir: r.dir });
}
