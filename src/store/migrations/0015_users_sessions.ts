import { sql, type Kysely } from 'kysely';

/**
 * Issue 12 §4: people at the dashboard. `users` are an organisation's people (the owner of a key signs in
 * as that user); `api_keys.user_id` names a key's owner. `dashboard_sessions` are sign-ins made with a key:
 * the cookie token is stored hashed (the CSRF token is worthless without the cookie, so it is kept to be shown again), and a session ends with its key (revoked) or its
 * expiry. `invitations` carry a hashed single-use token with an expiry.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table users (
      id uuid primary key,
      org_id uuid not null references orgs(id) on delete cascade,
      email text,
      name text not null,
      role text not null,
      created_at timestamptz not null default now()
    );
    create unique index users_org_email on users (org_id, lower(email));
    alter table api_keys add column user_id uuid references users(id) on delete set null;
    create table dashboard_sessions (
      token_hash text primary key,
      org_id uuid not null references orgs(id) on delete cascade,
      user_id uuid not null references users(id) on delete cascade,
      key_id uuid not null references api_keys(id) on delete cascade,
      csrf_token text not null,
      expires_at timestamptz not null,
      created_at timestamptz not null default now()
    );
    create index dashboard_sessions_key on dashboard_sessions (key_id);
    create table invitations (
      id uuid primary key,
      org_id uuid not null references orgs(id) on delete cascade,
      email text not null,
      role text not null,
      token_hash text not null unique,
      invited_by uuid references users(id) on delete set null,
      expires_at timestamptz not null,
      accepted_at timestamptz,
      created_at timestamptz not null default now()
    );
  `.execute(db);
}
