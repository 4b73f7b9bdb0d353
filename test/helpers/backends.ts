/**
 * The stores every store-touching suite runs against: embedded PGlite always, PostgreSQL when
 * TEST_DATABASE_URL is set (CI sets it). Each opened PostgreSQL store gets a schema of its own, dropped
 * on close, so runs never collide.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import pg from 'pg';
import { inject } from 'vitest';
import { openStore, type Store } from '../../src/store/index.js';

let template: Blob | undefined;

/**
 * The migrated database made once per run by pglite-template.setup.ts, read once per test file; undefined when
 * the file is run without that setup (the store then starts from the install-time template and migrates).
 */
export function pgliteTemplate(): Blob | undefined {
  if (template) return template;
  const file = inject('pgliteTemplate');
  if (file && fs.existsSync(file)) template = new Blob([fs.readFileSync(file)]);
  return template;
}

/** A fresh embedded store in memory, already migrated (from the run's template). */
export function openTestPglite(): Promise<Store> {
  return openStore({ inMemory: true, template: pgliteTemplate() });
}

export interface Backend {
  name: 'pglite' | 'postgres';
  open(): Promise<Store>;
}

const pgUrl = process.env.TEST_DATABASE_URL;

export const BACKENDS: Backend[] = [
  { name: 'pglite', open: openTestPglite },
  ...(pgUrl
    ? [
        {
          name: 'postgres' as const,
          async open() {
            const schema = 't_' + randomBytes(6).toString('hex');
            const store = await openStore({ databaseUrl: pgUrl, schema, poolSize: 5 });
            return {
              ...store,
              close: async () => {
                await store.close();
                const c = new pg.Client({ connectionString: pgUrl });
                // A connection lost while idle is an 'error' event: without a listener it would end the run.
                c.on('error', (err) => console.warn('database client error', err.message));
                await c.connect();
                await c.query(`drop schema if exists ${schema} cascade`);
                await c.end();
              },
            };
          },
        },
      ]
    : []),
];
