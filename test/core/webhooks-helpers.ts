/** Shared set-up of the webhook tests: one store per backend, orgs and calls created directly. */
import { randomBytes, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { openStore, type Db, type Store } from '../../src/store/index.js';
import { newCallSid } from '../../src/lib/ids.js';
import { openTestPglite } from '../helpers/backends.js';

export interface Backend {
  name: string;
  open(): Promise<Store>;
}

/** PGlite in memory always; PostgreSQL too when TEST_DATABASE_URL is set, in a schema of its own per run. */
export const backends: Backend[] = [{ name: 'pglite', open: openTestPglite }];
const databaseUrl = process.env.TEST_DATABASE_URL;
if (databaseUrl) {
  backends.push({
    name: 'postgres',
    open: async () => {
      const schema = 't_' + randomBytes(6).toString('hex');
      const store = await openStore({ databaseUrl, schema, poolSize: 4 });
      return {
        ...store,
        close: async () => {
          await sql`drop schema ${sql.id(schema)} cascade`.execute(store.db);
          await store.close();
        },
      };
    },
  });
}

export async function createOrg(db: Db, webhookSecret: string | null): Promise<string> {
  const id = randomUUID();
  await db.insertInto('orgs').values({ id, name: `org-${id}`, webhook_secret: webhookSecret }).execute();
  return id;
}

export async function createCall(db: Db, orgId: string): Promise<string> {
  const id = randomUUID();
  await db
    .insertInto('calls')
    .values({ id, sid: newCallSid(), org_id: orgId, direction: 'outbound', to_number: '+46700000000', status: 'queued', request: '{}', carrier: 'sim' })
    .execute();
  return id;
}
