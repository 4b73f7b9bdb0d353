/**
 * Deliveries that give up leave a trace: a dead-letter row in the delivery log (`dead_letter: true`, the
 * attempts made, the last error) holding the exact body sent, from which `redeliverWebhook` queues the same
 * event again with the same `Webhook-Id`. A delivery gives up after its last retryable failure, at once on a
 * failure no retry cures (4xx, a refused target), and on any unexpected error (a bug must not lose events).
 */
import type { Kysely } from 'kysely';
import type { JobRow, Database } from '../../store/schema.js';
import type { JobRunner } from '../../jobs/runner.js';
import type { Logger } from '../../lib/logger.js';
import { notFound, SwitchboardError } from '../errors.js';
import { WEBHOOK_DELIVER_JOB, enqueueDelivery, hostOf, webhookDeliveryHandler, type WebhookJobPayload, type WebhookSenderOptions } from './deliver.js';

/** Longest error text kept on a dead letter (an unexpected error's message may be long). */
const MAX_ERROR = 300;

/** Registers the delivery job and its dead letter on a runner. */
export function registerWebhookDelivery(runner: JobRunner, opts: WebhookSenderOptions): void {
  runner.register(WEBHOOK_DELIVER_JOB, webhookDeliveryHandler(opts), { onGiveUp: (job, err) => recordDeadLetter(opts.db, opts.log, job, err) });
}

async function recordDeadLetter(db: Kysely<Database>, log: Logger | undefined, job: JobRow, err: unknown): Promise<void> {
  const p = payloadOf(job);
  if (!p) {
    log?.error({ jobId: job.id }, 'webhook job gave up with an unreadable payload: no dead letter');
    return;
  }
  const org = await db.selectFrom('orgs').select('id').where('id', '=', p.orgId).executeTakeFirst();
  if (!org) return; // organisation deleted: nobody to keep the trace for
  const call = p.callId ? await db.selectFrom('calls').select('id').where('id', '=', p.callId).executeTakeFirst() : undefined;
  const error = (err instanceof Error ? err.message : String(err)).slice(0, MAX_ERROR);
  await db
    .insertInto('webhook_deliveries')
    .values({
      org_id: p.orgId,
      call_id: call?.id ?? null,
      webhook_id: p.webhookId,
      event: p.event,
      url: p.url,
      attempt: job.attempts,
      status_code: null,
      error,
      duration_ms: null,
      dead_letter: true,
      payload: p.rawBody,
    })
    .execute();
  log?.warn({ webhookId: p.webhookId, event: p.event, host: hostOf(p.url), attempts: job.attempts }, 'webhook gave up: dead letter recorded');
}

function payloadOf(job: JobRow): WebhookJobPayload | undefined {
  try {
    const p = (typeof job.payload === 'string' ? JSON.parse(job.payload) : job.payload) as WebhookJobPayload;
    return p && typeof p.orgId === 'string' && typeof p.webhookId === 'string' && typeof p.rawBody === 'string' ? p : undefined;
  } catch {
    return undefined;
  }
}

export interface Redelivery {
  webhook_id: string;
  event: string;
  url: string;
}

/**
 * Queues a fresh delivery (up to the usual three attempts) of the event a dead letter holds, with the same
 * body and `Webhook-Id`, so a receiver that did get it after all drops the duplicate. `deliveryId` is any
 * row of that webhook in the delivery log. Redelivering one already queued again is a no-op.
 */
export async function redeliverWebhook(db: Kysely<Database>, orgId: string, deliveryId: string): Promise<Redelivery> {
  const row = await db
    .selectFrom('webhook_deliveries')
    .select('webhook_id')
    .where('org_id', '=', orgId)
    .where('id', '=', deliveryId)
    .executeTakeFirst();
  if (!row) throw notFound('delivery');
  const dead = await db
    .selectFrom('webhook_deliveries')
    .select(['webhook_id', 'call_id', 'event', 'url', 'payload'])
    .where('org_id', '=', orgId)
    .where('webhook_id', '=', row.webhook_id)
    .where('dead_letter', '=', true)
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (!dead?.payload) {
    throw new SwitchboardError('SB_ERR_NOT_DEAD_LETTER', 'only a delivery that gave up can be redelivered', { webhook_id: row.webhook_id });
  }
  await enqueueDelivery(db, { webhookId: dead.webhook_id, orgId, callId: dead.call_id, event: dead.event, url: dead.url, rawBody: dead.payload });
  return { webhook_id: dead.webhook_id, event: dead.event, url: dead.url };
}
