/**
 * A store being opened (`startStore`): the server builds itself on its `db` while PGlite boots, so that `db`
 * must hold its statements until the store is open and migrated, and a store that cannot open must fail
 * them and leave nothing behind (the data folder free again).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { DataDirBusyError, startStore } from '../../src/store/index.js';

const dirs: string[] = [];
const tempDir = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-opening-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

describe('a store being opened [pglite]', () => {
  it("holds a statement on its db until the store is open and migrated, then answers it; close lets the folder go", async () => {
    const dataDir = tempDir();
    const opening = startStore({ dataDir });
    expect(opening.kind).toBe('pglite');
    // Sent before the store opened: `orgs` exists only once the migrations ran.
    const early = opening.db.selectFrom('orgs').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
    const store = await opening.ready;
    expect(store.db).toBe(opening.db);
    expect(Number((await early).n)).toBe(0);
    const applied = await sql<{ name: string }>`select name from kysely_migration`.execute(store.db);
    expect(applied.rows.length).toBeGreaterThan(0);
    await store.close();
    expect(fs.existsSync(path.join(dataDir, 'switchboard.lock'))).toBe(false);
    // The folder is free: the next open of it succeeds and finds the same database.
    const again = await startStore({ dataDir }).ready;
    expect((await sql<{ name: string }>`select name from kysely_migration`.execute(again.db)).rows.length).toBe(applied.rows.length);
    await again.close();
  });

  it('closes the store even when no statement ever ran on its db', async () => {
    const dataDir = tempDir();
    const store = await startStore({ dataDir }).ready;
    await store.close();
    expect(fs.existsSync(path.join(dataDir, 'switchboard.lock'))).toBe(false);
  });

  it('fails its ready and the statements waiting on it when the folder is busy, and leaves the holder alone', async () => {
    const dataDir = tempDir();
    const holder = await startStore({ dataDir }).ready;
    try {
      const opening = startStore({ dataDir });
      const early = opening.db.selectFrom('orgs').selectAll().execute();
      await expect(opening.ready).rejects.toBeInstanceOf(DataDirBusyError);
      await expect(early).rejects.toBeInstanceOf(DataDirBusyError);
      // The holder still works and still holds the folder.
      expect((await sql<{ one: number }>`select 1 as one`.execute(holder.db)).rows[0]?.one).toBe(1);
      expect(fs.existsSync(path.join(dataDir, 'switchboard.lock'))).toBe(true);
    } finally {
      await holder.close();
    }
  });
});
