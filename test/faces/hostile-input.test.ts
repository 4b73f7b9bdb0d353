/**
 * Bad input is a 4xx, everywhere (issue 11 §4): text PostgreSQL cannot hold, numbers past their column,
 * impossible dates, names of built-in object properties, empty JSON bodies and oversized WebSocket messages
 * get a clear 4xx naming the field, in each face's own error body, with nothing stored.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { BACKENDS } from '../helpers/backends.js';
import { startSwitchboard, until, type TestSwitchboard } from '../helpers/switchboard.js';
import { WS_MAX_PAYLOAD } from '../../src/server.js';

const NUL = 'Confirm\u0000 my booking';
const LONE = 'Confirm \ud800 my booking';

for (const backend of BACKENDS) {
  describe(`hostile input on every face [${backend.name}]`, () => {
    let t: TestSwitchboard;
    let agentId: string;
    beforeAll(async () => {
      t = await startSwitchboard(backend, { SHUTDOWN_GRACE_SECONDS: '1' });
      agentId = (await send('POST', '/api/v1/agents', { name: 'A', system_prompt: 'Be kind.', language: 'en' })).json().data.id;
    });
    afterAll(() => t?.close());

    function send(method: string, url: string, payload?: unknown, headers: Record<string, string> = {}) {
      return t.sb.app.inject({
        method: method as 'GET',
        url,
        headers: { authorization: `Bearer ${t.key}`, ...headers },
        ...(payload === undefined ? {} : { payload: typeof payload === 'string' ? payload : JSON.stringify(payload) }),
        ...(payload === undefined ? {} : { headers: { authorization: `Bearer ${t.key}`, 'content-type': 'application/json', ...headers } }),
      });
    }
    const count = async (table: 'calls' | 'agents' | 'tasks') =>
      Number((await t.sb.store.db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

    /** The field a face's error body names, and that the body is the face's own. */
    function fieldOf(url: string, body: any): string | undefined {
      if (url.startsWith('/api/public/v1')) return body.error?.details?.field;
      if (url.startsWith('/api/v1')) return body.success === false ? body.details?.field : undefined;
      return body.field;
    }
    const validationStatus = (url: string) => (url.startsWith('/api/public/v1') ? 422 : 400);

    const cases: Array<{ name: string; method: string; url: string; payload?: unknown; field: string }> = [
      { name: 'NUL in a task', method: 'POST', url: '/v1/start-call', payload: { phone_number: '+15550100', task: NUL }, field: 'task' },
      { name: 'lone surrogate in a task', method: 'POST', url: '/v1/start-call', payload: { phone_number: '+15550100', task: LONE }, field: 'task' },
      { name: 'NUL in metadata', method: 'POST', url: '/v1/start-call', payload: { phone_number: '+15550100', task: 'x', metadata: { ref: 'a\u0000' } }, field: 'metadata.ref' },
      { name: 'language "constructor"', method: 'POST', url: '/v1/start-call', payload: { phone_number: '+15550100', task: 'x', language: 'constructor' }, field: 'language' },
      { name: 'language "toString"', method: 'POST', url: '/v1/start-call', payload: { phone_number: '+15550100', task: 'x', language: 'toString' }, field: 'language' },
      { name: 'language "__proto__"', method: 'POST', url: '/v1/start-call', payload: { phone_number: '+15550100', task: 'x', language: '__proto__' }, field: 'language' },
      { name: '__proto__ as a metadata key', method: 'POST', url: '/v1/start-call', payload: '{"phone_number":"+15550100","task":"x","metadata":{"__proto__":{"a":1}}}', field: 'metadata.__proto__' },
      { name: 'NUL in an agent name', method: 'POST', url: '/api/v1/agents', payload: { name: NUL, system_prompt: 'x' }, field: 'name' },
      { name: 'agent language "constructor"', method: 'POST', url: '/api/v1/agents', payload: { name: 'B', system_prompt: 'x', language: 'constructor' }, field: 'language' },
      { name: 'a huge offset', method: 'GET', url: '/api/v1/agents?offset=99999999999999999999', field: 'offset' },
      { name: 'an offset past int4', method: 'GET', url: '/api/v1/calls?offset=2147483648', field: 'offset' },
      { name: 'a priority past its column', method: 'POST', url: '/api/v1/tasks', payload: { agent_id: '{agent}', name: 'T', to_number: '+15550100', priority: 2 ** 40 }, field: 'priority' },
      { name: 'year 0 in scheduled_at', method: 'POST', url: '/api/v1/tasks', payload: { agent_id: '{agent}', name: 'T', to_number: '+15550100', scheduled_at: '0000-01-01T10:00:00Z' }, field: 'scheduled_at' },
      { name: 'February 30th in scheduled_at', method: 'POST', url: '/api/v1/tasks', payload: { agent_id: '{agent}', name: 'T', to_number: '+15550100', scheduled_at: '2030-02-30T10:00:00Z' }, field: 'scheduled_at' },
      { name: 'NUL in a path id', method: 'GET', url: '/api/v1/calls/%00', field: 'id' },
      { name: 'a lone surrogate in a Truedy variable', method: 'POST', url: '/api/public/v1/calls', payload: { agent_id: '{agent}', phone_number: '+15550100', variables: { name: LONE } }, field: 'variables.name' },
      { name: 'a huge Truedy offset', method: 'GET', url: '/api/public/v1/calls?offset=1e20', field: 'offset' },
      { name: 'NUL in a Truedy query', method: 'GET', url: '/api/public/v1/calls?status=%00', field: 'status' },
    ];

    for (const c of cases) {
      it(`${c.name} → ${validationStatus(c.url)} naming ${c.field}, nothing stored`, async () => {
        const before = [await count('calls'), await count('agents'), await count('tasks')];
        const payload = typeof c.payload === 'object' ? JSON.parse(JSON.stringify(c.payload).replace('{agent}', agentId)) : c.payload;
        const r = await send(c.method, c.url, payload);
        expect(r.statusCode, r.body).toBe(validationStatus(c.url));
        expect(fieldOf(c.url, r.json()), r.body).toBe(c.field);
        expect([await count('calls'), await count('agents'), await count('tasks')]).toEqual(before);
      });
    }

    it('reads an empty JSON body as {} on every face, so the route names the missing field', async () => {
      const end = await send('POST', '/v1/end-call', '');
      expect(end.statusCode).toBe(400);
      expect(end.json()).toMatchObject({ error: 'Missing callSid' });
      const del = await send('DELETE', '/v1/verified-caller-ids/%2B15550100', '');
      expect(del.statusCode, del.body).toBe(404);
      const truedy = await send('POST', '/api/public/v1/calls', '');
      expect(truedy.statusCode).toBe(422);
      expect(truedy.json().error.details.field).toBe('agent_id');
      const agents = await send('POST', '/api/v1/agents', '');
      expect(agents.statusCode).toBe(400);
      expect(agents.json().details.field).toBe('name');
    });

    it('closes the live-transcript socket on a message over the limit (1009), and the server stays up', async () => {
      const base = (await t.sb.app.listen({ port: 0, host: '127.0.0.1' })).replace(/^http/, 'ws');
      const task = (await send('POST', '/api/v1/tasks', { agent_id: agentId, name: 'T', to_number: '+15550100' })).json().data;
      const callId = (await send('POST', `/api/v1/tasks/${task.id}/execute`)).json().data.call_id;
      const ws = new WebSocket(`${base}/ws/calls/${callId}?api_key=${t.key}`);
      const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
      ws.on('error', () => {});
      await new Promise((r) => ws.on('open', r));
      ws.send(JSON.stringify({ type: 'ping', pad: 'x'.repeat(WS_MAX_PAYLOAD) }));
      expect(await closed).toBe(1009);
      await until(async () => (await t.sb.app.inject({ method: 'GET', url: '/healthz' })).statusCode === 200, 5000, 'healthz');
    });
  });
}
