import { sql, type Kysely } from 'kysely';

/**
 * Issue 13 §4: the carrier's own id of a call (Twilio's Call SID), kept beside Switchboard's `sid` so a
 * client may name the call by either (FACES.md "Across faces"). Null on the simulated network.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    alter table calls add column carrier_call_sid text;
    create index calls_carrier_call_sid on calls (carrier_call_sid) where carrier_call_sid is not null;
  `.execute(db);
}
