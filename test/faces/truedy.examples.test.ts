/**
 * Each example request of document 003 (base URL replaced by the local server), with its error cases:
 * 003's example agent holds an outbound number; its example destination is a busy line on the simulated network.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../helpers/backends.js';
import { until } from '../helpers/switchboard.js';
import { TRUEDY_STATUSES } from '../../src/faces/truedy/map.js';
import { EXAMPLE_AGENT_ID, EXAMPLE_CALL_ID, EXAMPLE_CALL_ID_2, EXAMPLE_TO, OUTBOUND_NUMBER, startTruedy, type TruedyTest } from './truedy.helpers.js';

const CALL_KEYS = [
  'id', 'agent_id', 'phone_number', 'from_number', 'direction', 'status', 'started_at', 'ended_at', 'duration_seconds',
  'cost_usd', 'summary', 'recording_url', 'context', 'created_at', 'updated_at',
];

function expectOk(body: any) {
  expect(body).toHaveProperty('data');
  expect(typeof body.meta.request_id).toBe('string');
}

function expectError(r: { statusCode: number; json(): any }, status: number, code: string, field?: string) {
  expect(r.statusCode).toBe(status);
  const b = r.json();
  expect(b.error.code).toBe(code);
  expect(typeof b.error.message).toBe('string');
  expect(typeof b.error.details).toBe('object');
  expect(typeof b.meta.request_id).toBe('string');
  if (field) {
    expect(b.error.details.field).toBe(field);
    expect(b.error.message).toMatch(new RegExp(field.split('.').pop()!.replace('X-', '')));
  }
  return b;
}

for (const backend of BACKENDS) {
  describe(`Truedy: 003's examples [${backend.name}]`, () => {
    let T: TruedyTest;
    beforeAll(async () => {
      // Billing on: 003's 402 payment_required is one of its examples.
      T = await startTruedy(backend, { BILLING_ENABLED: 'true' });
    });
    afterAll(() => T.t.close());

    const exampleBody = {
      agent_id: EXAMPLE_AGENT_ID,
      phone_number: EXAMPLE_TO,
      variables: { first_name: 'Jane', last_name: 'Doe', company: 'Acme Inc', appointment_time: '2pm Thursday' },
      call_settings: { recording_enabled: true, max_duration: '600s' },
    };

    it('POST /calls (the example body) → 201 with the whole call object, from the agent\'s outbound number', async () => {
      const r = await T.api('POST', '/calls', exampleBody);
      expect(r.statusCode, r.body).toBe(201);
      const b = r.json();
      expectOk(b);
      for (const k of CALL_KEYS) expect(b.data).toHaveProperty(k);
      expect(b.data).toMatchObject({
        agent_id: EXAMPLE_AGENT_ID,
        phone_number: EXAMPLE_TO,
        from_number: OUTBOUND_NUMBER,
        direction: 'outbound',
        recording_url: null,
        context: { missing_variables: [] },
      });
      expect(TRUEDY_STATUSES).toContain(b.data.status);
      const stored = T.t.sb.core.calls.requestOf(await T.t.sb.core.calls.find(T.t.orgId, b.data.id));
      expect(stored).toMatchObject({ face: 'truedy', record: true, maxDurationSeconds: 600, fromNumber: OUTBOUND_NUMBER });
      expect(stored.agent?.systemPrompt).toBe('You call Jane Doe from Acme Inc about the appointment at 2pm Thursday.');
      // The example line is busy: the call ends `busy`, priced zero (never connected).
      const done = await until(async () => {
        const g = (await T.api('GET', `/calls/${b.data.id}`)).json().data;
        return g.ended_at ? g : null;
      });
      expect(done).toMatchObject({ status: 'busy', cost_usd: 0 });
    });

    it('POST /calls (the curl example with X-Idempotency-Key): missing variables render empty and are listed; a retry dials nothing', async () => {
      const body = { agent_id: EXAMPLE_AGENT_ID, phone_number: EXAMPLE_TO, variables: { first_name: 'Jane', company: 'Acme Inc' } };
      const headers = { ...T.auth, 'X-Idempotency-Key': '8b7e6494-3839-49dc-9638-a1944fdd8cda' };
      const r = await T.api('POST', '/calls', body, headers);
      expect(r.statusCode, r.body).toBe(201);
      const first = r.json().data;
      expect(first.context.missing_variables).toEqual(['last_name', 'appointment_time']);
      const stored = T.t.sb.core.calls.requestOf(await T.t.sb.core.calls.find(T.t.orgId, first.id));
      expect(stored.agent?.systemPrompt).toBe('You call Jane  from Acme Inc about the appointment at .');
      expect(stored.record).toBe(true);

      const before = await T.callCount();
      const again = await T.api('POST', '/calls', body, headers);
      expect(again.statusCode).toBe(201);
      expect(again.json().data.id).toBe(first.id);
      expect(await T.callCount()).toBe(before);

      const other = await T.api('POST', '/calls', { ...body, variables: { first_name: 'John' } }, headers);
      expectError(other, 422, 'validation_error', 'X-Idempotency-Key');
      expect(await T.callCount()).toBe(before);
    });

    it('POST /calls: values of variables are coerced to strings; call_settings are applied', async () => {
      const r = await T.api('POST', '/calls', {
        agent_id: EXAMPLE_AGENT_ID,
        phone_number: EXAMPLE_TO,
        from_number: OUTBOUND_NUMBER,
        variables: { first_name: 42, last_name: true, company: { n: 1 }, appointment_time: null },
        call_settings: { recording_enabled: false, transcription_enabled: false, greeting: 'Hello {{first_name}}', join_timeout: '30s', max_duration: '3600s' },
        context: { crm_id: 'c-1' },
      });
      expect(r.statusCode, r.body).toBe(201);
      const d = r.json().data;
      expect(d.context).toMatchObject({ crm_id: 'c-1', missing_variables: ['appointment_time'] });
      expect(d.call_settings).toEqual({ recording_enabled: false, transcription_enabled: false });
      const req = T.t.sb.core.calls.requestOf(await T.t.sb.core.calls.find(T.t.orgId, d.id));
      expect(req).toMatchObject({ record: false, ringTimeoutSeconds: 30, maxDurationSeconds: 3600 });
      expect(req.agent?.greeting).toBe('Hello 42');
      expect(req.agent?.systemPrompt).toBe('You call 42 true from {"n":1} about the appointment at .');
    });

    it('POST /calls error cases → 422 validation_error naming the field; nothing stored', async () => {
      const before = await T.callCount();
      const { agent_id: _a, ...noAgent } = exampleBody;
      expectError(await T.api('POST', '/calls', noAgent), 422, 'validation_error', 'agent_id');
      const { phone_number: _p, ...noPhone } = exampleBody;
      expectError(await T.api('POST', '/calls', noPhone), 422, 'validation_error', 'phone_number');
      expectError(await T.api('POST', '/calls', { ...exampleBody, phone_number: '0701234567' }), 422, 'validation_error', 'phone_number');
      expectError(await T.api('POST', '/calls', { ...exampleBody, agent_id: 'not-a-uuid' }), 422, 'validation_error', 'agent_id');
      expectError(await T.api('POST', '/calls', { ...exampleBody, agent_id: '00000000-0000-4000-8000-000000000000' }), 422, 'validation_error', 'agent_id');
      expectError(await T.api('POST', '/calls', { ...exampleBody, from_number: '+15559990000' }), 422, 'validation_error', 'from_number');
      expectError(await T.api('POST', '/calls', { ...exampleBody, call_settings: { max_duration: '10 minutes' } }), 422, 'validation_error', 'call_settings.max_duration');
      expectError(await T.api('POST', '/calls', { ...exampleBody, call_settings: { join_timeout: '0s' } }), 422, 'validation_error', 'call_settings.join_timeout');
      expectError(await T.api('POST', '/calls', { ...exampleBody, call_settings: { recording_enabled: 'yes' } }), 422, 'validation_error', 'call_settings.recording_enabled');
      // A destination the simulated network does not know.
      expectError(await T.api('POST', '/calls', { ...exampleBody, phone_number: '+15550000000' }), 422, 'validation_error', 'phone_number');
      const lonely = await T.t.sb.core.agents.create(T.t.orgId, { name: 'No number', system_prompt: 'x' });
      // The organisation's own number, but assigned to another agent: refused.
      expectError(await T.api('POST', '/calls', { ...exampleBody, agent_id: lonely.id, from_number: OUTBOUND_NUMBER }), 422, 'validation_error', 'from_number');
      // A disabled agent.
      await T.t.sb.core.agents.update(T.t.orgId, lonely.id, { enabled: false });
      expectError(await T.api('POST', '/calls', { ...exampleBody, agent_id: lonely.id }), 422, 'validation_error', 'agent_id');
      expectError(await T.api('POST', '/calls', '{"agent_id": '), 422, 'validation_error');
      expect(await T.callCount()).toBe(before);
    });

    it('POST /calls with too few credits → 402 payment_required; nothing stored', async () => {
      const before = await T.callCount();
      await T.t.sb.core.credits.setBalance(T.t.orgId, 0);
      try {
        const b = expectError(await T.api('POST', '/calls', exampleBody), 402, 'payment_required');
        expect(b.error.details).toMatchObject({ credits_balance: 0 });
        // An inactive subscription is a 402 payment_required too (003: "or inactive subscription").
        await T.t.sb.core.credits.setBalance(T.t.orgId, 1000);
        await T.t.sb.core.credits.setSubscription(T.t.orgId, false);
        const inactive = expectError(await T.api('POST', '/calls', exampleBody), 402, 'payment_required');
        expect(inactive.error.message).toBe('Subscription inactive');
      } finally {
        await T.t.sb.core.credits.setSubscription(T.t.orgId, true);
        await T.t.sb.core.credits.setBalance(T.t.orgId, 1000);
      }
      expect(await T.callCount()).toBe(before);
    });

    it('GET /calls/{call_id} (the example id) → the call object; unknown → 404 not_found', async () => {
      await T.insertCall({
        id: EXAMPLE_CALL_ID,
        summary: 'Jane confirmed Thursday at 2pm.',
        credits_charged: 4,
        cost_usd: 0.2,
        request: { face: 'truedy', to: EXAMPLE_TO, task: 'x', metadata: {}, context: { source: 'crm' }, missingVariables: [] },
      });
      const r = await T.api('GET', `/calls/${EXAMPLE_CALL_ID}`);
      expect(r.statusCode).toBe(200);
      const d = r.json().data;
      expect(d).toMatchObject({ id: EXAMPLE_CALL_ID, status: 'completed', duration_seconds: 42, cost_usd: 0.2, summary: 'Jane confirmed Thursday at 2pm.', context: { source: 'crm' } });
      expectError(await T.api('GET', '/calls/00000000-0000-4000-8000-000000000000'), 404, 'not_found');
      expectError(await T.api('GET', '/calls/nope'), 404, 'not_found');
    });

    it('PATCH /calls/{call_id} (the example) merges context and updates call_settings', async () => {
      const r = await T.api('PATCH', `/calls/${EXAMPLE_CALL_ID}`, { context: { priority: 'high' }, call_settings: { recording_enabled: true } });
      expect(r.statusCode, r.body).toBe(200);
      expect(r.json().data.context).toMatchObject({ source: 'crm', priority: 'high' });
      expect(r.json().data.call_settings).toEqual({ recording_enabled: true, transcription_enabled: true });
      const r2 = await T.api('PATCH', `/calls/${EXAMPLE_CALL_ID}`, { call_settings: { transcription_enabled: false } });
      expect(r2.json().data.call_settings).toEqual({ recording_enabled: true, transcription_enabled: false });
      expect(r2.json().data.context).toMatchObject({ source: 'crm', priority: 'high' });
      await T.api('PATCH', `/calls/${EXAMPLE_CALL_ID}`, { call_settings: { transcription_enabled: true } });
      expectError(await T.api('PATCH', `/calls/${EXAMPLE_CALL_ID}`, { context: 'high' }), 422, 'validation_error', 'context');
      expectError(await T.api('PATCH', '/calls/00000000-0000-4000-8000-000000000000', { context: {} }), 404, 'not_found');
    });

    it('GET /calls/{call_id}/transcript (the example) → transcript and summary; 404 until there is one', async () => {
      const none = await T.insertCall({ status: 'in_progress' });
      expectError(await T.api('GET', `/calls/${none}/transcript`), 404, 'not_found');
      await T.t.sb.store.db
        .insertInto('call_events')
        .values([
          { call_id: EXAMPLE_CALL_ID, seq: 1, kind: 'transcript', role: 'agent', text: 'Hi Jane!', data: null },
          { call_id: EXAMPLE_CALL_ID, seq: 2, kind: 'transcript', role: 'callee', text: 'Yes, Thursday works.', data: null },
        ])
        .execute();
      const r = await T.api('GET', `/calls/${EXAMPLE_CALL_ID}/transcript`);
      expect(r.statusCode, r.body).toBe(200);
      expect(r.json().data).toMatchObject({
        transcript: [
          { role: 'agent', text: 'Hi Jane!' },
          { role: 'user', text: 'Yes, Thursday works.' },
        ],
        summary: 'Jane confirmed Thursday at 2pm.',
      });
      await T.t.sb.store.db.deleteFrom('calls').where('id', '=', none).execute();
    });

    it('GET /calls/{call_id}/recording (the example) → 404 not_found: no recording exists', async () => {
      const b = expectError(await T.api('GET', `/calls/${EXAMPLE_CALL_ID}/recording`), 404, 'not_found');
      expect(b.error.message).toMatch(/Recording/);
    });

    it('GET /calls?status=completed&limit=20&offset=0 (the example) → data and pagination', async () => {
      const r = await T.api('GET', '/calls?status=completed&limit=20&offset=0');
      expect(r.statusCode).toBe(200);
      const b = r.json();
      expectOk(b);
      expect(b.data.length).toBeGreaterThan(0);
      expect(b.data.every((c: any) => c.status === 'completed')).toBe(true);
      expect(b.pagination).toEqual({ total: b.data.length, limit: 20, offset: 0, has_more: false });
    });

    it('GET /calls pages with limit and offset, defaults to 50, filters by direction, agent and status', async () => {
      for (let i = 0; i < 5; i++) await T.insertCall({ agent_id: null, direction: 'inbound', status: 'no_answer' });
      const all = (await T.api('GET', '/calls')).json();
      expect(all.pagination.limit).toBe(50);
      const total = all.pagination.total;
      expect(total).toBe(all.data.length);
      const p1 = (await T.api('GET', '/calls?limit=2&offset=0')).json();
      expect(p1.data).toHaveLength(2);
      expect(p1.pagination).toEqual({ total, limit: 2, offset: 0, has_more: true });
      const last = (await T.api('GET', `/calls?limit=2&offset=${total - 1}`)).json();
      expect(last.data).toHaveLength(1);
      expect(last.pagination.has_more).toBe(false);
      const inbound = (await T.api('GET', '/calls?direction=inbound')).json();
      expect(inbound.pagination.total).toBe(5);
      expect(inbound.data.every((c: any) => c.direction === 'inbound' && c.status === 'no_answer')).toBe(true);
      const byAgent = (await T.api('GET', `/calls?agent_id=${EXAMPLE_AGENT_ID}`)).json();
      expect(byAgent.pagination.total).toBe(total - 5);
      const noAnswer = (await T.api('GET', '/calls?status=no_answer&direction=outbound')).json();
      expect(noAnswer.pagination.total).toBe(0);
      expectError(await T.api('GET', '/calls?limit=0'), 422, 'validation_error', 'limit');
      expectError(await T.api('GET', '/calls?limit=101'), 422, 'validation_error', 'limit');
      expectError(await T.api('GET', '/calls?offset=-1'), 422, 'validation_error', 'offset');
      expectError(await T.api('GET', '/calls?status=canceled'), 422, 'validation_error', 'status');
      expectError(await T.api('GET', '/calls?direction=sideways'), 422, 'validation_error', 'direction');
      expectError(await T.api('GET', '/calls?agent_id=x'), 422, 'validation_error', 'agent_id');
    });

    it('a canceled call is `failed` with context.last_error "canceled", and the failed filter finds it', async () => {
      const id = await T.insertCall({ status: 'canceled', end_reason: 'ended_by_api' });
      const d = (await T.api('GET', `/calls/${id}`)).json().data;
      expect(d.status).toBe('failed');
      expect(d.context.last_error).toBe('canceled');
      const failed = (await T.api('GET', '/calls?status=failed&limit=100')).json();
      expect(failed.data.map((c: any) => c.id)).toContain(id);
    });

    it('DELETE /calls/{call_id} (the example) deletes an ended call; an active one → 409 call_active', async () => {
      const live = await T.insertCall({ status: 'ringing' });
      expectError(await T.api('DELETE', `/calls/${live}`), 409, 'call_active');
      expect((await T.api('GET', `/calls/${live}`)).statusCode).toBe(200);

      const r = await T.api('DELETE', `/calls/${EXAMPLE_CALL_ID}`);
      expect(r.statusCode, r.body).toBe(200);
      expectOk(r.json());
      expectError(await T.api('GET', `/calls/${EXAMPLE_CALL_ID}`), 404, 'not_found');
      expectError(await T.api('DELETE', `/calls/${EXAMPLE_CALL_ID}`), 404, 'not_found');
      // DELETE with an empty JSON body (as some clients send) is fine.
      const other = await T.insertCall({ status: 'failed', last_error: 'x' });
      const withHeader = await T.t.sb.app.inject({ method: 'DELETE', url: `/api/public/v1/calls/${other}`, headers: { ...T.auth, 'content-type': 'application/json' } });
      expect(withHeader.statusCode).toBe(200);
      await T.t.sb.store.db.updateTable('calls').set({ status: 'completed' }).where('id', '=', live).execute();
      expect((await T.api('DELETE', `/calls/${live}`)).statusCode).toBe(200);
    });

    it('POST /calls/bulk-delete (the example) deletes ended calls and skips active ones', async () => {
      await T.insertCall({ id: EXAMPLE_CALL_ID, status: 'completed' });
      await T.insertCall({ id: EXAMPLE_CALL_ID_2, status: 'in_progress' });
      const r = await T.api('POST', '/calls/bulk-delete', { ids: [EXAMPLE_CALL_ID, EXAMPLE_CALL_ID_2] });
      expect(r.statusCode, r.body).toBe(200);
      const b = r.json();
      expectOk(b);
      expect(b.data).toEqual({ deleted_count: 1, failed_count: 1, deleted_ids: [EXAMPLE_CALL_ID], failed_ids: [EXAMPLE_CALL_ID_2] });
      expect((await T.api('GET', `/calls/${EXAMPLE_CALL_ID_2}`)).statusCode).toBe(200);
      const unknown = (await T.api('POST', '/calls/bulk-delete', { ids: ['nope', EXAMPLE_CALL_ID] })).json();
      expect(unknown.data).toEqual({ deleted_count: 0, failed_count: 2, deleted_ids: [], failed_ids: ['nope', EXAMPLE_CALL_ID] });
      expectError(await T.api('POST', '/calls/bulk-delete', { ids: [] }), 422, 'validation_error', 'ids');
      expectError(await T.api('POST', '/calls/bulk-delete', {}), 422, 'validation_error', 'ids');
    });

    it('authentication: no key or a wrong key → 401 in the Truedy envelope; unknown route → 404', async () => {
      expectError(await T.api('GET', '/calls', undefined, {}), 401, 'unauthorized');
      expectError(await T.api('GET', '/calls', undefined, { authorization: 'Bearer sk_wrong' }), 401, 'unauthorized');
      expectError(await T.api('GET', '/calls', undefined, { authorization: T.t.key }), 401, 'unauthorized');
      expectError(await T.api('GET', '/agents'), 404, 'not_found');
    });

    it('POST /calls by an agent with no number of its own calls from the organisation\'s simulated number', async () => {
      const fresh = await T.t.sb.core.agents.create(T.t.orgId, { name: 'Fresh agent', system_prompt: 'Ask how they are.' });
      // The simulated number is listed with the organisation's numbers from the start, assigned to no agent.
      const listed = await T.t.sb.app.inject({ method: 'GET', url: '/api/v1/phone-numbers', headers: T.auth });
      expect(listed.statusCode, listed.body).toBe(200);
      const sim = listed.json().data.find((n: any) => n.carrier === 'sim' && n.outbound_agent_id === null && n.number.startsWith('+999'));
      expect(sim).toBeDefined();

      const r = await T.api('POST', '/calls', { agent_id: fresh.id, phone_number: EXAMPLE_TO });
      expect(r.statusCode, r.body).toBe(201);
      expect(r.json().data.from_number).toBe(sim.number);
      // Naming it explicitly works too; a number of another organisation's or nobody's does not.
      const again = await T.api('POST', '/calls', { agent_id: fresh.id, phone_number: EXAMPLE_TO, from_number: sim.number });
      expect(again.statusCode, again.body).toBe(201);
      expect(again.json().data.from_number).toBe(sim.number);
      expectError(await T.api('POST', '/calls', { agent_id: fresh.id, phone_number: EXAMPLE_TO, from_number: '+999000000000001' }), 422, 'validation_error', 'from_number');
    });
  });
}
