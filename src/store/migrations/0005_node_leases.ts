import { sql, type Kysely } from 'kysely';

/**
 * Durable calls across nodes (issue 11 §2): every node holds a lease in `nodes`, renewed by its heartbeat;
 * the calls a node owns (`calls.owner_node`) are closed by any other node once that lease has run out.
 * Dialling is a `call.dial` job in `jobs`, so no index is needed for it beyond the table's own.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table nodes (
      id text primary key,
      started_at timestamptz not null default now(),
      heartbeat_at timestamptz not null default now(),
      expires_at timestamptz not null
    );
    create index nodes_expires on nodes (expires_at);
    create index tasks_in_progress on tasks (id) where status = 'in_progress';
    create index jobs_locked_by on jobs (locked_by) where locked_by is not null;
  `.execute(db);
}
