/**
 * Vitest global setup: one embedded database with every migration applied, made once per run and loaded by
 * each PGlite store the tests open (see backends.ts). Creating a PGlite database and migrating it costs seconds
 * (far more on a busy machine); loading this dump costs a fraction, and the suite opens dozens of stores.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { openStore } from '../../src/store/index.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The file holding the migrated database every PGlite test store starts from. */
    pgliteTemplate: string;
  }
}

export default async function setup(project: TestProject): Promise<() => void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-test-template-'));
  const file = path.join(dir, 'migrated.tar');
  const store = await openStore({ inMemory: true });
  try {
    fs.writeFileSync(file, Buffer.from(await (await store.dump!()).arrayBuffer()));
  } finally {
    await store.close();
  }
  project.provide('pgliteTemplate', file);
  return () => fs.rmSync(dir, { recursive: true, force: true });
}
