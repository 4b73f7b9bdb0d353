/**
 * Each example request of document 002 (base URLs replaced by the local server), with its error cases,
 * and the envelope of every route.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../helpers/backends.js';
import { startSwitchboard, until, type TestSwitchboard } from '../helpers/switchboard.js';

function expectEnvelope(body: any, success: boolean) {
  expect(body.success).toBe(success);
  expect(typeof body.meta.timestamp).toBe('string');
  expect(new Date(body.meta.timestamp).toISOString()).toBe(body.meta.timestamp);
  expect(typeof body.meta.request_id).toBe('string');
  if (success) expect(body).toHaveProperty('data');
  else {
    expect(typeof body.error).toBe('string');
    expect(typeof body.details).toBe('object');
  }
}

for (const backend of BACKENDS) {
  describe(`agents/tasks API: 002's examples [${backend.name}]`, () => {
    let t: TestSwitchboard;
    let auth: Record<string, string>;
    beforeAll(async () => {
      t = await startSwitchboard(backend, { SHUTDOWN_GRACE_SECONDS: '1', PUBLIC_URL: 'http://localhost:3008' });
      auth = { authorization: `Bearer ${t.key}` };
    });
    afterAll(() => t.close());

    const api = (method: string, url: string, payload?: unknown, headers: Record<string, string> = auth) =>
      t.sb.app.inject({ method: method as any, url: '/api/v1' + url, headers: { ...headers, ...(payload !== undefined ? { 'content-type': 'application/json' } : {}) }, payload: payload as any });

    const agentBody = {
      name: 'Customer Service Agent',
      system_prompt: 'You are a helpful customer service agent...',
      description: 'Handles customer inquiries',
      starting_message: 'Hello! How can I help you today?',
      enabled: true,
      voice_settings: { stability: 0.5, similarity_boost: 0.75 },
    };

    it('POST /agents (the example) creates the agent', async () => {
      const r = await api('POST', '/agents', agentBody);
      expect(r.statusCode, r.body).toBe(201);
      const b = r.json();
      expectEnvelope(b, true);
      expect(b.data).toMatchObject({ ...agentBody, language: 'sv', dtmf_rules: {} });
      expect(b.data.id).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('POST /agents without system_prompt → 400 naming the field', async () => {
      const r = await api('POST', '/agents', { name: 'x' });
      expect(r.statusCode).toBe(400);
      const b = r.json();
      expectEnvelope(b, false);
      expect(b.details.field).toBe('system_prompt');
      expect(b.error).toMatch(/system_prompt/);
    });

    it('POST /agents with a string for enabled → 400', async () => {
      const r = await api('POST', '/agents', { ...agentBody, enabled: 'yes' });
      expect(r.statusCode).toBe(400);
      expect(r.json().details.field).toBe('enabled');
    });

    it('GET /agents?enabled=true&limit=10 (the example) filters and limits', async () => {
      await api('POST', '/agents', { ...agentBody, name: 'Disabled', enabled: false });
      const r = await api('GET', '/agents?enabled=true&limit=10');
      expect(r.statusCode).toBe(200);
      const b = r.json();
      expectEnvelope(b, true);
      expect(b.data.length).toBeGreaterThan(0);
      expect(b.data.every((a: any) => a.enabled)).toBe(true);
      expect(b.meta.limit).toBe(10);
      const all = (await api('GET', '/agents')).json();
      expect(all.data.some((a: any) => !a.enabled)).toBe(true);
      expect(all.meta.limit).toBe(50);
    });

    it('GET /agents with limit above 100 or a negative offset → 400', async () => {
      expect((await api('GET', '/agents?limit=101')).statusCode).toBe(400);
      expect((await api('GET', '/agents?offset=-1')).statusCode).toBe(400);
      expect((await api('GET', '/agents?enabled=maybe')).statusCode).toBe(400);
    });

    it('GET, PATCH and DELETE /agents/:id; another id is 404', async () => {
      const a = (await api('POST', '/agents', agentBody)).json().data;
      const g = await api('GET', `/agents/${a.id}`);
      expect(g.statusCode).toBe(200);
      expect(g.json().data.name).toBe(agentBody.name);
      const p = await api('PATCH', `/agents/${a.id}`, { name: 'Renamed', dtmf_rules: { 'for sales press 1': '1' } });
      expect(p.statusCode).toBe(200);
      expect(p.json().data).toMatchObject({ name: 'Renamed', dtmf_rules: { 'for sales press 1': '1' }, system_prompt: agentBody.system_prompt });
      expect((await api('DELETE', `/agents/${a.id}`)).statusCode).toBe(200);
      const gone = await api('GET', `/agents/${a.id}`);
      expect(gone.statusCode).toBe(404);
      expectEnvelope(gone.json(), false);
      expect((await api('GET', '/agents/not-a-uuid')).statusCode).toBe(404);
    });

    it("another organisation's agent is not found", async () => {
      const a = (await api('POST', '/agents', agentBody)).json().data;
      const { org } = await t.sb.core.orgs.ensure('other-org', { credits: 10 });
      const other = await t.sb.core.orgs.createKey(org.id);
      const r = await api('GET', `/agents/${a.id}`, undefined, { authorization: `Bearer ${other}` });
      expect(r.statusCode).toBe(404);
    });

    it('missing or bad API key → 401 in the envelope', async () => {
      const r = await api('GET', '/agents', undefined, {});
      expect(r.statusCode).toBe(401);
      expectEnvelope(r.json(), false);
      expect((await api('GET', '/agents', undefined, { authorization: 'Bearer va_nope' })).statusCode).toBe(401);
    });

    it('POST /tasks (the example), GET /tasks/:id embeds the agent, filters by agent_id and status', async () => {
      const agent = (await api('POST', '/agents', agentBody)).json().data;
      const body = {
        agent_id: agent.id,
        name: 'Call customer',
        to_number: '+1234567890',
        description: 'Follow up call',
        starting_message: 'Hello, this is a call from our company',
        context_data: { customer_name: 'John Doe', order_id: '12345' },
        priority: 0,
        scheduled_at: null,
        webhook_url: 'https://your-app.com/webhooks',
        webhook_events: ['call_started', 'call_completed'],
      };
      const r = await api('POST', '/tasks', body);
      expect(r.statusCode, r.body).toBe(201);
      const task = r.json().data;
      expect(task).toMatchObject({ ...body, status: 'pending' });
      const g = (await api('GET', `/tasks/${task.id}`)).json();
      expectEnvelope(g, true);
      expect(g.data.agent).toMatchObject({ id: agent.id, name: agentBody.name });
      const byAgent = (await api('GET', `/tasks?agent_id=${agent.id}&status=pending`)).json();
      expect(byAgent.data.map((x: any) => x.id)).toEqual([task.id]);
      expect((await api('GET', `/tasks?agent_id=${agent.id}&status=completed`)).json().data).toEqual([]);
      expect((await api('GET', '/tasks?status=done')).statusCode).toBe(400);
    });

    it('POST /tasks error cases: bad number, unknown agent, bad event, bad date', async () => {
      const agent = (await api('POST', '/agents', agentBody)).json().data;
      const base = { agent_id: agent.id, name: 'x', to_number: '+1234567890' };
      const bad = async (b: unknown, field: string) => {
        const r = await api('POST', '/tasks', b);
        expect(r.statusCode, r.body).toBe(400);
        expect(r.json().details.field).toBe(field);
      };
      await bad({ ...base, to_number: '0701234567' }, 'to_number');
      await bad({ ...base, agent_id: '00000000-0000-4000-8000-000000000000' }, 'agent_id');
      await bad({ ...base, webhook_events: ['call_exploded'] }, 'webhook_events.0');
      await bad({ ...base, scheduled_at: 'tomorrow' }, 'scheduled_at');
      await bad({ ...base, priority: 'high' }, 'priority');
      await bad({ name: 'x', to_number: '+1234567890' }, 'agent_id');
    });

    it('an agent with active tasks cannot be deleted (400); after the task is deleted it can', async () => {
      const agent = (await api('POST', '/agents', agentBody)).json().data;
      const task = (await api('POST', '/tasks', { agent_id: agent.id, name: 'x', to_number: '+15550100' })).json().data;
      const r = await api('DELETE', `/agents/${agent.id}`);
      expect(r.statusCode).toBe(400);
      expectEnvelope(r.json(), false);
      expect(r.json().error).toMatch(/active tasks/);
      expect((await api('DELETE', `/tasks/${task.id}`)).statusCode).toBe(200);
      expect((await api('DELETE', `/agents/${agent.id}`)).statusCode).toBe(200);
    });

    it('task lifecycle: execute (the example response) → in_progress → completed via a sim call; rules', async () => {
      const agent = (await api('POST', '/agents', { ...agentBody, system_prompt: 'You call for {{customer_name}}.', language: 'en' })).json().data;
      const task = (
        await api('POST', '/tasks', {
          agent_id: agent.id,
          name: 'Confirm booking',
          to_number: '+15550100',
          description: 'Confirm the booking for {{customer_name}} on Tuesday',
          starting_message: 'Hello, this is {{agent_name}} calling for {{customer_name}}.',
          context_data: { customer_name: 'Alex Smith', table: 2 },
        })
      ).json().data;
      // Update only while pending.
      expect((await api('PATCH', `/tasks/${task.id}`, { priority: 5 })).json().data.priority).toBe(5);
      const x = await api('POST', `/tasks/${task.id}/execute`);
      expect(x.statusCode, x.body).toBe(200);
      expectEnvelope(x.json(), true);
      expect(x.json().data).toEqual({ call_id: expect.any(String), message: 'Call initiated' });
      const callId = x.json().data.call_id;
      expect((await api('GET', `/tasks/${task.id}`)).json().data.status).toBe('in_progress');
      // Not pending any more: execute, update and delete are refused.
      expect((await api('POST', `/tasks/${task.id}/execute`)).statusCode).toBe(400);
      expect((await api('PATCH', `/tasks/${task.id}`, { name: 'y' })).statusCode).toBe(400);
      expect((await api('DELETE', `/tasks/${task.id}`)).statusCode).toBe(400);
      const done = await until(async () => {
        const g = (await api('GET', `/tasks/${task.id}`)).json().data;
        return g.status === 'completed' || g.status === 'failed' ? g : null;
      }, 25_000, 'task to end');
      expect(done.status).toBe('completed');
      expect(done.call_id).toBe(callId);
      const call = (await api('GET', `/calls/${callId}`)).json();
      expectEnvelope(call, true);
      expect(call.data).toMatchObject({ id: callId, task_id: task.id, agent_id: agent.id, status: 'completed' });
      // The greeting was rendered: a known variable filled in, an unknown one empty and listed.
      expect(call.data.transcript.find((s: any) => s.role === 'agent').text).toMatch(/^Hello, this is\s+calling for Alex Smith\./);
      expect(call.data.missing_variables).toEqual(['agent_name']);
      expect(call.data.report.summary).toEqual(expect.any(String));
      const list = (await api('GET', `/calls?task_id=${task.id}&agent_id=${agent.id}&status=completed`)).json();
      expect(list.data.map((c: any) => c.id)).toEqual([callId]);
      expect((await api('GET', `/calls?task_id=${task.id}&status=failed`)).json().data).toEqual([]);
      // Reset: only when not pending.
      const reset = await api('POST', `/tasks/${task.id}/reset`);
      expect(reset.statusCode).toBe(200);
      expect(reset.json().data.status).toBe('pending');
      expect((await api('POST', `/tasks/${task.id}/reset`)).statusCode).toBe(400);
    });

    it('call routes: transcript GET/POST, report, recording 404, live info, end and cancel', async () => {
      const agent = (await api('POST', '/agents', { ...agentBody, language: 'en' })).json().data;
      const task = (await api('POST', '/tasks', { agent_id: agent.id, name: 'Confirm my booking', to_number: '+15550100' })).json().data;
      const callId = (await api('POST', `/tasks/${task.id}/execute`)).json().data.call_id;
      const live = await api('GET', `/calls/${callId}/live`);
      expect(live.statusCode).toBe(200);
      const L = live.json().data;
      const url = `ws://localhost:3008/ws/calls/${callId}`;
      expect(L).toEqual({
        websocket_url: url,
        call_id: callId,
        temp_token: expect.any(String),
        connection_info: {
          url,
          auth_method: 'query_param',
          auth_param: 'api_key',
          temp_auth_param: 'session_token',
          example: `${url}?api_key=YOUR_API_KEY`,
          example_session: `${url}?session_token=TEMP_TOKEN`,
          message_format: 'json',
          message_types: ['connected', 'transcript_update', 'call_status_update', 'error'],
        },
      });
      // Re-processing needs an ended call.
      expect((await api('POST', `/calls/${callId}/transcript`)).statusCode).toBe(400);
      await until(async () => ((await api('GET', `/calls/${callId}`)).json().data.ended_at ? true : null), 25_000, 'call end');
      const tr = (await api('GET', `/calls/${callId}/transcript`)).json();
      expectEnvelope(tr, true);
      expect(tr.data.transcript.length).toBeGreaterThan(1);
      const rp = await api('POST', `/calls/${callId}/transcript`);
      expect(rp.statusCode).toBe(200);
      expect(rp.json().data).toMatchObject({ call_id: callId, source: 'rules', extracted_data: expect.any(Object), report: { summary: expect.stringMatching(/turns were spoken/) } });
      const rep = (await api('GET', `/calls/${callId}/report`)).json();
      expect(rep.data.summary).toMatch(/turns were spoken/);
      for (const u of [`/calls/${callId}/recording`, `/calls/${callId}/recording/stream`]) {
        const r = await api('GET', u);
        expect(r.statusCode).toBe(404);
        expectEnvelope(r.json(), false);
      }
      // The end example: an ended call answers 200 with already_ended.
      const e = await api('POST', `/calls/${callId}/end`);
      expect(e.statusCode).toBe(200);
      expect(e.json().data.already_ended).toBe(true);
      expect((await api('POST', `/calls/${callId}/cancel`)).statusCode).toBe(400);
      expect((await api('GET', '/calls/00000000-0000-4000-8000-000000000000')).statusCode).toBe(404);
    });

    it('POST /calls/:id/cancel marks a live call failed; its task fails', async () => {
      const agent = (await api('POST', '/agents', { ...agentBody, language: 'en' })).json().data;
      const task = (await api('POST', '/tasks', { agent_id: agent.id, name: 'Confirm my booking', to_number: '+15550100' })).json().data;
      const callId = (await api('POST', `/tasks/${task.id}/execute`)).json().data.call_id;
      const c = await api('POST', `/calls/${callId}/cancel`);
      expect(c.statusCode, c.body).toBe(200);
      expect(c.json().data.status).toBe('failed');
      const tk = await until(async () => {
        const g = (await api('GET', `/tasks/${task.id}`)).json().data;
        return g.status === 'failed' ? g : null;
      }, 10_000, 'task failed');
      expect(tk.status).toBe('failed');
      expect((await api('GET', `/calls/${callId}`)).json().data.status).toBe('failed');
      // A failed task may be deleted.
      expect((await api('DELETE', `/tasks/${task.id}`)).statusCode).toBe(200);
    });

    it('an unknown route under /api/v1 is a 404 envelope', async () => {
      const r = await api('GET', '/nothing');
      expect(r.statusCode).toBe(404);
      expectEnvelope(r.json(), false);
    });
  });
}
