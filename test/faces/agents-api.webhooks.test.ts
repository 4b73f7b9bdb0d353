import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyWebhookSignature } from '../../src/core/webhooks/index.js';
import { BACKENDS } from '../helpers/backends.js';
import { startSwitchboard, until, type TestSwitchboard } from '../helpers/switchboard.js';
import { startWebhookReceiver, type WebhookReceiver } from '../fakes/webhook-receiver.js';

describe('agents/tasks API: task webhooks end to end', () => {
  let t: TestSwitchboard;
  let rx: WebhookReceiver;
  const api = (method: string, url: string, payload?: unknown) =>
    t.sb.app.inject({ method: method as any, url: '/api/v1' + url, headers: { authorization: `Bearer ${t.key}` }, payload: payload as any });
  beforeAll(async () => {
    t = await startSwitchboard(BACKENDS[0], { SHUTDOWN_GRACE_SECONDS: '1', WEBHOOK_SIGNING_SECRET: 'whsec_deployment_secret_123' });
    rx = await startWebhookReceiver();
  });
  afterAll(async () => {
    await t.close();
    await rx.close();
  });

  it('sends call_started and call_completed (or call_failed) with 002’s payload, signed, only the chosen events', async () => {
    const agent = (await api('POST', '/agents', { name: 'A', system_prompt: 'Be brief.', starting_message: 'Hello!' })).json().data;
    const events = ['call_started', 'call_completed', 'call_failed'];
    const good = (await api('POST', '/tasks', { agent_id: agent.id, name: 'Confirm', description: 'Confirm my booking, reference AB123', to_number: '+15550100', webhook_url: rx.url, webhook_events: events, context_data: { name: 'Alex' } })).json().data;
    const busy = (await api('POST', '/tasks', { agent_id: agent.id, name: 'Busy', to_number: '+15550102', webhook_url: rx.url, webhook_events: ['call_failed'] })).json().data;
    const goodCall = (await api('POST', `/tasks/${good.id}/execute`)).json().data.call_id;
    const busyCall = (await api('POST', `/tasks/${busy.id}/execute`)).json().data.call_id;

    const of = (taskId: string, ev: string) => rx.received.find((w) => w.json.task_id === taskId && w.json.event_type === ev);
    const completed = await until(async () => of(good.id, 'call_completed'), 20_000, 'call_completed');
    const failed = await until(async () => of(busy.id, 'call_failed'), 20_000, 'call_failed');
    const started = of(good.id, 'call_started');
    expect(started?.json).toMatchObject({ event_type: 'call_started', task_id: good.id, call_id: goodCall });
    expect(completed.json).toMatchObject({
      event_type: 'call_completed',
      task_id: good.id,
      call_id: goodCall,
      status: 'completed',
      data: { transcript_excerpt: expect.any(String), report_excerpt: expect.any(String) },
    });
    expect(completed.json.data.transcript_excerpt.length).toBeGreaterThan(10);
    expect(failed.json).toMatchObject({ event_type: 'call_failed', task_id: busy.id, call_id: busyCall, status: 'failed' });
    for (const w of [completed, failed]) {
      expect(verifyWebhookSignature('whsec_deployment_secret_123', String(w.headers['x-callmycall-signature']), w.rawBody)).toBe(true);
      expect(w.headers['webhook-id']).toBeTruthy();
    }
    // The busy task asked only for call_failed.
    expect(rx.received.filter((w) => w.json.task_id === busy.id).map((w) => w.json.event_type)).toEqual(['call_failed']);
    const tasks = (await api('GET', `/tasks?agent_id=${agent.id}`)).json().data;
    expect(Object.fromEntries(tasks.map((x: any) => [x.id, x.status]))).toEqual({ [good.id]: 'completed', [busy.id]: 'failed' });
  });
});
