import { sql, type Kysely } from 'kysely';

/**
 * Agents, phone numbers and tasks (issue 6); the agent and task a call was made for; job priorities
 * (scheduled tasks: when many are due, the highest priority runs first).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table agents (
      id uuid primary key,
      org_id uuid not null references orgs(id) on delete cascade,
      name text not null,
      system_prompt text not null,
      description text,
      starting_message text,
      language text not null default 'sv',
      voice_settings jsonb not null default '{}'::jsonb,
      dtmf_rules jsonb not null default '{}'::jsonb,
      enabled boolean not null default true,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    );
    create index agents_org_created on agents (org_id, created_at desc);
    create table phone_numbers (
      id uuid primary key,
      org_id uuid not null references orgs(id) on delete cascade,
      number text not null unique,
      carrier text not null,
      credentials text,
      inbound_agent_id uuid references agents(id) on delete set null,
      outbound_agent_id uuid references agents(id) on delete set null,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    );
    create index phone_numbers_org on phone_numbers (org_id);
    create table tasks (
      id uuid primary key,
      org_id uuid not null references orgs(id) on delete cascade,
      agent_id uuid not null references agents(id) on delete cascade,
      name text not null,
      to_number text not null,
      description text,
      starting_message text,
      context_data jsonb not null default '{}'::jsonb,
      priority integer not null default 0,
      scheduled_at timestamptz,
      webhook_url text,
      webhook_events jsonb not null default '[]'::jsonb,
      status text not null default 'pending',
      call_id uuid,
      last_error text,
      started_at timestamptz,
      completed_at timestamptz,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    );
    create index tasks_org_created on tasks (org_id, created_at desc);
    create index tasks_agent_active on tasks (agent_id) where status in ('pending', 'in_progress');
    alter table calls add column agent_id uuid;
    alter table calls add column task_id uuid;
    create index calls_task on calls (task_id) where task_id is not null;
    create index calls_agent on calls (agent_id) where agent_id is not null;
    alter table jobs add column priority integer not null default 0;
    create index jobs_claim_order on jobs (priority desc, run_at, id);
  `.execute(db);
}
