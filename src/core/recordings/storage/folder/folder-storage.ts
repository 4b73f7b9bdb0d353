/** Recordings in a folder on this machine's disk (the default: `DATA_DIR/recordings`). */
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { StoredObjectMissing, type ByteRange, type RecordingStorage } from '../storage.js';

export interface FolderStorageOptions {
  /** The folder (created when first written). */
  dir: string;
}

export class FolderStorage implements RecordingStorage {
  readonly kind = 'folder';
  private readonly root: string;

  constructor(opts: FolderStorageOptions) {
    this.root = path.resolve(opts.dir);
  }

  /** The file of `key`; a key that would leave the folder is refused (keys are ours, but one check costs nothing). */
  private file(key: string): string {
    const f = path.resolve(this.root, key);
    if (!f.startsWith(this.root + path.sep)) throw new Error('recording key outside the storage folder');
    return f;
  }

  async put(key: string, body: Buffer): Promise<void> {
    const f = this.file(key);
    await fs.promises.mkdir(path.dirname(f), { recursive: true });
    // Written aside, then renamed: a reader never sees half a file.
    const tmp = `${f}.${process.pid}.${Date.now()}.part`;
    await fs.promises.writeFile(tmp, body, { mode: 0o600 });
    await fs.promises.rename(tmp, f);
  }

  async read(key: string, range?: ByteRange): Promise<Readable> {
    const f = this.file(key);
    // Opened first, so a missing file is told apart before any byte is sent.
    const handle = await fs.promises.open(f, 'r').catch((err: NodeJS.ErrnoException) => {
      throw err.code === 'ENOENT' ? new StoredObjectMissing(key) : err;
    });
    return handle.createReadStream(range ? { start: range.start, end: range.end } : {});
  }

  async delete(key: string): Promise<void> {
    await fs.promises.rm(this.file(key), { force: true });
  }
}
