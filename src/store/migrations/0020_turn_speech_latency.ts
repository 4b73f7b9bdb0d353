import { sql, type Kysely } from 'kysely';

/**
 * Issue 10 §7: on audio calls each turn also records the speech-to-text's delay to the final transcript and
 * the text-to-speech's time to first byte (null on calls whose carrier does the speech).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    alter table call_turns add column stt_final_ms double precision;
    alter table call_turns add column tts_first_byte_ms double precision;
  `.execute(db);
}
