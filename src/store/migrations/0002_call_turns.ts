import { sql, type Kysely } from 'kysely';

/** Per-turn latency figures of each call (004's names). */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table call_turns (
      call_id uuid not null references calls(id) on delete cascade,
      turn integer not null,
      transcript_to_gpt_ms double precision,
      gpt_first_token_ms double precision,
      first_audio_playback_ms double precision,
      created_at timestamptz not null default now(),
      primary key (call_id, turn)
    );
  `.execute(db);
}
