import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../helpers/backends.js';
import { startSwitchboard, type TestSwitchboard } from '../helpers/switchboard.js';

describe('agents/tasks API: Idempotency-Key on POST /tasks/:id/execute', () => {
  let t: TestSwitchboard;
  const api = (method: string, url: string, payload?: unknown, headers: Record<string, string> = {}) =>
    t.sb.app.inject({
      method: method as any,
      url: '/api/v1' + url,
      headers: { authorization: `Bearer ${t.key}`, ...(payload !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      payload: payload as any,
    });
  beforeAll(async () => {
    t = await startSwitchboard(BACKENDS[0], { SHUTDOWN_GRACE_SECONDS: '1' });
  });
  afterAll(() => t.close());

  it('a retry with the same key returns the first call and dials nothing; the key on another task is refused', async () => {
    const agent = (await api('POST', '/agents', { name: 'A', system_prompt: 'Be brief.' })).json().data;
    const task = (await api('POST', '/tasks', { agent_id: agent.id, name: 'Call', to_number: '+15550102' })).json().data;
    const other = (await api('POST', '/tasks', { agent_id: agent.id, name: 'Call 2', to_number: '+15550102' })).json().data;
    const first = await api('POST', `/tasks/${task.id}/execute`, undefined, { 'idempotency-key': 'exec-1' });
    expect(first.statusCode, first.body).toBe(200);
    const again = await api('POST', `/tasks/${task.id}/execute`, undefined, { 'idempotency-key': 'exec-1' });
    expect(again.statusCode, again.body).toBe(200);
    expect(again.json().data.call_id).toBe(first.json().data.call_id);
    const calls = await t.sb.store.db.selectFrom('calls').select('id').where('task_id', '=', task.id).execute();
    expect(calls).toHaveLength(1);
    // Without the key, executing a task that is no longer pending is refused.
    expect((await api('POST', `/tasks/${task.id}/execute`)).statusCode).toBe(400);
    const misuse = await api('POST', `/tasks/${other.id}/execute`, undefined, { 'idempotency-key': 'exec-1' });
    expect(misuse.statusCode).toBe(400);
    expect(misuse.json().success).toBe(false);
  });
});
