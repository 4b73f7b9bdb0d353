/**
 * How many SQL statements the API's most frequent requests cost the store: on the embedded store each takes a
 * turn of the one connection that the live calls' writes need too (docs/performance.md §11, "API reads under
 * call load"). `GET /v1/calls/:id` is one statement (the call, its transcript, commands, recording and turn
 * figures together: core/calls/details.ts); `POST /v1/start-call` with nothing else to store is one (the call
 * and its dial job). The key's lookup comes on top at most once a second per key (core/orgs.ts keeps an
 * authenticated key a second, so that a revoked key is refused within a second on every node).
 * A change that adds a statement to these requests fails here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../helpers/backends.js';
import { startCountedSwitchboard, type StatementLog } from '../helpers/statements.js';
import { until, type TestSwitchboard } from '../helpers/switchboard.js';

const BODY = { phone_number: '+15550100', task: 'Confirm my booking for Tuesday, reference AB123', language: 'en' };
const READS = 20;

for (const backend of BACKENDS) {
  describe(`statements per API request [${backend.name}]`, () => {
    let t: TestSwitchboard;
    let log!: StatementLog;
    let callId: string;
    const auth = () => ({ authorization: `Bearer ${t.key}` });
    const isKeyLookup = (sql: string) => /from "api_keys"/.test(sql);

    beforeAll(async () => {
      ({ t, log } = await startCountedSwitchboard(backend));
      const r = await t.sb.app.inject({ method: 'POST', url: '/v1/start-call', headers: auth(), payload: BODY });
      expect(r.statusCode, r.body).toBe(200);
      callId = r.json().id;
      // A call read after its end has all its rows (transcript, commands, turns): the most a read returns.
      await until(async () => t.sb.dialer.liveCount === 0, 20_000, 'the call to end');
      await until(async () => {
        const before = log.statements.length;
        await new Promise((resolve) => setTimeout(resolve, 300));
        return log.statements.length === before;
      }, 10_000, 'a quiet store');
    });
    afterAll(() => t.close());

    it(`GET /v1/calls/:id: one statement per read, the key looked up at most once a second (${READS} reads)`, async () => {
      log.reset();
      const began = Date.now();
      for (let i = 0; i < READS; i++) {
        const r = await t.sb.app.inject({ method: 'GET', url: `/v1/calls/${callId}`, headers: auth() });
        expect(r.statusCode).toBe(200);
        expect(r.json().transcripts).toHaveLength(6);
      }
      const seconds = Math.ceil((Date.now() - began) / 1000);
      const statements = log.statements.map((s) => `${s.from}  ${s.sql.slice(0, 100)}`);
      const reads = log.statements.filter((s) => !isKeyLookup(s.sql));
      expect(reads, statements.join('\n')).toHaveLength(READS);
      expect(reads.every((s) => s.from.startsWith('core/calls/details.ts')), statements.join('\n')).toBe(true);
      expect(log.statements.filter((s) => isKeyLookup(s.sql)).length, statements.join('\n')).toBeLessThanOrEqual(seconds + 1);
    });

    it('POST /v1/start-call (no webhook, no idempotency key): one statement besides the key lookup', async () => {
      // The call's dial job would run on a free line and add its own statements: none is free.
      t.sb.core.calls.setLauncher({ reserve: () => false, release() {}, launch() {} });
      log.reset();
      const r = await t.sb.app.inject({ method: 'POST', url: '/v1/start-call', headers: auth(), payload: BODY });
      expect(r.statusCode, r.body).toBe(200);
      const statements = log.statements.map((s) => `${s.from}  ${s.sql.slice(0, 100)}`);
      // The dial runner, woken by the new job, looks for it after the answer: the call's cost
      // (calls.statements-per-call.test.ts), not the request's.
      const request = log.statements.filter((s) => !s.from.startsWith('jobs/'));
      expect(request.filter((s) => !isKeyLookup(s.sql)), statements.join('\n')).toHaveLength(1);
      expect(request.filter((s) => isKeyLookup(s.sql)).length).toBeLessThanOrEqual(1);
    });
  });
}
