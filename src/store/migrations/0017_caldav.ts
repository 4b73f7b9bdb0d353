import { sql, type Kysely } from 'kysely';

/**
 * Issue 13 §3: CalDAV as a second calendar (docs/calendar.md). A CalDAV connection is a grant like Google's
 * (`provider = 'caldav'`, its URL and credentials sealed in `sealed_tokens`), but nothing of it expires:
 * `access_expires_at` is null for it.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table calendar_grants alter column access_expires_at drop not null`.execute(db);
}
