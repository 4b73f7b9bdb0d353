/** The webhook operations faces offer their clients: a signed test send, and the delivery log. */
import type { Config } from '../../config/index.js';
import type { Db, OrgRow } from '../../store/index.js';
import { listDeliveries, type ListDeliveriesOptions, type WebhookDeliveryListItem } from './list.js';
import { sendTestWebhook, type TestWebhookResult } from './test-send.js';

export class Webhooks {
  constructor(private readonly deps: { db: Db; config: Config }) {}

  /** Sends one signed sample of `event` to `url` now (see `sendTestWebhook`). */
  test(org: Pick<OrgRow, 'id' | 'webhook_secret'>, input: { url: string; event?: string }): Promise<TestWebhookResult> {
    return sendTestWebhook(this.deps, org, input);
  }

  /** An organisation's delivery attempts, newest first. */
  deliveries(orgId: string, opts: ListDeliveriesOptions = {}): Promise<WebhookDeliveryListItem[]> {
    return listDeliveries(this.deps.db, orgId, opts);
  }
}
