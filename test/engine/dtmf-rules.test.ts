/**
 * An agent's `dtmf_rules` (002): the keys of a rule are pressed when the callee says its words, by the engine,
 * whatever the brain would have done; bad rules are refused with a 400 naming the rule, nothing stored.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../helpers/switchboard.js';
import { ScriptedBrain, engineHarness, type EngineHarness } from './session-harness.js';

// Left alone, this brain would always ask for prescriptions (1); the rule below wants opening hours (2).
const brain = new ScriptedBrain((input) => {
  if (input.type !== 'speech') return undefined;
  if (/press 1/i.test(input.text)) return [{ type: 'press', digits: '1' }];
  if (/personal identity number/i.test(input.text)) return [{ type: 'end', goalCompleted: false, reason: 'asked_for_number' }];
  return undefined;
});

describe('dtmf_rules', () => {
  let h: EngineHarness;
  const api = (method: string, url: string, payload?: unknown) =>
    h.t.sb.app.inject({ method: method as 'POST', url, headers: h.headers, ...(payload !== undefined ? { payload: payload as object } : {}) });

  beforeAll(async () => {
    h = await engineHarness(brain);
  });
  afterAll(() => h.close());

  /** Places a call by the agent through Truedy's create (from the organisation's simulated number) and waits for its end. */
  async function callBy(agentId: string) {
    const r = await api('POST', '/api/public/v1/calls', { agent_id: agentId, phone_number: '+15550105' });
    expect(r.statusCode, r.body).toBe(201);
    const id = r.json().data.id as string;
    return until(async () => {
      const c = (await api('GET', `/v1/calls/${id}`)).json();
      return c.ended_at ? c : null;
    }, 60_000, 'the call to end');
  }

  it("presses the rule's keys when the menu says its words, instead of what the brain would press", async () => {
    const created = await api('POST', '/api/v1/agents', {
      name: 'Hours checker',
      system_prompt: 'Find out when the pharmacy is open.',
      dtmf_rules: { 'For our opening hours, press 2': '2' },
    });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json().data.dtmf_rules).toEqual({ 'For our opening hours, press 2': '2' });

    const c = await callBy(created.json().data.id);
    expect(c.keys.map((k: { keys: string }) => k.keys)).toEqual(['2']);
    expect(h.events(c.id)).toContain('act press 2: ok');
    expect(h.events(c.id)).not.toContain('act press 1: ok');
    expect(c.transcripts.map((x: { text: string }) => x.text).join(' ')).toMatch(/We are open every day/);
  }, 90_000);

  it('without rules the same agent presses what its brain chooses', async () => {
    const created = await api('POST', '/api/v1/agents', { name: 'No rules', system_prompt: 'Find out when the pharmacy is open.' });
    const c = await callBy(created.json().data.id);
    expect(c.keys.map((k: { keys: string }) => k.keys)).toEqual(['1']);
  }, 90_000);

  it('bad rules → 400 naming the rule; nothing stored; PATCH replaces the rules', async () => {
    const before = (await api('GET', '/api/v1/agents?limit=100')).json().data.length;
    const bad: Array<[unknown, string]> = [
      [['2'], 'dtmf_rules'],
      [{ 'press two': 2 }, 'dtmf_rules.press two'],
      [{ 'press two': 'two' }, 'dtmf_rules.press two'],
      [{ '!!!': '2' }, 'dtmf_rules.!!!'],
      [{ 'press two': '' }, 'dtmf_rules.press two'],
    ];
    for (const [rules, field] of bad) {
      const r = await api('POST', '/api/v1/agents', { name: 'Bad', system_prompt: 'x', dtmf_rules: rules });
      expect(r.statusCode, JSON.stringify(rules)).toBe(400);
      expect(r.body).toContain(field);
    }
    expect((await api('GET', '/api/v1/agents?limit=100')).json().data.length).toBe(before);

    const a = (await api('POST', '/api/v1/agents', { name: 'Patched', system_prompt: 'x' })).json().data;
    const p = await api('PATCH', `/api/v1/agents/${a.id}`, { dtmf_rules: { 'account number': 'w1234#' } });
    expect(p.statusCode, p.body).toBe(200);
    expect(p.json().data.dtmf_rules).toEqual({ 'account number': 'w1234#' });
    const refused = await api('PATCH', `/api/v1/agents/${a.id}`, { dtmf_rules: { 'account number': 'abc' } });
    expect(refused.statusCode).toBe(400);
    expect((await api('GET', `/api/v1/agents/${a.id}`)).json().data.dtmf_rules).toEqual({ 'account number': 'w1234#' });
  });
});
