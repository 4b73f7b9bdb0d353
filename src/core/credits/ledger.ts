/**
 * The credit ledger: every change to an organisation's credits is an entry (a grant, a charge, a refund),
 * never changed or removed (the database refuses: migration 0011). The balance is the sum of the entries,
 * so the ledger and the balance cannot disagree. A call has at most one charge and one refund, enforced by
 * a unique index, so a call whose end is reported twice is charged once, on every node.
 */
import { sql } from 'kysely';
import type { CreditLedgerRow, Db } from '../../store/index.js';
import { newId } from '../../lib/ids.js';

export type EntryKind = CreditLedgerRow['kind'];

export interface NewEntry {
  orgId: string;
  kind: EntryKind;
  /** Signed: grants and refunds add (a negative grant is a correction), charges take away. */
  amount: number;
  call?: { id: string; sid: string };
  note?: string;
}

/**
 * Appends an entry; returns it, or null when the call already has an entry of this kind (nothing written).
 * Give a transaction to write it with the change that causes it.
 */
export async function appendEntry(db: Db, e: NewEntry): Promise<CreditLedgerRow | null> {
  const row = await db
    .insertInto('credit_ledger')
    .values({ id: newId(), org_id: e.orgId, kind: e.kind, amount: e.amount, call_id: e.call?.id ?? null, call_sid: e.call?.sid ?? null, note: e.note ?? null })
    .onConflict((oc) => oc.columns(['call_id', 'kind']).doNothing())
    .returningAll()
    .executeTakeFirst();
  return row ?? null;
}

/** The organisation's balance: the sum of its entries. */
export async function balanceOf(db: Db, orgId: string): Promise<number> {
  const r = await db
    .selectFrom('credit_ledger')
    .select(sql<string>`coalesce(sum(amount), 0)`.as('balance'))
    .where('org_id', '=', orgId)
    .executeTakeFirstOrThrow();
  return Number(r.balance);
}

/** The organisation's entries, newest first. */
export async function entriesOf(db: Db, orgId: string, limit: number): Promise<CreditLedgerRow[]> {
  return db.selectFrom('credit_ledger').selectAll().where('org_id', '=', orgId).orderBy('created_at', 'desc').orderBy('id').limit(limit).execute();
}

/** Runs `work` in a transaction, or in the one `db` already is. */
export function inTransaction<T>(db: Db, work: (trx: Db) => Promise<T>): Promise<T> {
  return db.isTransaction ? work(db) : db.transaction().execute(work);
}
