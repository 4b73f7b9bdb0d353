import { sql, type Kysely } from 'kysely';

/**
 * User-on-call (issue 12 §1): a session's state and legs as they last stood (`conference-status`), kept on
 * the call so that any node answers it, and so it still reads right after the call ended. Null on other calls.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table calls add column conference jsonb`.execute(db);
}
