import { sql, type Kysely } from 'kysely';

/** The first schema. Migrations are numbered and never edited once merged: add a new file instead. */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table orgs (
      id uuid primary key,
      name text not null unique,
      webhook_secret text,
      credits integer not null default 0,
      created_at timestamptz not null default now()
    );
    create table api_keys (
      id uuid primary key,
      org_id uuid not null references orgs(id) on delete cascade,
      prefix text not null,
      hash text not null unique,
      name text,
      created_at timestamptz not null default now(),
      revoked_at timestamptz
    );
    create table calls (
      id uuid primary key,
      sid text not null unique,
      org_id uuid not null references orgs(id) on delete cascade,
      direction text not null,
      from_number text,
      to_number text not null,
      status text not null,
      request jsonb not null,
      carrier text not null,
      brain text,
      answered_by text,
      outcome text,
      end_reason text,
      last_error text,
      goal_completed boolean,
      summary text,
      extracted jsonb,
      duration_seconds integer,
      credits_charged integer,
      owner_node text,
      next_seq integer not null default 1,
      answered_at timestamptz,
      ended_at timestamptz,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    );
    create index calls_org_created on calls (org_id, created_at desc);
    create index calls_live on calls (status) where status in ('queued', 'ringing', 'in_progress');
    create table call_events (
      call_id uuid not null references calls(id) on delete cascade,
      seq integer not null,
      kind text not null,
      role text,
      text text,
      data jsonb,
      created_at timestamptz not null default now(),
      primary key (call_id, seq)
    );
    create table idempotency_keys (
      org_id uuid not null references orgs(id) on delete cascade,
      key text not null,
      body_hash text not null,
      call_id uuid not null references calls(id) on delete cascade,
      created_at timestamptz not null default now(),
      primary key (org_id, key)
    );
    create table jobs (
      id bigserial primary key,
      kind text not null,
      payload jsonb not null,
      key text unique,
      run_at timestamptz not null default now(),
      attempts integer not null default 0,
      max_attempts integer not null,
      locked_at timestamptz,
      locked_by text,
      last_error text,
      created_at timestamptz not null default now()
    );
    create index jobs_due on jobs (run_at) where locked_at is null;
    create table webhook_deliveries (
      id bigserial primary key,
      org_id uuid not null references orgs(id) on delete cascade,
      call_id uuid references calls(id) on delete set null,
      webhook_id text not null,
      event text not null,
      url text not null,
      attempt integer not null,
      status_code integer,
      error text,
      duration_ms integer,
      created_at timestamptz not null default now()
    );
    create index webhook_deliveries_org on webhook_deliveries (org_id, id desc);
  `.execute(db);
}
