import { sql, type Kysely } from 'kysely';

/**
 * Issue 13 §2. `recordings`: one per recorded call, its audio kept in the recording storage (a folder under
 * DATA_DIR or S3-compatible object storage) under `storage_key` + `.wav` / `.mp3`. Deleting the call deletes
 * the row (cascade); the objects are deleted by a purge job enqueued in the same transaction.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table recordings (
      id uuid primary key,
      sid text not null unique,
      call_id uuid not null unique references calls(id) on delete cascade,
      org_id uuid not null references orgs(id) on delete cascade,
      source text not null,
      status text not null,
      storage_key text not null,
      duration_seconds double precision,
      formats jsonb not null default '{}'::jsonb,
      error text,
      created_at timestamptz not null default now(),
      ready_at timestamptz
    );
    create index recordings_created_at on recordings (created_at);
  `.execute(db);
}
