/**
 * 002's 403 and 503: account management routes need a session (403 with an API key); a provider that fails
 * while a task's call is placed is "503 Service Unavailable (external service error)".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Carrier } from '../../src/carriers/carrier.js';
import { BACKENDS } from '../helpers/backends.js';
import { startSwitchboard, type TestSwitchboard } from '../helpers/switchboard.js';

const refusing: Carrier = {
  name: 'refusing',
  capabilities: { dtmfOut: false, textMode: true, mediaStream: false, knowsDestinations: false, transfer: false },
  async dial() {
    throw new Error('carrier refused the call: account suspended');
  },
};

describe('agents/tasks: 403 and 503', () => {
  let t: TestSwitchboard;
  let auth: Record<string, string>;
  beforeAll(async () => {
    t = await startSwitchboard(BACKENDS[0], { SHUTDOWN_GRACE_SECONDS: '1' }, { carrier: refusing });
    auth = { authorization: `Bearer ${t.key}` };
  });
  afterAll(() => t.close());
  const api = (method: string, url: string, payload?: unknown) =>
    t.sb.app.inject({ method: method as any, url: '/api/v1' + url, headers: { ...auth, ...(payload !== undefined ? { 'content-type': 'application/json' } : {}) }, payload: payload as any });

  it('answers 403 in the envelope to API keys, organisations and users management called with an API key', async () => {
    for (const [method, url] of [['GET', '/api-keys'], ['POST', '/api-keys'], ['DELETE', '/api-keys/k1'], ['POST', '/api-keys/k1/regenerate'], ['GET', '/organizations'], ['PATCH', '/organizations/o1'], ['GET', '/users'], ['POST', '/users/invite']]) {
      const r = await api(method, url, method === 'GET' || method === 'DELETE' ? undefined : {});
      expect(r.statusCode, `${method} ${url}`).toBe(403);
      expect(r.json()).toMatchObject({ success: false, details: { code: 'SB_ERR_FORBIDDEN' }, meta: { request_id: expect.any(String) } });
    }
    // Without a key it is still a 401 first.
    expect((await t.sb.app.inject({ method: 'GET', url: '/api/v1/api-keys' })).statusCode).toBe(401);
  });

  it('answers 503 with the call id when the carrier refuses a task’s call, and the task and call are failed', async () => {
    const agent = (await api('POST', '/agents', { name: 'A', system_prompt: 'Be brief.' })).json().data;
    const task = (await api('POST', '/tasks', { agent_id: agent.id, name: 'x', to_number: '+15550100' })).json().data;
    const r = await api('POST', `/tasks/${task.id}/execute`);
    expect(r.statusCode, r.body).toBe(503);
    const b = r.json();
    expect(b).toMatchObject({ success: false, details: { code: 'SB_ERR_PROVIDER', last_error: 'carrier refused the call: account suspended' } });
    const call = (await api('GET', `/calls/${b.details.call_id}`)).json().data;
    expect(call.status).toBe('failed');
    expect((await api('GET', `/tasks/${task.id}`)).json().data.status).toBe('failed');
  });
});
