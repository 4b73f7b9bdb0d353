/**
 * Webhook bodies differ per API document. The face that created a call registers how its webhooks look;
 * the core decides when they are sent and makes them durable.
 */
import type { CallRow, CallEventRow } from '../../store/index.js';
import type { CallRequest } from './request.js';

/** `call_dialing`: the call was stored and handed to the carrier (the agents/tasks face's `call_started`). */
export type CallWebhookEvent = 'call_dialing' | 'call_started' | 'transcript_updated' | 'call_completed' | 'price_updated';

export interface WebhookPayloadInput {
  event: CallWebhookEvent;
  call: CallRow;
  request: CallRequest;
  /** For transcript_updated: the segments added since the last one; for call_completed: all of them. */
  transcripts: CallEventRow[];
  /** Unix seconds of the event. */
  timestamp: number;
  price?: { credits: number; cost_breakdown: Record<string, number> };
}

export type WebhookPayloadBuilder = (input: WebhookPayloadInput) => unknown;

export class WebhookPayloads {
  private readonly builders = new Map<CallRequest['face'], WebhookPayloadBuilder>();
  register(face: CallRequest['face'], builder: WebhookPayloadBuilder): void {
    this.builders.set(face, builder);
  }
  build(input: WebhookPayloadInput): unknown | null {
    const b = this.builders.get(input.request.face);
    return b ? b(input) : null;
  }
}
