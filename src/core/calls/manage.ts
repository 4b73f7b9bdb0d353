/**
 * Managing stored calls (Truedy's face needs these; any face may use them): listing with filters and the
 * total, deleting one or many (never a live call: the state rule is `LIVE_STATES`), changing what is kept on
 * the call's request (context, per-call settings), and waiting for the first word from the carrier after a
 * call was handed over to be dialled.
 */
import { isUuid } from '../../lib/ids.js';
import type { CallRow, Db } from '../../store/index.js';
import { page } from '../agents.js';
import { SwitchboardError, notFound } from '../errors.js';
import type { CallRequest } from './request.js';
import { LIVE_STATES, type CallState } from './states.js';
import { dialJobKey } from './service.js';
import { Recordings } from '../recordings/service.js';

export interface CallQuery {
  /** Core states; an empty list matches nothing. */
  states?: string[];
  direction?: 'inbound' | 'outbound';
  agentId?: string;
  limit?: number;
  offset?: number;
}

export interface BulkDeleteResult {
  deleted_ids: string[];
  failed_ids: string[];
}

/** How a stored call stands right after it was handed to the dialler (see `CallManager.afterLaunch`). */
export type LaunchOutcome = 'dialled' | 'waiting' | 'failed' | 'unknown';

export function isLive(status: string): boolean {
  return LIVE_STATES.has(status as CallState);
}

export class CallManager {
  /** `wakeJobs`: the recording runner looks for the purge job a deletion committed. */
  constructor(
    private readonly db: Db,
    private readonly wakeJobs?: () => void,
  ) {}

  /** An organisation's calls, newest first, with the total matching the filters. */
  async list(orgId: string, f: CallQuery): Promise<{ items: CallRow[]; total: number; limit: number; offset: number }> {
    const { limit, offset } = page(f);
    if ((f.agentId !== undefined && !isUuid(f.agentId)) || f.states?.length === 0) return { items: [], total: 0, limit, offset };
    let q = this.db.selectFrom('calls').where('org_id', '=', orgId);
    if (f.agentId !== undefined) q = q.where('agent_id', '=', f.agentId);
    if (f.direction !== undefined) q = q.where('direction', '=', f.direction);
    if (f.states) q = q.where('status', 'in', f.states);
    const [items, total] = await Promise.all([
      q.selectAll().orderBy('created_at', 'desc').orderBy('id').limit(limit).offset(offset).execute(),
      q.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { items, total: Number(total.n), limit, offset };
  }

  /**
   * Deletes a call with its events and its recording (the store cascades; the recording's files by a job). A live call (queued, ringing, in progress) is
   * refused with `SB_ERR_CALL_ACTIVE`; another organisation's call is not found.
   */
  async delete(orgId: string, id: string): Promise<void> {
    if (!isUuid(id)) throw notFound('Call');
    let purging = false;
    await this.db.transaction().execute(async (trx) => {
      const c = await trx.selectFrom('calls').select(['id', 'status']).where('id', '=', id).where('org_id', '=', orgId).forUpdate().executeTakeFirst();
      if (!c) throw notFound('Call');
      if (isLive(c.status)) throw new SwitchboardError('SB_ERR_CALL_ACTIVE', 'Cannot delete an active call', { id, status: c.status });
      // The recording's row goes with the call (cascade); its files by a job committed with the deletion.
      purging = await Recordings.purgeWithCalls(trx, [id]);
      await trx.deleteFrom('calls').where('id', '=', id).execute();
    });
    if (purging) this.wakeJobs?.();
  }

  /** Deletes each call it can; live, unknown and other organisations' calls are listed as failed. */
  async deleteMany(orgId: string, ids: string[]): Promise<BulkDeleteResult> {
    const out: BulkDeleteResult = { deleted_ids: [], failed_ids: [] };
    for (const id of [...new Set(ids)]) {
      try {
        await this.delete(orgId, id);
        out.deleted_ids.push(id);
      } catch (err) {
        if (!(err instanceof SwitchboardError)) throw err;
        out.failed_ids.push(id);
      }
    }
    return out;
  }

  /** Changes the stored request of a call (context, per-call settings) under a row lock. */
  async updateRequest(orgId: string, id: string, change: (req: CallRequest) => CallRequest): Promise<CallRow> {
    if (!isUuid(id)) throw notFound('Call');
    return this.db.transaction().execute(async (trx) => {
      const c = await trx.selectFrom('calls').selectAll().where('id', '=', id).where('org_id', '=', orgId).forUpdate().executeTakeFirst();
      if (!c) throw notFound('Call');
      const next = change(c.request);
      return trx
        .updateTable('calls')
        .set({ request: JSON.stringify(next), updated_at: new Date() })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirstOrThrow();
    });
  }

  /**
   * A call waiting for a free line: no node has taken its dial job (durable dialling). Asked only once the
   * wait is over: a node polling for work holds its free lines for a moment, so a call started just then is
   * stored untaken and dialled a moment later, and must not read as waiting at once.
   */
  private async waitingForLine(c: CallRow): Promise<boolean> {
    if (c.owner_node) return false;
    const job = await this.db.selectFrom('jobs').select('locked_by').where('key', '=', dialJobKey(c.id)).executeTakeFirst();
    return !!job && !job.locked_by;
  }

  /**
   * Waits (at most `ms`) until a call just handed to the dialler has been dialled or refused by the
   * carrier: it left `queued` (ringing, or an end such as `failed` with `dial_failed`), or, at the end of the wait, whether
   * it is waiting for a free line. Returns the call as it then stands.
   */
  async afterLaunch(callId: string, ms: number): Promise<{ call: CallRow; outcome: LaunchOutcome }> {
    const end = Date.now() + ms;
    for (;;) {
      const c = await this.db.selectFrom('calls').selectAll().where('id', '=', callId).executeTakeFirstOrThrow();
      if (c.status === 'failed' && c.end_reason === 'dial_failed') return { call: c, outcome: 'failed' };
      if (c.status !== 'queued') return { call: c, outcome: 'dialled' };
      if (Date.now() >= end) return { call: c, outcome: (await this.waitingForLine(c)) ? 'waiting' : 'unknown' };
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
