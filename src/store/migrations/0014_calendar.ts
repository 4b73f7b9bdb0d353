import { sql, type Kysely } from 'kysely';

/**
 * Issue 13 §3, calendar connections (docs/calendar.md). `calendar_grants`: one Google grant per API key, its
 * tokens sealed with the deployment key (never stored in clear). `calendar_oauth_states`: the pending consent
 * requests, by the SHA-256 of their `state` (single use: the callback deletes the row; expiring).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table calendar_grants (
      key_id uuid primary key references api_keys(id) on delete cascade,
      org_id uuid not null references orgs(id) on delete cascade,
      provider text not null default 'google',
      sealed_tokens text not null,
      scopes jsonb not null default '[]',
      access_expires_at timestamptz not null,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    );
    create index calendar_grants_org on calendar_grants (org_id);
    create table calendar_oauth_states (
      state_hash text primary key,
      key_id uuid not null references api_keys(id) on delete cascade,
      org_id uuid not null references orgs(id) on delete cascade,
      expires_at timestamptz not null,
      created_at timestamptz not null default now()
    );
    create index calendar_oauth_states_expiry on calendar_oauth_states (expires_at);
  `.execute(db);
}
