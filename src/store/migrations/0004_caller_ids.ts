import { sql, type Kysely } from 'kysely';

/**
 * Caller-ID verification (issue 5): a verification call per request (pending → verified | failed) and the
 * numbers an organisation has verified as caller IDs (its own numbers are in `phone_numbers`).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table caller_id_verifications (
      id uuid primary key,
      org_id uuid not null references orgs(id) on delete cascade,
      phone_number text not null,
      status text not null default 'pending',
      validation_code text not null,
      carrier text not null,
      created_at timestamptz not null default now(),
      finished_at timestamptz
    );
    create index caller_id_verifications_org on caller_id_verifications (org_id, created_at desc);
    create table caller_ids (
      org_id uuid not null references orgs(id) on delete cascade,
      phone_number text not null,
      verification_id uuid,
      verified_at timestamptz not null default now(),
      primary key (org_id, phone_number)
    );
  `.execute(db);
}
