/**
 * The embedded store's thread started by the built CLI's launcher before the bundle loads (early-thread.ts):
 * started only for a command line that opens the embedded store in a worker, taken over by the store that
 * command opens (so PostgreSQL boots in the thread that has been compiling it), and never used once it has
 * failed: the store then starts a thread of its own as it would have anyway.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { opensEmbeddedStore, startEarlyStoreThread, takeEarlyStoreThread } from '../../src/store/early-thread.js';
import { DatabaseError } from '../../src/store/pglite-protocol.js';
import { storeWorkerFile } from '../../src/store/pglite-thread.js';
import { openPglite, type OpenedPglite } from '../../src/store/pglite.js';

const folders: string[] = [];
const stores: OpenedPglite[] = [];
function dataDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-early-'));
  folders.push(dir);
  return dir;
}

afterEach(async () => {
  for (const s of stores.splice(0)) {
    await s.connection.close();
    s.release();
  }
  await takeEarlyStoreThread()?.terminate();
  for (const dir of folders.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

describe('the store thread started early by the launcher', () => {
  it('is started only for `serve` on the embedded store in a worker', () => {
    const argv = (cmd: string) => ['node', 'dist/cli/main.js', cmd];
    expect(opensEmbeddedStore(argv('serve'), {})).toBe(true);
    expect(opensEmbeddedStore(argv('serve'), { PGLITE_THREAD: 'worker' })).toBe(true);
    expect(opensEmbeddedStore(argv('serve'), { DATABASE_URL: 'postgres://db/x' })).toBe(false);
    expect(opensEmbeddedStore(argv('serve'), { PGLITE_THREAD: 'main' })).toBe(false);
    expect(opensEmbeddedStore(argv('keys'), {})).toBe(false);
    expect(opensEmbeddedStore(['node', 'dist/cli/main.js'], {})).toBe(false);
  });

  it('is the thread the served store opens in: it boots PostgreSQL and answers, errors included', { timeout: 60_000 }, async () => {
    const early = startEarlyStoreThread(await storeWorkerFile());
    const opened = await openPglite({ dataDir: dataDir(), ownModules: true });
    stores.push(opened);
    expect(opened.thread).toBe(early);
    expect(takeEarlyStoreThread()).toBeUndefined(); // taken once

    await opened.connection.query('create table t (n integer primary key)');
    await opened.connection.query('insert into t values ($1)', [1]);
    expect((await opened.connection.query('select n from t')).rows).toEqual([{ n: 1 }]);
    // PostgreSQL's own error, told apart as such although PGlite was loaded by the thread's own preparation.
    const err = await opened.connection.query('insert into t values ($1)', [1]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatabaseError);
    expect(err).toMatchObject({ code: '23505' });
  });

  it('is not used once it has failed: the store starts a thread of its own', { timeout: 60_000 }, async () => {
    const broken = path.join(dataDir(), 'broken-worker.mjs');
    fs.writeFileSync(broken, "throw new Error('this worker fails as it loads');\n");
    const early = startEarlyStoreThread(pathToFileURL(broken));
    await new Promise((resolve) => early.once('exit', resolve)); // (its 'error' came first: the slot heard it)

    const opened = await openPglite({ dataDir: dataDir(), ownModules: true });
    stores.push(opened);
    expect(opened.thread).toBeDefined();
    expect(opened.thread).not.toBe(early);
    expect((await opened.connection.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
  });
});
