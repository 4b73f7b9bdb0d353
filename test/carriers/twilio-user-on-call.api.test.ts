/**
 * User-on-call through the CallMyCall API against the fake Twilio (a running Switchboard with CARRIER=twilio):
 * the same flow as on the simulated network — initiated → connected → ai_takeover → active → completed with
 * `conference-status` right at each step — over Twilio's conference Participants, redirect and relay; a redirect
 * Twilio refuses answers 500 and leaves the room as it was; `drop_user: false` is refused (400) without an
 * agent number, and with one (TWILIO_AGENT_NUMBER) is a real three-way room: the agent joins through a call
 * to that number whose far end the fake rings at /receive_call.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until, type TestSwitchboard } from '../helpers/switchboard.js';
import { startTwilioSwitchboard } from './twilio-harness.js';
import { FakeTwilio } from '../fakes/twilio/fake-twilio.js';

const ACCOUNT = 'AC' + 'ab'.repeat(16);
const TOKEN = 'test-auth-token-user-on-call-api1';
const OPERATOR = '+15551260400';
const TARGET = '+15551260500';
const TARGET_REFUSING = '+15551260501';
const TARGET_SLOW = '+15551260502';
const OPERATOR_BUSY = '+15551260401';

describe('user-on-call through /v1 against the fake Twilio', () => {
  let t: TestSwitchboard;
  let fake: FakeTwilio;
  beforeAll(async () => {
    const target = { outcome: 'answer' as const, greeting: 'City Clinic reception, how can I help?', reply: () => 'One moment please.' };
    fake = new FakeTwilio(ACCOUNT, TOKEN, {
      [OPERATOR]: { outcome: 'answer' },
      [OPERATOR_BUSY]: { outcome: 'busy' },
      [TARGET]: target,
      [TARGET_REFUSING]: target,
      // Rings long enough for the busy operator's line to be known first.
      [TARGET_SLOW]: { ...target, ringSteps: 25 },
    });
    fake.refuseRedirectsTo.add(TARGET_REFUSING);
    await fake.start();
    ({ t } = await startTwilioSwitchboard(fake));
  }, 30_000);
  afterAll(async () => {
    await t?.close();
    await fake?.close();
  });

  const headers = () => ({ authorization: `Bearer ${t.key}` });
  const req = (method: 'GET' | 'POST', url: string, payload?: unknown) => t.sb.app.inject({ method, url, headers: headers(), ...(payload !== undefined ? { payload: payload as any } : {}) });
  const status = async (sid: string) => (await req('GET', `/v1/calls/${sid}/conference-status`)).json();
  const reach = (sid: string, state: string) => until(async () => ((await status(sid)).state === state ? status(sid) : null), 15_000, `state ${state}`);
  const call = async (sid: string) => (await req('GET', `/v1/calls/${sid}`)).json();
  const legs = (s: any) => Object.fromEntries(s.participants.map((p: any) => [p.role, p.status]));
  const start = async (to: string, userPhone = OPERATOR) => {
    const r = await req('POST', '/v1/start-call', { phone_number: to, task: 'Book a check-up for Alex Smith', language: 'en', userOnCall: true, userPhone });
    expect(r.statusCode, r.body).toBe(200);
    return r.json();
  };

  it('runs initiated → connected → ai_takeover → active → completed over Twilio', async () => {
    const s = await start(TARGET);
    expect(s).toMatchObject({ userOnCall: true, userCallSid: expect.stringMatching(/^CA/), sessionId: expect.any(String) });
    const seen = new Set<string>([(await status(s.sid)).state]);
    expect([...seen][0]).toMatch(/initiated|connected/);

    const connected = await reach(s.sid, 'connected');
    expect(legs(connected).target).toBe('connected');
    // The legs are Twilio's calls in one conference room: their CallSids are reported beside ours.
    const carrierSids = connected.participants.map((p: any) => p.carrier_call_sid);
    for (const sid of carrierSids) expect(fake.calls.get(sid)).toBeDefined();
    expect((await call(s.sid)).status).toBe('in-progress');
    expect(connected.ai_active).toBe(false);

    const keep = await req('POST', `/v1/calls/${s.sid}/activate`, { drop_user: false });
    expect(keep.statusCode).toBe(400);
    expect(keep.json().field).toBe('drop_user');

    const act = await req('POST', `/v1/calls/${s.sid}/activate`, {});
    expect(act.statusCode, act.body).toBe(200);
    expect(act.json()).toMatchObject({ success: true, ai_activated: true, user_dropped: true });
    const active = await reach(s.sid, 'active');
    expect(active.ai_active).toBe(true);
    expect(legs(active).user).toBe('completed');
    // The target's leg was redirected to the agent, and talks with it over the relay.
    const targetLeg = fake.calls.get(active.participants.find((p: any) => p.role === 'target').carrier_call_sid)!;
    expect(targetLeg.updates.some((u) => String(u.Url).endsWith('/start_call'))).toBe(true);
    await until(async () => (await call(s.sid)).transcripts.some((x: any) => /City Clinic/.test(x.text)), 15_000, 'the target heard by the agent');

    fake.hangup(targetLeg.sid);
    await until(async () => ((await call(s.sid)).ended_at ? true : null), 15_000, 'the end');
    expect((await call(s.sid)).status).toBe('completed');
    const done = await status(s.sid);
    expect(done).toMatchObject({ state: 'completed', ai_active: false });
    const rows = await t.sb.store.db.selectFrom('call_events').innerJoin('calls', 'calls.id', 'call_events.call_id').select('call_events.data').where('calls.sid', '=', s.sid).orderBy('seq').execute();
    const states = rows.filter((r) => (r.data as any)?.command === 'user_on_call').map((r) => (r.data as any).value);
    expect(states.filter((x) => x !== 'initiated')).toEqual(['connected', 'ai_takeover', 'active', 'completed']);
  }, 60_000);

  it('answers 500 when Twilio refuses the redirect, and the room stays connected', async () => {
    const s = await start(TARGET_REFUSING);
    await reach(s.sid, 'connected');
    const act = await req('POST', `/v1/calls/${s.sid}/activate`, {});
    expect(act.statusCode).toBe(500);
    expect(act.json()).toEqual({ error: 'Failed to redirect the call to the AI' });
    const after = await status(s.sid);
    expect(after.state).toBe('connected');
    expect(legs(after)).toMatchObject({ target: 'connected' });
    await req('POST', '/v1/end-call', { callSid: s.sid });
    await until(async () => ((await call(s.sid)).ended_at ? true : null), 15_000, 'the end');
    expect((await status(s.sid)).state).toBe('completed');
  }, 60_000);

  it('fails (initiated → failed) when the user cannot be reached, and hangs the target up', async () => {
    const s = await start(TARGET_SLOW, OPERATOR_BUSY);
    await until(async () => ((await call(s.sid)).ended_at ? true : null), 15_000, 'the end');
    const c = await call(s.sid);
    expect(c.status).toBe('failed');
    expect(c.end_reason).toBe('user_not_reached');
    const done = await status(s.sid);
    expect(done.state).toBe('failed');
    expect(legs(done).user).toBe('busy');
    const targetLeg = fake.calls.get(done.participants.find((p: any) => p.role === 'target').carrier_call_sid)!;
    expect(['completed', 'canceled']).toContain(targetLeg.status);
  }, 60_000);
});

describe('three-way rooms (drop_user: false) against the fake Twilio, with TWILIO_AGENT_NUMBER', () => {
  const AGENT_NUMBER = '+15551260900';
  let t: TestSwitchboard;
  let fake: FakeTwilio;
  beforeAll(async () => {
    fake = new FakeTwilio(ACCOUNT, TOKEN, {
      [OPERATOR]: { outcome: 'answer' },
      [TARGET]: { outcome: 'answer', greeting: 'City Clinic reception, how can I help?', reply: () => 'One moment please.' },
    });
    await fake.start();
    let publicUrl: string;
    ({ t, publicUrl } = await startTwilioSwitchboard(fake, undefined, { TWILIO_AGENT_NUMBER: AGENT_NUMBER }));
    // The agent number is the account's, its Voice URL our /receive_call.
    fake.numbers.set(AGENT_NUMBER, `${publicUrl}/receive_call`);
  }, 30_000);
  afterAll(async () => {
    await t?.close();
    await fake?.close();
  });

  const req = (method: 'GET' | 'POST', url: string, payload?: unknown) =>
    t.sb.app.inject({ method, url, headers: { authorization: `Bearer ${t.key}` }, ...(payload !== undefined ? { payload: payload as any } : {}) });
  const status = async (sid: string) => (await req('GET', `/v1/calls/${sid}/conference-status`)).json();
  const reach = (sid: string, state: string) => until(async () => ((await status(sid)).state === state ? status(sid) : null), 15_000, `state ${state}`);
  const call = async (sid: string) => (await req('GET', `/v1/calls/${sid}`)).json();
  const legs = (s: any) => Object.fromEntries(s.participants.map((p: any) => [p.role, p.status]));

  it('keeps the user in the room with the target and the agent, conference-status right at each step', async () => {
    const r = await req('POST', '/v1/start-call', { phone_number: TARGET, task: 'Book a check-up for Alex Smith', language: 'en', userOnCall: true, userPhone: OPERATOR });
    expect(r.statusCode, r.body).toBe(200);
    const s = r.json();
    const connected = await reach(s.sid, 'connected');
    expect(legs(connected).target).toBe('connected');
    await until(async () => (legs(await status(s.sid)).user === 'connected' ? true : null), 15_000, 'the user in the room');
    const sidOf = (st: any, role: string) => st.participants.find((p: any) => p.role === role).carrier_call_sid as string;
    const targetSid = sidOf(connected, 'target');
    const room = await until(async () => [...fake.rooms.values()].find((x) => x.members.has(targetSid) && x.members.size === 2) ?? null, 15_000, 'the room');

    const act = await req('POST', `/v1/calls/${s.sid}/activate`, { drop_user: false });
    expect(act.statusCode, act.body).toBe(200);
    expect(act.json()).toMatchObject({ success: true, ai_activated: true, user_dropped: false });
    const active = await reach(s.sid, 'active');
    expect(active.ai_active).toBe(true);
    expect(legs(active)).toEqual({ user: 'connected', target: 'connected' });

    // Three in one room: the target was not moved; the agent joined through a call to the agent number,
    // whose inbound end is the room's third member and whose outbound end runs the agent's relay.
    const targetLeg = fake.calls.get(targetSid)!;
    expect(targetLeg.updates.some((u) => u.Url !== undefined)).toBe(false);
    expect(room.members.size).toBe(3);
    const farEnd = [...room.members.keys()].map((sid) => fake.calls.get(sid)!).find((c) => c.direction === 'inbound')!;
    expect(farEnd).toMatchObject({ from: AGENT_NUMBER, to: AGENT_NUMBER });
    const agentLeg = fake.calls.get(farEnd.loopPeer!)!;
    expect(agentLeg.direction).toBe('outbound-api');
    expect(agentLeg.twiml).toMatch(/<ConversationRelay/);
    // The agent talks in the room, and hears the target there.
    await until(async () => (agentLeg.agentTurns.length > 0 ? true : null), 15_000, 'the agent speaking');
    await until(async () => ((await call(s.sid)).transcripts.some((x: any) => x.text === 'One moment please.') ? true : null), 15_000, 'the target heard by the agent');
    expect(legs(await status(s.sid)).user).toBe('connected');

    // The user leaves; the agent and the target go on.
    expect((await req('POST', `/v1/calls/${s.sid}/drop-user`)).statusCode).toBe(200);
    expect(legs(await status(s.sid))).toEqual({ user: 'completed', target: 'connected' });
    await until(async () => (room.members.size === 2 ? true : null), 15_000, 'the user out of the room');

    // The target hangs up: the call is over, and the agent's leg is not left in the room.
    fake.hangup(targetSid);
    await until(async () => ((await call(s.sid)).ended_at ? true : null), 15_000, 'the end');
    expect((await call(s.sid)).status).toBe('completed');
    expect(await status(s.sid)).toMatchObject({ state: 'completed', ai_active: false });
    await until(async () => (['completed', 'canceled'].includes(agentLeg.status) && farEnd.status === 'completed' ? true : null), 15_000, 'the agent leg ended');
    const rows = await t.sb.store.db.selectFrom('call_events').innerJoin('calls', 'calls.id', 'call_events.call_id').select('call_events.data').where('calls.sid', '=', s.sid).orderBy('seq').execute();
    const states = rows.filter((x) => (x.data as any)?.command === 'user_on_call').map((x) => (x.data as any).value);
    expect(states.filter((x) => x !== 'initiated')).toEqual(['connected', 'ai_takeover', 'active', 'completed']);
  }, 60_000);
});
