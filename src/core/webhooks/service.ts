/** The webhook operations faces offer their clients: a signed test send, the delivery log and redelivery. */
import type { Config } from '../../config/index.js';
import type { Db, OrgRow } from '../../store/index.js';
import type { WebhookPayloads } from '../calls/webhook-payloads.js';
import { redeliverWebhook, type Redelivery } from './dead-letter.js';
import { listDeliveries, type ListDeliveriesOptions, type WebhookDeliveryListItem } from './list.js';
import { sendTestWebhook, type TestWebhookResult } from './test-send.js';

export class Webhooks {
  /** `wakeWebhooks`: the delivery runner looks for a redelivery once it is queued. */
  constructor(private readonly deps: { db: Db; config: Config; payloads?: WebhookPayloads; wakeWebhooks?: () => void }) {}

  /**
   * Sends one signed sample of `event` to `url` now (see `sendTestWebhook`), its body built by the same
   * builder as the face's real deliveries (CallMyCall's, by default).
   */
  test(org: Pick<OrgRow, 'id' | 'webhook_secret'>, input: { url: string; event?: string }): Promise<TestWebhookResult> {
    const payloads = this.deps.payloads;
    return sendTestWebhook(this.deps, org, input, payloads ? (sample) => payloads.build(sample) : undefined);
  }

  /** An organisation's delivery attempts, newest first. */
  deliveries(orgId: string, opts: ListDeliveriesOptions = {}): Promise<WebhookDeliveryListItem[]> {
    return listDeliveries(this.deps.db, orgId, opts);
  }

  /** Queues a fresh delivery of the event a dead letter holds (same body, same `Webhook-Id`). */
  async redeliver(orgId: string, deliveryId: string): Promise<Redelivery> {
    const r = await redeliverWebhook(this.deps.db, orgId, deliveryId);
    this.deps.wakeWebhooks?.();
    return r;
  }
}
