/** The bodies of CallMyCall's webhooks (001's example and FACES.md: `content` and ISO timestamps inside). */
import type { WebhookPayloadInput } from '../../core/calls/webhook-payloads.js';
import type { CallEventRow } from '../../store/index.js';
import { ROLE_WORDS, statusWord } from './map.js';
import type { Speaker } from '../../core/calls/events.js';

function segment(e: CallEventRow) {
  return {
    role: ROLE_WORDS[e.role ?? 'system'],
    content: e.text ?? '',
    timestamp: new Date(e.created_at).toISOString(),
    seq: e.seq,
  };
}

export function callMyCallWebhook(i: WebhookPayloadInput): unknown {
  const c = i.call;
  const status = statusWord(c.status);
  let data: Record<string, unknown>;
  switch (i.event) {
    case 'call_started':
      data = { status, to: c.to_number, from: c.from_number };
      break;
    case 'transcript_updated':
      data = { status, transcripts: i.transcripts.map(segment) };
      break;
    case 'call_completed':
      data = {
        status,
        to: c.to_number,
        duration: c.duration_seconds,
        answered_by: c.answered_by,
        outcome: c.outcome,
        summary: { goal_completed: c.goal_completed ?? false, text: c.summary },
        extracted: c.extracted ?? null,
        transcripts: i.transcripts.map(segment),
      };
      break;
    case 'price_updated':
      data = { credits: i.price?.credits ?? c.credits_charged ?? 0, cost_breakdown: i.price?.cost_breakdown ?? {} };
      break;
    default:
      return null; // events of other faces (call_dialing)
  }
  return { event: i.event, call_id: c.sid, sid: c.sid, timestamp: i.timestamp, data };
}
