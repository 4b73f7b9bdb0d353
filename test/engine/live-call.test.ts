/**
 * Live calls on the simulated network with the rules brain: PATCH, transfers (API, automatic when a person
 * answers), max_queue_time, max_duration, questions to the operator answered through the API, voicemail.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/lib/clock.js';
import type { Brain, BrainInput, BrainTurn } from '../../src/engine/brain.js';
import { BACKENDS } from '../helpers/backends.js';
import { advanceUntil, startSwitchboard, until, type TestSwitchboard } from '../helpers/switchboard.js';

const backend = BACKENDS[0];

async function commands(t: TestSwitchboard, callId: string) {
  const rows = await t.sb.store.db.selectFrom('call_events').select('data').where('call_id', '=', callId).where('kind', '=', 'command').orderBy('seq').execute();
  return rows.map((r) => (typeof r.data === 'string' ? JSON.parse(r.data) : r.data) as { command: string; value: string | null });
}

describe('live calls (rules brain, automatic clock)', () => {
  let t: TestSwitchboard;
  let headers: Record<string, string>;
  beforeAll(async () => {
    t = await startSwitchboard(backend, { SHUTDOWN_GRACE_SECONDS: '1' });
    headers = { authorization: `Bearer ${t.key}` };
  });
  afterAll(() => t.close());

  async function callAndWait(payload: Record<string, unknown>) {
    const r = await t.sb.app.inject({ method: 'POST', url: '/v1/start-call', headers, payload });
    expect(r.statusCode, r.body).toBe(200);
    return until(async () => {
      const c = (await t.sb.app.inject({ method: 'GET', url: `/v1/calls/${r.json().sid}`, headers })).json();
      return c.ended_at ? c : null;
    }, 20_000);
  }

  it('transfers automatically to transfer_number when a person answers after the menu and the queue', async () => {
    const c = await callAndWait({ phone_number: '+15550101', task: 'Book an appointment with a doctor', language: 'en', transfer_number: '+15550100' });
    expect(c.status).toBe('completed');
    expect(c.outcome).toBe('transferred');
    expect(c.end_reason).toBe('auto_transfer');
    const cmds = (await commands(t, c.id)).map((x) => x.command);
    expect(cmds).toEqual(expect.arrayContaining(['press', 'human_answered', 'transfer']));
    expect(cmds.indexOf('human_answered')).toBeLessThan(cmds.indexOf('transfer'));
  });

  it('ends with queue_timeout when no person answers within max_queue_time', async () => {
    const c = await callAndWait({ phone_number: '+15550101', task: 'Book an appointment with a doctor', language: 'en', max_queue_time: 20 });
    expect(c.status).toBe('completed');
    expect(c.end_reason).toBe('queue_timeout');
    expect(c.summary.goal_completed).toBe(false);
    expect((await commands(t, c.id)).map((x) => x.command)).not.toContain('human_answered');
  });

  it('says a short goodbye and hangs up at max_duration', async () => {
    const c = await callAndWait({ phone_number: '+15550101', task: 'Book an appointment with a doctor', language: 'en', max_duration: 15 });
    expect(c.end_reason).toBe('max_duration');
    expect(c.transcripts[c.transcripts.length - 1]).toMatchObject({ role: 'assistant', text: expect.stringMatching(/goodbye/i) });
    expect(c.duration).toBeLessThanOrEqual(25);
  });
});

describe('live calls (manual clock)', () => {
  let t: TestSwitchboard;
  let headers: Record<string, string>;
  beforeAll(async () => {
    t = await startSwitchboard(backend, { SHUTDOWN_GRACE_SECONDS: '1' }, { clock: new VirtualClock(undefined, Infinity) });
    headers = { authorization: `Bearer ${t.key}` };
  });
  afterAll(() => t.close());

  const get = async (sid: string) => (await t.sb.app.inject({ method: 'GET', url: `/v1/calls/${sid}`, headers })).json();

  it('PATCH changes the task of a live call, validated; an ended call is not found', async () => {
    const { sid } = (await t.sb.app.inject({ method: 'POST', url: '/v1/start-call', headers, payload: { phone_number: '+15550101', task: 'Book an appointment', language: 'en' } })).json();
    await advanceUntil(t.clock, async () => (await get(sid)).status === 'in-progress');
    const bad = await t.sb.app.inject({ method: 'PATCH', url: `/v1/calls/${sid}`, headers, payload: { transfer_number: '12' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().field).toBe('transfer_number');
    const ok = await t.sb.app.inject({ method: 'PATCH', url: `/v1/calls/${sid}`, headers, payload: { task: 'Cancel my appointment on Friday', max_duration: 600 } });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json()).toMatchObject({ success: true, callSid: sid, status: 'in-progress' });
    const call = await t.sb.store.db.selectFrom('calls').select('request').where('sid', '=', sid).executeTakeFirstOrThrow();
    expect((call.request as any).task).toBe('Cancel my appointment on Friday');
    await t.sb.app.inject({ method: 'POST', url: '/v1/end-call', headers, payload: { callSid: sid } });
    await advanceUntil(t.clock, async () => (await get(sid)).ended_at);
    const late = await t.sb.app.inject({ method: 'PATCH', url: `/v1/calls/${sid}`, headers, payload: { task: 'x' } });
    expect(late.statusCode).toBe(404);
  });

  it('POST /transfer hands a connected call to the destination', async () => {
    const { sid } = (await t.sb.app.inject({ method: 'POST', url: '/v1/start-call', headers, payload: { phone_number: '+15550101', task: 'Book an appointment', language: 'en' } })).json();
    await advanceUntil(t.clock, async () => (await get(sid)).status === 'in-progress');
    const r = await t.sb.app.inject({ method: 'POST', url: `/v1/calls/${sid}/transfer`, headers, payload: { destination: '+15550100', warm: false } });
    expect(r.json()).toEqual({ success: true, transferType: 'cold', callSid: sid });
    const c = await advanceUntil(t.clock, async () => {
      const v = await get(sid);
      return v.ended_at ? v : null;
    });
    expect(c.outcome).toBe('transferred');
  });
});

/** A brain that asks the operator and says what it was told. */
class AskingBrain implements Brain {
  readonly name = 'asking';
  startCall() {
    return {
      async *next(input: BrainInput): BrainTurn {
        if (input.type === 'answered') {
          yield { type: 'ask_operator', question: 'Which day suits you?' };
          yield { type: 'wait' };
        } else if (input.type === 'operator_answer') {
          yield { type: 'say', text: input.answer ? `The answer is ${input.answer}.` : 'I will call back later.' };
          yield { type: 'end', goalCompleted: !!input.answer, reason: 'done' };
        }
      },
    };
  }
}

describe('questions to the operator', () => {
  let t: TestSwitchboard;
  let headers: Record<string, string>;
  // The operator's 20 s must run out before Bella Cucina's patience (15 s of silence, "still there?", then 15 s
  // more and goodbye): at 30 s the two ends of the call tie, and which one the virtual clock reaches first
  // depends on how fast the reads polling it are.
  beforeAll(async () => {
    t = await startSwitchboard(backend, { SHUTDOWN_GRACE_SECONDS: '1', OPERATOR_ANSWER_TIMEOUT_SECONDS: '20' }, { clock: new VirtualClock(undefined, Infinity), brain: new AskingBrain() });
    headers = { authorization: `Bearer ${t.key}` };
  });
  afterAll(() => t.close());
  const get = async (sid: string) => (await t.sb.app.inject({ method: 'GET', url: `/v1/calls/${sid}`, headers })).json();

  it('shows the question on the call, takes the answer through the API, and the agent uses it', async () => {
    const { sid } = (await t.sb.app.inject({ method: 'POST', url: '/v1/start-call', headers, payload: { phone_number: '+15550100', task: 'x', language: 'en' } })).json();
    const pending = await advanceUntil(t.clock, async () => (await get(sid)).operator_question);
    expect(pending.question).toBe('Which day suits you?');
    const r = await t.sb.app.inject({ method: 'POST', url: `/v1/calls/${sid}/operator-answer`, headers, payload: { answer: 'Friday' } });
    expect(r.statusCode, r.body).toBe(200);
    const again = await t.sb.app.inject({ method: 'POST', url: `/v1/calls/${sid}/operator-answer`, headers, payload: { answer: 'Friday' } });
    expect(again.statusCode).toBe(400);
    const c = await advanceUntil(t.clock, async () => {
      const v = await get(sid);
      return v.ended_at ? v : null;
    });
    expect(c.transcripts.map((x: any) => x.text)).toContain('The answer is Friday.');
    expect(c.summary.goal_completed).toBe(true);
    expect(c.operator_question).toBeNull();
  });

  it('carries on gracefully when nobody answers in time', async () => {
    const { sid } = (await t.sb.app.inject({ method: 'POST', url: '/v1/start-call', headers, payload: { phone_number: '+15550100', task: 'x', language: 'en' } })).json();
    const c = await advanceUntil(t.clock, async () => {
      const v = await get(sid);
      return v.ended_at ? v : null;
    }, 5000);
    expect(c.transcripts.map((x: any) => x.text)).toContain('I will call back later.');
    expect(c.summary.goal_completed).toBe(false);
  });
});

describe('voicemail set to hang up', () => {
  let t: TestSwitchboard;
  beforeAll(async () => {
    t = await startSwitchboard(backend, { SHUTDOWN_GRACE_SECONDS: '1', VOICEMAIL_ACTION: 'hang_up' });
  });
  afterAll(() => t.close());

  it('hangs up on an answering machine without leaving a message', async () => {
    const headers = { authorization: `Bearer ${t.key}` };
    const { sid } = (await t.sb.app.inject({ method: 'POST', url: '/v1/start-call', headers, payload: { phone_number: '+15550104', task: 'Tell Maria the plumber comes Friday', language: 'en' } })).json();
    const c = await until(async () => {
      const v = (await t.sb.app.inject({ method: 'GET', url: `/v1/calls/${sid}`, headers })).json();
      return v.ended_at ? v : null;
    });
    expect(c).toMatchObject({ status: 'completed', answered_by: 'machine', outcome: 'voicemail' });
    expect(c.transcripts.filter((x: any) => x.role === 'assistant')).toEqual([]);
  });
});
