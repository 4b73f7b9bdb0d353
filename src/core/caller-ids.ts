/**
 * Caller IDs an organisation may show on its calls besides its own numbers: a number is verified by a
 * call the carrier places to it, in which the owner types a 6-digit validation code (Twilio's outgoing
 * caller ID validation; on the simulated network a scenario decides). A verification is `pending` until
 * the carrier reports the result, then `verified` (the number becomes a caller ID of the organisation,
 * with `verified_at`) or `failed`.
 */
import { randomInt } from 'node:crypto';
import type { CallerIdVerificationRequest, CallerIdVerificationResult } from '../carriers/carrier.js';
import { isE164, maskPhone } from '../lib/phone.js';
import { isUuid, newId } from '../lib/ids.js';
import type { Logger } from '../lib/logger.js';
import type { CallerIdRow, CallerIdVerificationRow, Db } from '../store/index.js';
import { SwitchboardError, notFound, validationError } from './errors.js';

export const VERIFICATION_STATUSES = ['pending', 'verified', 'failed'] as const;
export type VerificationStatus = (typeof VERIFICATION_STATUSES)[number];

/** The carrier's verification call (`Carrier.verifyCallerId`), absent when the carrier cannot verify. */
export type VerifyCallerId = (req: CallerIdVerificationRequest) => Promise<CallerIdVerificationResult>;

export interface CallerIdsDeps {
  db: Db;
  log: Logger;
  carrierName: string;
  verify?: VerifyCallerId;
}

/**
 * A verification with no result this long after it started counts as failed: longer than any carrier
 * waits for the owner (Twilio's validation call gives up well within 10 minutes).
 */
export const ABANDONED_AFTER_MS = 15 * 60_000;

/** A 6-digit code, leading zeros kept. */
export function newValidationCode(): string {
  return String(randomInt(0, 1_000_000)).padStart(6, '0');
}

export class CallerIds {
  /** Verification calls still running (awaited by `drain`, e.g. at shutdown or in tests). */
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly d: CallerIdsDeps) {}

  /** Starts verifying `phoneNumber` for the organisation: stores a pending verification and places the call. */
  async start(orgId: string, phoneNumber: string): Promise<CallerIdVerificationRow> {
    if (!isE164(phoneNumber)) throw validationError('phone_number', 'Invalid phone_number: must be an E.164 phone number, e.g. +46700000000');
    const verify = this.d.verify;
    if (!verify) {
      throw new SwitchboardError('SB_ERR_PROVIDER', 'The carrier cannot verify caller IDs', { carrier: this.d.carrierName });
    }
    const row = await this.d.db
      .insertInto('caller_id_verifications')
      .values({
        id: newId(),
        org_id: orgId,
        phone_number: phoneNumber,
        status: 'pending',
        validation_code: newValidationCode(),
        carrier: this.d.carrierName,
        finished_at: null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    this.d.log.info({ verificationId: row.id, number: maskPhone(phoneNumber) }, 'caller-ID verification started');
    // The answer carries the code the owner will really be asked for (a carrier may choose its own).
    let codeKnown!: (code: string) => void;
    const code = new Promise<string>((r) => (codeKnown = r));
    const p = verify({ verificationId: row.id, phoneNumber, code: row.validation_code, onCode: (c) => codeKnown(c) })
      .catch((err: unknown) => {
        this.d.log.error({ err, verificationId: row.id }, 'caller-ID verification call failed');
        return 'failed' as const;
      })
      .then((result) => this.finish(row, result))
      .catch((err: unknown) => this.d.log.error({ err, verificationId: row.id }, 'caller-ID verification result not stored'))
      .finally(() => this.running.delete(p));
    this.running.add(p);
    const known = await Promise.race([code, p.then(() => null), new Promise<null>((r) => setTimeout(() => r(null), 15_000).unref())]);
    if (known && known !== row.validation_code) {
      return this.d.db
        .updateTable('caller_id_verifications')
        .set({ validation_code: known })
        .where('id', '=', row.id)
        .returningAll()
        .executeTakeFirstOrThrow();
    }
    return row;
  }

  /** Records the carrier's result; a verification that already ended is left as it is. */
  private async finish(row: CallerIdVerificationRow, result: CallerIdVerificationResult): Promise<void> {
    const status: VerificationStatus = result === 'verified' ? 'verified' : 'failed';
    await this.d.db.transaction().execute(async (trx) => {
      const now = new Date();
      const updated = await trx
        .updateTable('caller_id_verifications')
        .set({ status, finished_at: now })
        .where('id', '=', row.id)
        .where('status', '=', 'pending')
        .returning('id')
        .executeTakeFirst();
      if (!updated || status !== 'verified') return;
      await trx
        .insertInto('caller_ids')
        .values({ org_id: row.org_id, phone_number: row.phone_number, verification_id: row.id, verified_at: now })
        .onConflict((oc) => oc.columns(['org_id', 'phone_number']).doUpdateSet({ verification_id: row.id, verified_at: now }))
        .execute();
    });
    this.d.log.info({ verificationId: row.id, status }, 'caller-ID verification ended');
  }

  /**
   * A verification of this organisation; another organisation's is simply not found. One still pending
   * long after any carrier would have answered (its node restarted mid-call, say) is failed here, when it
   * is read: no node is waiting for it any more, so nothing else would ever end it.
   */
  async status(orgId: string, id: string): Promise<CallerIdVerificationRow> {
    const row = isUuid(id)
      ? await this.d.db.selectFrom('caller_id_verifications').selectAll().where('id', '=', id).where('org_id', '=', orgId).executeTakeFirst()
      : undefined;
    if (!row) throw notFound('Verification');
    if (row.status !== 'pending' || Date.now() - new Date(row.created_at).getTime() < ABANDONED_AFTER_MS) return row;
    const failed = await this.d.db
      .updateTable('caller_id_verifications')
      .set({ status: 'failed', finished_at: new Date() })
      .where('id', '=', row.id)
      .where('status', '=', 'pending')
      .returningAll()
      .executeTakeFirst();
    if (failed) this.d.log.warn({ verificationId: row.id }, 'caller-ID verification abandoned (no result in time)');
    return failed ?? this.status(orgId, id);
  }

  /** The organisation's verified caller IDs, oldest first. */
  async list(orgId: string): Promise<CallerIdRow[]> {
    return this.d.db.selectFrom('caller_ids').selectAll().where('org_id', '=', orgId).orderBy('verified_at').orderBy('phone_number').execute();
  }

  async isVerified(orgId: string, phoneNumber: string): Promise<boolean> {
    const r = await this.d.db.selectFrom('caller_ids').select('phone_number').where('org_id', '=', orgId).where('phone_number', '=', phoneNumber).executeTakeFirst();
    return !!r;
  }

  /** Removes a verified caller ID of the organisation; unknown → not found. */
  async remove(orgId: string, phoneNumber: string): Promise<void> {
    const r = await this.d.db.deleteFrom('caller_ids').where('org_id', '=', orgId).where('phone_number', '=', phoneNumber).executeTakeFirst();
    if (Number(r.numDeletedRows) === 0) throw notFound('Caller ID');
  }

  /** Waits for the verification calls in progress to end and their results to be stored. */
  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }
}
