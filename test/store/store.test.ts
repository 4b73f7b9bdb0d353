import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { migrate, type Store } from '../../src/store/index.js';
import { enqueueJob } from '../../src/jobs/runner.js';
import { newCallSid, newId } from '../../src/lib/ids.js';
import { BACKENDS } from '../helpers/backends.js';

for (const backend of BACKENDS) {
  describe(`store [${backend.name}]`, () => {
    let store: Store;
    let orgId: string;
    beforeAll(async () => {
      store = await backend.open();
      orgId = newId();
      await store.db.insertInto('orgs').values({ id: orgId, name: 'o-' + orgId, webhook_secret: null }).execute();
    });
    afterAll(() => store.close());

    const newCall = () => ({
      id: newId(), sid: newCallSid(), org_id: orgId, direction: 'outbound', from_number: null, to_number: '+15550100', status: 'queued',
      request: JSON.stringify({ task: 't' }), carrier: 'sim', brain: null, answered_by: null, outcome: null, end_reason: null, last_error: null,
      goal_completed: null, summary: null, extracted: null, duration_seconds: null, credits_charged: null, owner_node: null, answered_at: null, ended_at: null,
    });

    it('migrates idempotently (running the migrations again changes nothing)', async () => {
      await migrate(store.db, store.schema);
      const tables = await sql<{ table_name: string }>`select table_name from information_schema.tables where table_schema = current_schema() order by 1`.execute(store.db);
      expect(tables.rows.map((r) => r.table_name)).toEqual(
        expect.arrayContaining(['api_keys', 'call_events', 'calls', 'idempotency_keys', 'jobs', 'orgs', 'webhook_deliveries']),
      );
    });

    it('still refuses a database migrated by newer code (a migration this code does not know)', async () => {
      const table = sql.table(`${store.schema ? store.schema + '.' : ''}kysely_migration`);
      await sql`insert into ${table} (name, timestamp) values ('9999_from_the_future', '2030-01-01T00:00:00.000Z')`.execute(store.db);
      try {
        await expect(migrate(store.db, store.schema)).rejects.toThrow(/migration/);
      } finally {
        await sql`delete from ${table} where name = '9999_from_the_future'`.execute(store.db);
      }
      await migrate(store.db, store.schema); // and is current again without it
    });

    it('still applies a migration that is pending (its record missing), and then answers from the quick check', async () => {
      const table = sql.table(`${store.schema ? store.schema + '.' : ''}kysely_migration`);
      const turns = sql.table(`${store.schema ? store.schema + '.' : ''}call_turns`);
      // 0020 undone, as on a database last migrated by the code before it.
      await sql`alter table ${turns} drop column stt_final_ms, drop column tts_first_byte_ms`.execute(store.db);
      await sql`delete from ${table} where name = '0020_turn_speech_latency'`.execute(store.db);
      await migrate(store.db, store.schema);
      const columns = await sql<{ column_name: string }>`
        select column_name from information_schema.columns
        where table_schema = current_schema() and table_name = 'call_turns' and column_name in ('stt_final_ms', 'tts_first_byte_ms')`.execute(store.db);
      expect(columns.rows.map((r) => r.column_name).sort()).toEqual(['stt_final_ms', 'tts_first_byte_ms']);
      const applied = await sql<{ name: string }>`select name from ${table} where name = '0020_turn_speech_latency'`.execute(store.db);
      expect(applied.rows).toHaveLength(1);
      await migrate(store.db, store.schema); // current now: nothing to do, nothing fails
    });

    it('round-trips a call with JSON and unique sids', async () => {
      const c = newCall();
      await store.db.insertInto('calls').values(c).execute();
      const back = await store.db.selectFrom('calls').selectAll().where('sid', '=', c.sid).executeTakeFirstOrThrow();
      expect(back.request).toEqual({ task: 't' });
      expect(back.next_seq).toBe(1);
      await expect(store.db.insertInto('calls').values({ ...newCall(), sid: c.sid }).execute()).rejects.toThrow();
    });

    it('keeps one row per idempotency key and organisation', async () => {
      const c = newCall();
      await store.db.insertInto('calls').values(c).execute();
      const row = { org_id: orgId, key: 'hdr:k1', body_hash: 'h', call_id: c.id };
      await store.db.insertInto('idempotency_keys').values(row).execute();
      const again = await store.db.insertInto('idempotency_keys').values(row).onConflict((oc) => oc.columns(['org_id', 'key']).doNothing()).executeTakeFirst();
      expect(Number(again.numInsertedOrUpdatedRows)).toBe(0);
    });

    it('serialises concurrent transactions (no lost sequence numbers)', async () => {
      const c = newCall();
      await store.db.insertInto('calls').values(c).execute();
      await Promise.all(
        Array.from({ length: 20 }, () =>
          store.db.transaction().execute(async (trx) => {
            const r = await trx.updateTable('calls').set({ next_seq: sql`next_seq + 1` }).where('id', '=', c.id).returning('next_seq').executeTakeFirstOrThrow();
            await trx.insertInto('call_events').values({ call_id: c.id, seq: r.next_seq - 1, kind: 'transcript', role: 'agent', text: 'x', data: null }).execute();
          }),
        ),
      );
      const seqs = (await store.db.selectFrom('call_events').select('seq').where('call_id', '=', c.id).orderBy('seq').execute()).map((r) => r.seq);
      expect(seqs).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    });

    it('rolls back a failed transaction entirely', async () => {
      const c = newCall();
      await expect(
        store.db.transaction().execute(async (trx) => {
          await trx.insertInto('calls').values(c).execute();
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      expect(await store.db.selectFrom('calls').select('id').where('id', '=', c.id).executeTakeFirst()).toBeUndefined();
    });

    it('enqueues one job per key', async () => {
      await enqueueJob(store.db, { kind: 'k', payload: { a: 1 }, key: 'only-once' });
      await enqueueJob(store.db, { kind: 'k', payload: { a: 2 }, key: 'only-once' });
      const jobs = await store.db.selectFrom('jobs').selectAll().where('key', '=', 'only-once').execute();
      expect(jobs).toHaveLength(1);
      expect(jobs[0].payload).toEqual({ a: 1 });
    });
  });
}
