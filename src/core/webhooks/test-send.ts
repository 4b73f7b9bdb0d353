/**
 * "Send a test webhook" (`POST /v1/webhook/test`): one signed, synthetic delivery of an event, sent now
 * through the same code path as real deliveries, so a client can check its receiver and signature code.
 */
import { randomUUID } from 'node:crypto';
import { SwitchboardError } from '../errors.js';
import { newCallSid } from '../../lib/ids.js';
import type { CallEventRow, CallRow, OrgRow } from '../../store/schema.js';
import type { WebhookPayloadInput } from '../calls/webhook-payloads.js';
import { canonicalStartCall } from '../calls/request.js';
import { DEFAULT_RATES } from '../../config/billing.js';
import { priceUsage } from '../credits/price.js';
import { attemptWebhook, type WebhookSenderOptions } from './deliver.js';

/** The events a webhook can subscribe to (FACES.md, CallMyCall). */
export const WEBHOOK_EVENTS = ['call_started', 'transcript_updated', 'call_completed', 'price_updated'] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

export function isWebhookEvent(s: string): s is WebhookEvent {
  return (WEBHOOK_EVENTS as readonly string[]).includes(s);
}

/** An event name outside `WEBHOOK_EVENTS` (a 400 on the faces). */
export class UnknownWebhookEventError extends SwitchboardError {
  constructor() {
    super('SB_ERR_VALIDATION', `event must be one of ${WEBHOOK_EVENTS.join(', ')}`, { field: 'event', allowed: [...WEBHOOK_EVENTS] });
    this.name = 'UnknownWebhookEventError';
  }
}

/** Sample transcript segments: `content` and ISO timestamps inside `transcripts[]` (FACES.md). */
function sampleTranscripts(nowMs: number) {
  const iso = (dt: number) => new Date(nowMs - dt).toISOString();
  return [
    { role: 'assistant', content: 'Hello, this is a test call from Switchboard.', timestamp: iso(20_000), seq: 1 },
    { role: 'user', content: 'Hi, this is a test answer.', timestamp: iso(15_000), seq: 2 },
  ];
}

function sampleData(event: WebhookEvent, nowMs: number): Record<string, unknown> {
  switch (event) {
    case 'call_started':
      return { status: 'in-progress', to: '+46700000000', from: '+46700000001' };
    case 'transcript_updated':
      return { status: 'in-progress', transcripts: sampleTranscripts(nowMs) };
    case 'call_completed':
      return {
        status: 'completed',
        to: '+46700000000',
        summary: { goal_completed: true, text: 'Test call: the goal was completed.' },
        transcripts: sampleTranscripts(nowMs),
        duration: 42,
        answered_by: 'human',
        outcome: 'completed',
        extracted: {},
      };
    case 'price_updated':
      return { credits: 2, cost_breakdown: { call: 1, transcription: 0.5, tts: 0.5 } };
  }
}

/** A synthetic payload shaped as the real one: `{event, call_id, sid, timestamp (unix seconds), data}`. */
export function sampleWebhookPayload(event: WebhookEvent, nowMs = Date.now()): Record<string, unknown> {
  const sid = newCallSid();
  return { event, call_id: sid, sid, timestamp: Math.floor(nowMs / 1000), data: sampleData(event, nowMs) };
}

/**
 * A finished sample call, as the stored rows a real delivery is built from: a face's own payload builder
 * turns it into exactly the body its real deliveries have (fields, types, words).
 */
export function samplePayloadInput(event: WebhookEvent, nowMs = Date.now()): WebhookPayloadInput {
  const at = (dt: number) => new Date(nowMs - dt);
  const sid = newCallSid();
  const request = canonicalStartCall({ phone_number: '+46700000000', task: 'Test call', webhook: 'https://example.com/webhook' });
  const ended = event === 'call_completed' || event === 'price_updated';
  const call: CallRow = {
    id: randomUUID(),
    sid,
    org_id: '',
    direction: 'outbound',
    from_number: null, // as a call placed without from_number
    to_number: '+46700000000',
    status: ended ? 'completed' : 'in_progress',
    request,
    carrier: 'sim',
    brain: 'rules',
    answered_by: 'human',
    outcome: ended ? 'goal_completed' : null,
    end_reason: ended ? 'task_completed' : null,
    last_error: null,
    goal_completed: ended ? true : null,
    summary: ended ? 'Test call: the goal was completed.' : null,
    extracted: null, // what the offline brain reports; with a model, an object of what it extracted
    duration_seconds: ended ? 42 : null,
    credits_charged: ended ? 2 : null,
    cost_usd: null,
    carrier_call_sid: null,
    conference: null,
    owner_node: null,
    next_seq: 3,
    answered_at: at(45_000),
    ended_at: ended ? at(3_000) : null,
    agent_id: null,
    task_id: null,
    created_at: at(50_000),
    updated_at: at(3_000),
  };
  const line = (seq: number, role: 'agent' | 'callee', text: string, dt: number): CallEventRow => ({
    call_id: call.id,
    seq,
    kind: 'transcript',
    role,
    text,
    data: null,
    created_at: at(dt),
  });
  const transcripts = event === 'call_completed' || event === 'transcript_updated'
    ? [line(1, 'agent', 'Hello, this is a test call from Switchboard.', 20_000), line(2, 'callee', 'Hi, this is a test answer.', 15_000)]
    : [];
  return {
    event,
    call,
    request,
    transcripts,
    timestamp: Math.floor(nowMs / 1000),
    // Priced as a real call is (core/credits): a 42-second call on the default rates.
    ...(event === 'price_updated' ? { price: samplePrice() } : {}),
  };
}

export interface TestWebhookResult {
  success: boolean;
  /** The receiver's status; null when no response came (then `error` says why). */
  status_code: number | null;
  duration_ms: number;
  error?: string;
  webhook_id: string;
}

/**
 * Sends one sample of `event` (default `call_completed`) to `url` now: one attempt, no retry, recorded in
 * `webhook_deliveries` with `call_id` null. Throws `UnknownWebhookEventError` for an unknown event.
 */
export async function sendTestWebhook(
  deps: WebhookSenderOptions,
  org: Pick<OrgRow, 'id' | 'webhook_secret'>,
  input: { url: string; event?: string },
  /** Builds the body from a sample call as a face builds its real deliveries; without it, `sampleWebhookPayload`. */
  build?: (sample: WebhookPayloadInput) => unknown,
): Promise<TestWebhookResult> {
  const event = input.event ?? 'call_completed';
  if (!isWebhookEvent(event)) throw new UnknownWebhookEventError();
  const webhookId = `wh_${randomUUID()}`;
  const r = await attemptWebhook(deps, {
    webhookId,
    orgId: org.id,
    callId: null,
    event,
    url: input.url,
    rawBody: JSON.stringify(build ? build(samplePayloadInput(event)) : sampleWebhookPayload(event)),
    secret: org.webhook_secret ?? deps.config.webhookSigningSecret ?? null,
    attempt: 1,
  });
  const success = r.status_code !== null && r.status_code >= 200 && r.status_code < 300;
  return { success, status_code: r.status_code, duration_ms: r.duration_ms, ...(r.error ? { error: r.error } : {}), webhook_id: webhookId };
}

/** The sample call's price: 42 connected seconds with transcription and speech, default rates. */
function samplePrice(): { credits: number; cost_breakdown: Record<string, number> } {
  const p = priceUsage({ connectedSeconds: 42, mediaSeconds: 42, sttSeconds: 42, llmInputTokens: 4_000, llmOutputTokens: 200, ttsCharacters: 300 }, DEFAULT_RATES);
  return { credits: p.credits, cost_breakdown: p.costBreakdown };
}
