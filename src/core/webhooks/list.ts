import type { Kysely } from 'kysely';
import type { Database } from '../../store/schema.js';

export interface WebhookDeliveryListItem {
  /** bigint as a string */
  id: string;
  webhook_id: string;
  event: string;
  call_id: string | null;
  url: string;
  attempt: number;
  status_code: number | null;
  error: string | null;
  duration_ms: number | null;
  /** The delivery gave up: this row is its dead letter, `attempt` the attempts made, `error` the last error. */
  dead_letter: boolean;
  created_at: Date;
}

export interface ListDeliveriesOptions {
  /** 50 by default, at most 200. */
  limit?: number;
  /** Only this call's deliveries (`calls.id`). */
  callId?: string;
}

/** An organisation's delivery attempts, newest first (by id: ids follow insertion, timestamps may tie). */
export async function listDeliveries(db: Kysely<Database>, orgId: string, opts: ListDeliveriesOptions = {}): Promise<WebhookDeliveryListItem[]> {
  const limit = Math.min(Math.max(Math.trunc(opts.limit ?? 50), 1), 200);
  let q = db
    .selectFrom('webhook_deliveries')
    .select(['id', 'webhook_id', 'event', 'call_id', 'url', 'attempt', 'status_code', 'error', 'duration_ms', 'dead_letter', 'created_at'])
    .where('org_id', '=', orgId);
  if (opts.callId) q = q.where('call_id', '=', opts.callId);
  const rows = await q.orderBy('id', 'desc').limit(limit).execute();
  return rows.map((r) => ({ ...r, id: String(r.id) }));
}
