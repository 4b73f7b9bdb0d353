/**
 * Credits (001 "Billing & credits", 003 `cost_usd` and `payment_required`): every call is metered and
 * priced when it ends; with billing on, its price is charged to the organisation's ledger and a call is
 * refused (402) when the organisation's subscription is inactive or its balance is below the minimum.
 * With billing off (the default for a self-hosted single user) calls are still metered and priced (the
 * documents' `credits` and `cost_usd` fields), but no balance is kept and nothing is refused.
 */
import { sql } from 'kysely';
import type { BillingConfig, RateTable } from '../../config/billing.js';
import type { CallRow, CallUsageRow, CreditLedgerRow, Db } from '../../store/index.js';
import { isUuid } from '../../lib/ids.js';
import { SwitchboardError, notFound, validationError } from '../errors.js';
import { appendEntry, balanceOf, entriesOf, inTransaction } from './ledger.js';
import { priceUsage, type CallPrice } from './price.js';
import type { CallUsage } from './usage.js';

export { priceUsage, type CallPrice } from './price.js';
export { UsageMeter, emptyUsage, type CallUsage, type UsageReporter } from './usage.js';
export { appendEntry, balanceOf, inTransaction, type EntryKind, type NewEntry } from './ledger.js';

export interface CreditsOptions {
  db: Db;
  billing: BillingConfig;
  /** Smallest balance that may start a call (MIN_CALL_CREDITS). */
  minCallCredits: number;
}

/** Most entries one listing returns. */
export const MAX_ENTRIES = 500;

export class Credits {
  constructor(private readonly o: CreditsOptions) {}

  /** Whether billing is on (BILLING_ENABLED). */
  get enabled(): boolean {
    return this.o.billing.enabled;
  }

  get rates(): RateTable {
    return this.o.billing.rates;
  }

  /**
   * The credit guard, before anything is stored or dialled: with billing on, an organisation whose
   * subscription is inactive, or whose balance is below the minimum, may not start a call (402).
   * A check, not a reservation: calls started at the same moment may together take the balance below
   * zero; each is still charged in full when it ends.
   */
  async guard(orgId: string): Promise<void> {
    if (!this.enabled) return;
    const r = await sql<{ subscription_active: boolean; balance: string }>`
      select o.subscription_active, (select coalesce(sum(l.amount), 0) from credit_ledger l where l.org_id = o.id) as balance
      from orgs o where o.id = ${orgId}`.execute(this.o.db);
    const org = r.rows[0];
    if (!org) throw notFound('Organisation');
    if (!org.subscription_active) throw new SwitchboardError('SB_ERR_SUBSCRIPTION_INACTIVE', 'Subscription inactive', {});
    const balance = Number(org.balance);
    if (balance < this.o.minCallCredits) {
      throw new SwitchboardError('SB_ERR_INSUFFICIENT_CREDITS', 'Insufficient credits', { credits_balance: balance, minimum_required: this.o.minCallCredits });
    }
  }

  price(usage: CallUsage): CallPrice {
    return priceUsage(usage, this.rates);
  }

  /**
   * Settles an ended call in the transaction that ends it: stores its usage record and, with billing on,
   * charges its price to the ledger (once per call: a second settlement of the same call charges nothing).
   */
  async settle(trx: Db, call: Pick<CallRow, 'id' | 'sid' | 'org_id'>, usage: CallUsage): Promise<CallPrice> {
    const price = this.price(usage);
    await trx
      .insertInto('call_usage')
      .values({
        call_id: call.id,
        org_id: call.org_id,
        connected_seconds: usage.connectedSeconds,
        media_seconds: usage.mediaSeconds,
        stt_seconds: usage.sttSeconds,
        llm_input_tokens: Math.round(usage.llmInputTokens),
        llm_output_tokens: Math.round(usage.llmOutputTokens),
        tts_characters: Math.round(usage.ttsCharacters),
        provider_cost_usd: price.providerCostUsd,
        credits: price.credits,
        cost_usd: price.costUsd,
        cost_breakdown: JSON.stringify(price.costBreakdown),
      })
      .onConflict((oc) => oc.column('call_id').doNothing())
      .execute();
    if (this.enabled && price.credits > 0) {
      await appendEntry(trx, { orgId: call.org_id, kind: 'charge', amount: -price.credits, call: { id: call.id, sid: call.sid } });
    }
    return price;
  }

  /** The call's usage record (once it has ended). */
  async usageOf(callId: string): Promise<CallUsageRow | undefined> {
    return this.o.db.selectFrom('call_usage').selectAll().where('call_id', '=', callId).executeTakeFirst();
  }

  async balance(orgId: string): Promise<number> {
    return balanceOf(this.o.db, orgId);
  }

  /** The organisation's ledger, newest first. */
  async entries(orgId: string, limit = 50): Promise<CreditLedgerRow[]> {
    return entriesOf(this.o.db, orgId, Math.min(Math.max(1, Math.floor(limit)), MAX_ENTRIES));
  }

  /** Adds credits (a negative amount corrects an earlier grant); returns the entry. */
  async grant(orgId: string, amount: number, note?: string): Promise<CreditLedgerRow> {
    if (!Number.isSafeInteger(amount) || amount === 0) throw validationError('amount', 'amount must be a whole number other than 0');
    return (await appendEntry(this.o.db, { orgId, kind: 'grant', amount, note: note ?? 'grant' }))!;
  }

  /**
   * Brings the balance to `target` with one grant of the difference (none when already there). In one
   * transaction that locks the organisation's row, so two adjustments at once do not both add.
   */
  async setBalance(orgId: string, target: number, note = 'balance set'): Promise<void> {
    await setBalance(this.o.db, orgId, target, note);
  }

  /**
   * Gives back what a call was charged, once (a second refund of the same call is refused). `call` is the
   * call's id or sid; the call may since have been deleted (the charge still names it).
   */
  async refund(orgId: string, call: string, note?: string): Promise<CreditLedgerRow> {
    const charge = await this.o.db
      .selectFrom('credit_ledger')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('kind', '=', 'charge')
      .where(isUuid(call) ? 'call_id' : 'call_sid', '=', call)
      .executeTakeFirst();
    if (!charge?.call_id || !charge.call_sid) throw notFound('Charge');
    const refund = await appendEntry(this.o.db, { orgId, kind: 'refund', amount: -charge.amount, call: { id: charge.call_id, sid: charge.call_sid }, note: note ?? 'refund' });
    if (!refund) throw new SwitchboardError('SB_ERR_ALREADY_REFUNDED', 'Call already refunded', { call_sid: charge.call_sid });
    return refund;
  }

  /** An inactive subscription refuses new calls (402 "Subscription inactive") while billing is on. */
  async setSubscription(orgId: string, active: boolean): Promise<void> {
    await this.o.db.updateTable('orgs').set({ subscription_active: active }).where('id', '=', orgId).execute();
  }
}

/** See `Credits.setBalance`; on any handle (the organisations' service uses it too). */
export async function setBalance(db: Db, orgId: string, target: number, note: string): Promise<void> {
  if (!Number.isSafeInteger(target)) throw validationError('credits', 'credits must be a whole number');
  await inTransaction(db, async (trx) => {
    await trx.selectFrom('orgs').select('id').where('id', '=', orgId).forUpdate().executeTakeFirst();
    const diff = target - (await balanceOf(trx, orgId));
    if (diff !== 0) await appendEntry(trx, { orgId, kind: 'grant', amount: diff, note });
  });
}
