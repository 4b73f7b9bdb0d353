/**
 * The task webhooks of 002: `{event_type, task_id, call_id, status, data: {transcript_excerpt,
 * report_excerpt}}`. The core's `call_dialing` is 002's `call_started` ("when call is initiated"); its
 * `call_completed` is `call_completed` or `call_failed` by the call's word. Only the task's events are sent.
 */
import type { WebhookPayloadInput } from '../../core/calls/webhook-payloads.js';
import { statusWord, transcriptText } from './map.js';

const EXCERPT = 500;

function excerpt(s: string | null | undefined): string {
  if (!s) return '';
  return s.length > EXCERPT ? s.slice(0, EXCERPT - 1) + '…' : s;
}

export function agentsApiWebhook(i: WebhookPayloadInput): unknown {
  const status = statusWord(i.call.status);
  let eventType: string;
  if (i.event === 'call_dialing') eventType = 'call_started';
  else if (i.event === 'call_completed') eventType = status === 'completed' ? 'call_completed' : 'call_failed';
  else return null;
  const wanted = i.request.webhook?.faceEvents ?? i.request.webhook?.events ?? [];
  if (!wanted.includes(eventType)) return null;
  return {
    event_type: eventType,
    task_id: i.call.task_id,
    call_id: i.call.id,
    status,
    timestamp: new Date(i.timestamp * 1000).toISOString(),
    data: {
      transcript_excerpt: excerpt(transcriptText(i.transcripts)),
      report_excerpt: excerpt(i.call.summary),
    },
  };
}
