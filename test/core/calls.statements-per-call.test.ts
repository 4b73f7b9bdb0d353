/**
 * How many SQL statements one simulated call costs the store, from `POST /v1/start-call` to its end: on the
 * embedded store every one of them takes a turn of the single connection the API's requests need too
 * (docs/performance.md, "Statements per call"). A change that adds statements to a call fails here; one that
 * removes some lowers the bound.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../helpers/backends.js';
import { startCountedSwitchboard, type StatementLog } from '../helpers/statements.js';
import { until, type TestSwitchboard } from '../helpers/switchboard.js';

/**
 * The call to Bella Cucina (+15550100: a receptionist, three turns, six transcript lines and two of the
 * agent's commands), with no webhook, as bench/embedded-load.ts places it. Its statements (20; 40 before
 * this bound was set):
 *   start-call request   2  the key's lookup; the call and its dial job (one statement)
 *   dial job             2  claim the call (owner and brain); delete the job
 *   ringing, answered    2  one statement each: the move and its status event
 *   lines and commands   8  one statement each; a turn's figures go with its first line heard
 *   end                  5  begin; lock the call; usage record; the move with its status event and the
 *                           dial job's removal; commit
 *   line free            1  the dial runner looks for a call waiting for a line
 */
const MAX_STATEMENTS = 20;

const BODY = { phone_number: '+15550100', task: 'Confirm my booking for Tuesday, reference AB123', language: 'en' };

for (const backend of BACKENDS) {
  describe(`statements per call [${backend.name}]`, () => {
    let t: TestSwitchboard;
    let log!: StatementLog;
    beforeAll(async () => {
      ({ t, log } = await startCountedSwitchboard(backend));
    });
    afterAll(() => t.close());

    it(`a call to Bella Cucina, start to end, takes at most ${MAX_STATEMENTS} statements and is recorded in full`, async () => {
      // The runners' first polls at start-up are not awaited by it: they must be over before counting.
      await until(async () => {
        const before = log.statements.length;
        await new Promise((r) => setTimeout(r, 300));
        return log.statements.length === before;
      }, 10_000, 'a quiet store');
      log.reset();
      const r = await t.sb.app.inject({ method: 'POST', url: '/v1/start-call', headers: { authorization: `Bearer ${t.key}` }, payload: BODY });
      expect(r.statusCode, r.body).toBe(200);
      await until(async () => t.sb.dialer.liveCount === 0, 20_000, 'the call to end');
      // The end's commit frees the line, and the dial runner's look for a waiting call follows it.
      await until(async () => log.statements.some((s) => s.sql.includes('for update skip locked')), 5_000, 'the line-free poll');
      const statements = log.statements.map((s) => `${s.from}  ${s.sql.slice(0, 80)}`);
      log.reset();

      const call = (await t.sb.app.inject({ method: 'GET', url: `/v1/calls/${r.json().sid}`, headers: { authorization: `Bearer ${t.key}` } })).json();
      expect(call.status).toBe('completed');
      expect(call.transcripts.map((l: { role: string }) => l.role)).toEqual(['user', 'assistant', 'user', 'assistant', 'user', 'assistant']);
      const events = await t.sb.store.db.selectFrom('call_events').select(['seq', 'kind']).where('call_id', '=', call.id).orderBy('seq').execute();
      // Every event once, in order, numbered without a gap: ringing, answered, the six lines and the agent's
      // two commands (a person answered; the end), completed.
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
      expect(events.map((e) => e.kind)).toEqual(['status', 'status', 'transcript', 'command', ...Array(5).fill('transcript'), 'command', 'status']);
      expect(await t.sb.core.calls.turns(call.id)).toHaveLength(3);
      expect(await t.sb.core.credits.usageOf(call.id)).toBeDefined();

      expect(statements.length, statements.join('\n')).toBeLessThanOrEqual(MAX_STATEMENTS);
    });
  });
}
