import { sql, type Kysely } from 'kysely';

/**
 * Issue 11 §7–8. `pending_first_key`: the development organisation's first API key, sealed with the
 * deployment key, kept (and shown at each start) until the key is first used, so a start that fails after
 * making it does not lose it. `webhook_deliveries.dead_letter`: the row a delivery job leaves when it gives
 * up, holding the exact body sent (`payload`) so that it can be redelivered.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table pending_first_key (
      key_id uuid primary key references api_keys(id) on delete cascade,
      sealed text not null,
      created_at timestamptz not null default now()
    );
    alter table webhook_deliveries add column dead_letter boolean not null default false;
    alter table webhook_deliveries add column payload text;
  `.execute(db);
}
