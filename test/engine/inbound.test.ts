/**
 * Inbound calls on the simulated network: a caller scenario rings a number assigned to an agent, the agent
 * answers with its greeting and takes the request; a number assigned to no agent hears "not in service"
 * and no call is stored. Also the numbers service (credentials sealed at rest) and CallMyCall's from_number.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimCarrier } from '../../src/carriers/sim/index.js';
import { BACKENDS } from '../helpers/backends.js';
import { startSwitchboard, until, type TestSwitchboard } from '../helpers/switchboard.js';

const backend = BACKENDS[0];
const GREETING = 'Thanks for calling Bella Cucina, how can I help?';
const OUR_NUMBER = '+15550170';

describe('inbound calls (rules brain, simulated caller)', () => {
  let t: TestSwitchboard;
  let headers: Record<string, string>;
  let agentId: string;
  beforeAll(async () => {
    t = await startSwitchboard(backend, { SHUTDOWN_GRACE_SECONDS: '1' });
    headers = { authorization: `Bearer ${t.key}` };
    const agent = await t.sb.core.agents.create(t.orgId, {
      name: 'Bella Cucina front desk',
      system_prompt: 'You answer the phone for Bella Cucina, an Italian restaurant. Take table bookings.',
      starting_message: GREETING,
      language: 'en',
    });
    agentId = agent.id;
    await t.sb.core.numbers.add(t.orgId, { number: OUR_NUMBER, inbound_agent_id: agent.id });
  });
  afterAll(() => t.close());

  const sim = () => t.sb.carrier as SimCarrier;

  it('the carrier announces the inbound capability', () => {
    expect(t.sb.carrier.capabilities.inbound).toBe(true);
  });

  it('a caller rings an assigned number: the agent answers with its greeting and takes the request', async () => {
    const r = await sim().placeInbound({ from: '+15550150', to: OUR_NUMBER });
    expect(r.answered).toBe(true);
    if (!r.answered) return;
    const c = await until(async () => {
      const v = (await t.sb.app.inject({ method: 'GET', url: `/v1/calls/${r.callId}`, headers })).json();
      return v.ended_at ? v : null;
    }, 20_000);
    expect(c.direction).toBe('inbound');
    expect(c.from).toBe('+15550150');
    expect(c.to).toBe(OUR_NUMBER);
    expect(c.status).toBe('completed');
    expect(c.sid).toMatch(/^CA/);
    expect(c.transcripts[0]).toMatchObject({ role: 'assistant', text: GREETING });
    const callerLines = c.transcripts.filter((x: { role: string }) => x.role !== 'assistant').map((x: { text: string }) => x.text);
    expect(callerLines.join(' ')).toMatch(/book a table for two on Friday at 8 pm/);
    expect(callerLines.join(" "), JSON.stringify(c.transcripts)).toMatch(/Alex Smith/);
    expect(c.transcripts.some((x: { role: string; text: string }) => x.role === 'assistant' && /noted your request/.test(x.text))).toBe(true);

    const row = await t.sb.store.db.selectFrom('calls').selectAll().where('id', '=', r.callId).executeTakeFirstOrThrow();
    expect(row.agent_id).toBe(agentId);
    expect(row.direction).toBe('inbound');
    expect(t.sb.core.calls.requestOf(row)).toMatchObject({ direction: 'inbound', fromNumber: '+15550150', agent: { id: agentId, greeting: GREETING } });
    const statuses = await t.sb.store.db.selectFrom('call_events').select('data').where('call_id', '=', r.callId).where('kind', '=', 'status').orderBy('seq').execute();
    expect(statuses.map((s) => (typeof s.data === 'string' ? JSON.parse(s.data) : s.data).status)).toEqual(['ringing', 'in_progress', 'completed']);
  });

  it('a call to a number no agent answers hears "not in service" and stores no call', async () => {
    const before = await t.sb.store.db.selectFrom('calls').select('id').execute();
    // An own number with no inbound agent, and a number nobody owns.
    await t.sb.core.numbers.add(t.orgId, { number: '+15550171' });
    for (const to of ['+15550171', '+15550172']) {
      const r = await sim().placeInbound({ from: '+15550150', to });
      expect(r.answered).toBe(false);
      if (r.answered) return;
      expect(r.message).toMatch(/not in service/i);
      expect(r.log[0]).toMatchObject({ who: 'agent', text: expect.stringMatching(/not in service/i) });
    }
    const after = await t.sb.store.db.selectFrom('calls').select('id').execute();
    expect(after.length).toBe(before.length);
  });

  it('a caller number cannot be dialled: it calls in and never answers', () => {
    expect(sim().checkDestination('+15550150')).toMatch(/caller/);
  });
});

describe('phone numbers', () => {
  let t: TestSwitchboard;
  let headers: Record<string, string>;
  beforeAll(async () => {
    t = await startSwitchboard(backend, { SHUTDOWN_GRACE_SECONDS: '1' });
    headers = { authorization: `Bearer ${t.key}` };
  });
  afterAll(() => t.close());

  it('creates and assigns numbers to agents of the organisation only', async () => {
    const agent = await t.sb.core.agents.create(t.orgId, { name: 'Desk', system_prompt: 'Answer the phone.' });
    const n = await t.sb.core.numbers.add(t.orgId, { number: '+15550180' });
    expect(n).toMatchObject({ number: '+15550180', carrier: 'sim', inbound_agent_id: null, outbound_agent_id: null });
    expect(await t.sb.core.numbers.inboundAgent('+15550180')).toBeNull();
    const u = await t.sb.core.numbers.update(t.orgId, n.id, { inbound_agent_id: agent.id, outbound_agent_id: agent.id });
    expect(u.inbound_agent_id).toBe(agent.id);
    expect(await t.sb.core.numbers.inboundAgent('+15550180')).toEqual({ orgId: t.orgId, agentId: agent.id });
    expect((await t.sb.core.numbers.outboundFor(t.orgId, agent.id)).map((x) => x.number)).toEqual(['+15550180']);
    await expect(t.sb.core.numbers.add(t.orgId, { number: '+15550180' })).rejects.toMatchObject({ code: 'SB_ERR_VALIDATION' });
    await expect(t.sb.core.numbers.add(t.orgId, { number: '12345' })).rejects.toMatchObject({ code: 'SB_ERR_VALIDATION' });
    const other = await t.sb.core.orgs.ensure('other-org', { credits: 10 });
    const foreign = await t.sb.core.agents.create(other.org.id, { name: 'Theirs', system_prompt: 'x' });
    await expect(t.sb.core.numbers.update(t.orgId, n.id, { inbound_agent_id: foreign.id })).rejects.toMatchObject({ code: 'SB_ERR_VALIDATION' });
  });

  it('keeps carrier credentials sealed at rest and opens them back', async () => {
    const secret = { account_sid: 'AC' + '5a'.repeat(16), auth_token: 'tok-very-secret-plaintext' };
    const n = await t.sb.core.numbers.add(t.orgId, { number: '+15550181', carrier: 'twilio', credentials: secret });
    const raw = await t.sb.store.db.selectFrom('phone_numbers').select('credentials').where('id', '=', n.id).executeTakeFirstOrThrow();
    const stored = JSON.stringify(raw.credentials);
    expect(raw.credentials).not.toBeNull();
    expect(stored).not.toContain('tok-very-secret-plaintext');
    expect(stored).not.toContain(secret.account_sid);
    expect(await t.sb.core.numbers.credentials(t.orgId, n.id)).toEqual(secret);
  });

  it("CallMyCall's start-call accepts the organisation's own number as from_number and refuses others", async () => {
    await t.sb.core.numbers.add(t.orgId, { number: '+15550182' });
    const ok = await t.sb.app.inject({
      method: 'POST',
      url: '/v1/start-call',
      headers,
      payload: { phone_number: '+15550100', task: 'Confirm my booking', from_number: '+15550182' },
    });
    expect(ok.statusCode, ok.body).toBe(200);
    const call = await t.sb.core.calls.find(t.orgId, ok.json().sid);
    expect(call.from_number).toBe('+15550182');
    await t.sb.core.calls.end(t.orgId, call.id);
    const other = await t.sb.core.orgs.ensure('number-owner', { credits: 10 });
    await t.sb.core.numbers.add(other.org.id, { number: '+15550183' });
    for (const from of ['+15550183', '+15550184']) {
      const r = await t.sb.app.inject({ method: 'POST', url: '/v1/start-call', headers, payload: { phone_number: '+15550100', task: 'Confirm my booking', from_number: from } });
      expect(r.statusCode, r.body).toBe(400);
      expect(r.json().field).toBe('from_number');
    }
  });
});
