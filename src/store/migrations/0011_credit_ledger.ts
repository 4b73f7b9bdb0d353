import { sql, type Kysely } from 'kysely';

/**
 * Issue 13 §1: usage-based credits.
 * - `credit_ledger`: every change to an organisation's credits (grants, charges, refunds), append-only
 *   (a trigger refuses updates and deletes); the balance is the sum of an organisation's entries. A call
 *   has at most one charge and one refund (`unique (call_id, kind)`), so an end reported twice is charged
 *   once. `call_sid` is kept beside `call_id` so the entry still names its call after the call is deleted.
 * - `orgs.credits` becomes each organisation's opening grant (or an opening charge when it was negative)
 *   and is dropped: the ledger is the one place the balance comes from.
 * - `orgs.subscription_active`: an inactive subscription refuses new calls when billing is on.
 * - `call_usage`: what one call used (connected, carrier media, speech-to-text seconds, model tokens,
 *   synthesis characters), its provider cost and its price, written when the call ends.
 * - `calls.cost_usd`: the billed cost at the rates of the day (Truedy's `cost_usd`), kept with the call.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table credit_ledger (
      id uuid primary key,
      org_id uuid not null references orgs(id),
      kind text not null check (kind in ('grant', 'charge', 'refund')),
      amount integer not null,
      call_id uuid,
      call_sid text,
      note text,
      created_at timestamptz not null default now(),
      unique (call_id, kind)
    );
    create index credit_ledger_org on credit_ledger (org_id, created_at desc);

    create function credit_ledger_append_only() returns trigger language plpgsql as $$
    begin
      raise exception 'credit_ledger is append-only';
    end;
    $$;
    create trigger credit_ledger_append_only before update or delete on credit_ledger
      for each row execute function credit_ledger_append_only();

    insert into credit_ledger (id, org_id, kind, amount, note, created_at)
      select gen_random_uuid(), id, case when credits > 0 then 'grant' else 'charge' end, credits, 'opening balance', now()
      from orgs where credits <> 0;
    alter table orgs drop column credits;
    alter table orgs add column subscription_active boolean not null default true;

    create table call_usage (
      call_id uuid primary key references calls(id) on delete cascade,
      org_id uuid not null references orgs(id) on delete cascade,
      connected_seconds double precision not null default 0,
      media_seconds double precision not null default 0,
      stt_seconds double precision not null default 0,
      llm_input_tokens integer not null default 0,
      llm_output_tokens integer not null default 0,
      tts_characters integer not null default 0,
      provider_cost_usd double precision not null,
      credits integer not null,
      cost_usd double precision not null,
      cost_breakdown jsonb not null,
      created_at timestamptz not null default now()
    );
    alter table calls add column cost_usd double precision;
  `.execute(db);
}
