/** Bad input on every /api/v1 route → 4xx in the error envelope, never 5xx. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../helpers/backends.js';
import { startSwitchboard, type TestSwitchboard } from '../helpers/switchboard.js';

const ROUTES: Array<[string, string]> = [
  ['GET', '/agents'], ['POST', '/agents'], ['GET', '/agents/:id'], ['PATCH', '/agents/:id'], ['DELETE', '/agents/:id'],
  ['GET', '/tasks'], ['POST', '/tasks'], ['GET', '/tasks/:id'], ['PATCH', '/tasks/:id'], ['DELETE', '/tasks/:id'],
  ['POST', '/tasks/:id/execute'], ['POST', '/tasks/:id/reset'],
  ['GET', '/calls'], ['GET', '/calls/:id'], ['GET', '/calls/:id/transcript'], ['POST', '/calls/:id/transcript'],
  ['GET', '/calls/:id/report'], ['GET', '/calls/:id/recording'], ['GET', '/calls/:id/recording/stream'],
  ['GET', '/calls/:id/live'], ['POST', '/calls/:id/end'], ['POST', '/calls/:id/cancel'],
];
const IDS = ['x', '00000000-0000-4000-8000-000000000000', "'; drop table calls; --", 'CA' + '0'.repeat(32)];
const BODIES = ['{', '[]', '"str"', '{"name": 5, "system_prompt": []}', '{"agent_id": "x", "name": "", "to_number": "12"}', '{"limit": -1}'];
const QUERIES = ['?limit=0', '?limit=abc', '?offset=-5', '?enabled=perhaps', '?status=nope', '?agent_id=x&task_id=y'];

for (const backend of BACKENDS) {
  describe(`agents/tasks API: bad input never 5xx [${backend.name}]`, () => {
    let t: TestSwitchboard;
    beforeAll(async () => {
      t = await startSwitchboard(backend, { SHUTDOWN_GRACE_SECONDS: '1' });
    });
    afterAll(() => t.close());

    it('every route, bad ids, bodies and queries', async () => {
      for (const [method, path] of ROUTES) {
        for (const id of IDS) {
          const url = '/api/v1' + path.replace(':id', encodeURIComponent(id));
          for (const q of method === 'GET' ? QUERIES : ['']) {
            for (const body of method === 'GET' || method === 'DELETE' ? [undefined] : BODIES) {
              const r = await t.sb.app.inject({
                method: method as any,
                url: url + q,
                headers: { authorization: `Bearer ${t.key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
                payload: body,
              });
              expect(r.statusCode, `${method} ${url}${q} ${body ?? ''}: ${r.body}`).toBeLessThan(500);
              if (r.statusCode >= 400) expect(r.json().success).toBe(false);
            }
          }
        }
      }
    }, 60_000);
  });
}
