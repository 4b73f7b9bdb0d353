/** Shared set-up of the Truedy face's tests: a switchboard, an agent with an outbound number, stored calls. */
import { loadConfig } from '../../src/config/index.js';
import { SimCarrier, loadScenarios, type Scenario } from '../../src/carriers/sim/index.js';
import type { Carrier } from '../../src/carriers/carrier.js';
import { VirtualClock } from '../../src/lib/clock.js';
import { createLogger } from '../../src/lib/logger.js';
import { newCallSid, newId } from '../../src/lib/ids.js';
import type { Backend } from '../helpers/backends.js';
import { startSwitchboard, type TestSwitchboard } from '../helpers/switchboard.js';

/** 003's example ids and numbers. */
export const EXAMPLE_AGENT_ID = '1f4baf16-1540-4d91-9696-7f34b2f2cb77';
export const EXAMPLE_CALL_ID = '44ec8f61-6d9a-4553-a6ca-777f5f5ef95b';
export const EXAMPLE_CALL_ID_2 = 'f89052b2-3467-4a34-b4e3-e5d1571cbb36';
export const EXAMPLE_TO = '+14155550123';
export const OUTBOUND_NUMBER = '+15557770001';

export interface Reply {
  statusCode: number;
  body: string;
  headers: Record<string, unknown>;
  json(): any;
}

export interface TruedyTest {
  t: TestSwitchboard;
  api(method: string, url: string, payload?: unknown, headers?: Record<string, string>): Promise<Reply>;
  auth: Record<string, string>;
  insertCall(o: Partial<{ id: string; status: string; direction: string; agent_id: string | null; request: Record<string, unknown>; last_error: string | null; end_reason: string | null; summary: string | null; credits_charged: number | null; cost_usd: number | null }>): Promise<string>;
  callCount(): Promise<number>;
}

/**
 * A switchboard whose simulated network also knows 003's example destination (+14155550123, a busy line),
 * with 003's example agent (its id) holding an outbound number.
 */
export async function startTruedy(backend: Backend, env: Record<string, string> = {}, carrier?: Carrier): Promise<TruedyTest> {
  const clock = new VirtualClock();
  const config = loadConfig({ LOG_LEVEL: 'silent', NODE_ENV: 'test' });
  const scenarios = await loadScenarios(config.scenariosDir);
  const example = { number: EXAMPLE_TO, name: '003 example', kind: 'busy', language: 'en', description: 'The example destination of 003.' } as unknown as Scenario;
  const sim = new SimCarrier({ scenarios: [...scenarios, example], clock, log: createLogger('silent') });
  const t = await startSwitchboard(backend, { SHUTDOWN_GRACE_SECONDS: '1', ...env }, { clock, carrier: carrier ?? sim });
  const a = await t.sb.core.agents.create(t.orgId, {
    name: 'Appointment reminder',
    system_prompt: 'You call {{first_name}} {{last_name}} from {{company}} about the appointment at {{appointment_time}}.',
    starting_message: 'Hi {{first_name}}!',
    language: 'en',
  });
  await t.sb.store.db.updateTable('agents').set({ id: EXAMPLE_AGENT_ID }).where('id', '=', a.id).execute();
  await t.sb.core.numbers.add(t.orgId, { number: OUTBOUND_NUMBER, outbound_agent_id: EXAMPLE_AGENT_ID });
  const auth = { authorization: `Bearer ${t.key}` };
  return {
    t,
    auth,
    api: (method, url, payload, headers = auth) =>
      t.sb.app.inject({
        method: method as any,
        url: '/api/public/v1' + url,
        headers: { ...headers, ...(payload !== undefined ? { 'content-type': 'application/json' } : {}) },
        payload: payload as any,
      }),
    async insertCall(o) {
      const id = o.id ?? newId();
      const status = o.status ?? 'completed';
      const ended = !['queued', 'ringing', 'in_progress'].includes(status);
      await t.sb.store.db
        .insertInto('calls')
        .values({
          id, sid: newCallSid(), org_id: t.orgId, direction: o.direction ?? 'outbound', from_number: OUTBOUND_NUMBER, to_number: EXAMPLE_TO, status,
          request: JSON.stringify(o.request ?? { face: 'truedy', to: EXAMPLE_TO, task: 'x', metadata: {}, context: {} }),
          carrier: 'sim', brain: 'rules', answered_by: null, outcome: null, end_reason: o.end_reason ?? null, last_error: o.last_error ?? null,
          goal_completed: null, summary: o.summary ?? null, extracted: null, duration_seconds: ended ? 42 : null,
          credits_charged: o.credits_charged ?? (ended ? 2 : null), cost_usd: o.cost_usd ?? (ended ? 0.1 : null), owner_node: null, answered_at: new Date(), ended_at: ended ? new Date() : null,
          agent_id: o.agent_id === undefined ? EXAMPLE_AGENT_ID : o.agent_id, task_id: null,
        })
        .execute();
      return id;
    },
    async callCount() {
      const r = await t.sb.store.db.selectFrom('calls').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
      return Number(r.n);
    },
  };
}
