/**
 * Transfers and user-on-call over Twilio, against the fake Twilio: cold (`<Dial>` on the callee's leg),
 * warm (briefing over the destination's own relay leg, then one conference room), a warm transfer that
 * fails (busy destination: the conversation goes on), and the user-on-call carrier operations
 * (Participants resource, activation over `/start_call`, kicking the user). Forged callbacks are refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until, type TestSwitchboard } from '../helpers/switchboard.js';
import { FROM, startTwilioSwitchboard, v1Calls } from './twilio-harness.js';
import { FakeTwilio, sign, type FakeCall, type FakeCallee } from '../fakes/twilio/fake-twilio.js';
import { TwilioCarrier } from '../../src/carriers/twilio/twilio-carrier.js';
import type { CalleeInput, CarrierEvent, UserOnCallHandle } from '../../src/carriers/carrier.js';
import { unawaited } from '../helpers/unawaited.js';

const ACCOUNT = 'AC' + '0123456789abcdef'.repeat(2);
const TOKEN = 'test-auth-token-0123456789';

/** A receptionist who picks up in person: the rules brain marks a human and, with a transfer number, hands over. */
const CLINIC = '+15551240001';
/** A person who keeps the agent waiting ("let me check"), so the call stays up until the test acts. */
const PATIENT = '+15551240002';
const PATIENT_2 = '+15551240003';
/** Transfer destinations. */
const FRONT_DESK = '+15551240100';
const MARIA = '+15551240200';
const BUSY_DESK = '+15551240300';
/** User-on-call: the operator and the target. */
const OPERATOR = '+15551240400';
const OPERATOR_2 = '+15551240401';
const TARGET = '+15551240500';
const TARGET_2 = '+15551240501';

const waiting: FakeCallee = {
  outcome: 'answer',
  greeting: 'Hello, Sam speaking.',
  reply: () => 'Let me check, one moment please.',
};

describe('Twilio transfers and user-on-call against the fake Twilio', () => {
  let t: TestSwitchboard;
  let fake: FakeTwilio;
  let publicUrl: string;
  const headers = () => ({ authorization: `Bearer ${t.key}` });

  beforeAll(async () => {
    fake = new FakeTwilio(ACCOUNT, TOKEN, {
      [CLINIC]: { outcome: 'answer', greeting: 'Good morning, City Clinic, Sam speaking. How can I help you?', reply: () => 'Hold on.' },
      [PATIENT]: waiting,
      [PATIENT_2]: waiting,
      [FRONT_DESK]: { outcome: 'answer' },
      [MARIA]: { outcome: 'answer', greeting: 'Maria here.', reply: () => 'Sure, put them through.' },
      [BUSY_DESK]: { outcome: 'busy' },
      [OPERATOR]: { outcome: 'answer' },
      [OPERATOR_2]: { outcome: 'answer' },
      [TARGET]: {
        outcome: 'answer',
        greeting: 'City Clinic reception, how can I help?',
        reply: (_turn, n) => (n === 0 ? 'Of course. What name is it under?' : null),
      },
      [TARGET_2]: { outcome: 'answer', greeting: 'Reception.', reply: () => null },
    });
    await fake.start();
    ({ t, publicUrl } = await startTwilioSwitchboard(fake));
  }, 30_000);
  afterAll(async () => {
    await t?.close();
    await fake?.close();
  });

  const { start, get, ended } = v1Calls(() => t);
  const fakeCall = (to: string) => until(async () => [...fake.calls.values()].filter((c) => c.to === to).at(-1) ?? null, 10_000, `a call to ${to}`);
  const commands = async (callId: string) =>
    (await t.sb.store.db.selectFrom('call_events').select('data').where('call_id', '=', callId).where('kind', '=', 'command').orderBy('seq').execute()).map(
      (e) => e.data as { command: string; value?: string },
    );
  const transfer = (sid: string, destination: string) =>
    t.sb.app.inject({ method: 'POST', url: `/v1/calls/${sid}/transfer`, headers: headers(), payload: { destination, warm: true } });
  /** The callee has heard the agent's opening and asked it to wait: the conversation is under way. */
  const waitingOnCallee = (fc: FakeCall) => until(async () => fc.calleeSaid.includes('Let me check, one moment please.') && fc.agentTurns.length > 0, 10_000, 'the conversation');

  it('cold: a person answers, the callee leg dials transfer_number, the call ends completed and transferred', async () => {
    const sid = await start(CLINIC, { task: 'Book an appointment with a doctor', transfer_number: FRONT_DESK });
    const c = await ended(sid);
    expect(c.status).toBe('completed');
    expect(c.outcome).toBe('transferred');
    expect(c.end_reason).toBe('auto_transfer');
    const cmds = await commands(c.id);
    expect(cmds.find((x) => x.command === 'transfer')?.value).toBe(`cold ${FRONT_DESK}`);

    const callee = await fakeCall(CLINIC);
    // The callee's leg was redirected with TwiML that dials the destination from our number.
    const redirect = callee.updates.find((u) => u.Twiml);
    expect(redirect?.Twiml).toBe(`<?xml version="1.0" encoding="UTF-8"?><Response><Dial callerId="${FROM}">${FRONT_DESK}</Dial></Response>`);
    expect(callee.updates.some((u) => u.Status)).toBe(false);
    // Twilio placed the destination leg as the callee's child and bridged them: the callee is still on the phone.
    const dest = await fakeCall(FRONT_DESK);
    expect(dest.direction).toBe('outbound-dial');
    expect(dest.parentCallSid).toBe(callee.sid);
    await until(async () => dest.bridgedWith === callee.sid, 10_000, 'the bridge');
    expect(callee.status).toBe('in-progress');
    expect(callee.relayIn.some((m) => m.type === 'end')).toBe(false);

    // They finish talking; Twilio's late `completed` for the callee's CallSid changes nothing.
    fake.hangup(dest.sid);
    await callee.done;
    expect(callee.callbacks.at(-1)).toEqual({ status: 'completed', code: 204 });
    const after = await get(sid);
    expect(after.ended_at).toBe(c.ended_at);
    expect(after.outcome).toBe('transferred');
  }, 30_000);

  it('warm: the destination hears the briefing on its own leg, then callee and destination share one room, the agent left', async () => {
    const task = 'Reschedule my dentist appointment to Friday';
    const sid = await start(PATIENT, { task, persona: { name: 'John Smith' } });
    const callee = await fakeCall(PATIENT);
    await waitingOnCallee(callee);
    const r = await transfer(sid, MARIA);
    expect(r.json()).toEqual({ success: true, transferType: 'warm', callSid: sid });
    const c = await ended(sid);
    expect(c.status).toBe('completed');
    expect(c.outcome).toBe('transferred');
    expect(c.end_reason).toBe('transferred_by_api');

    // The destination was dialled over REST and answered over its own relay leg, where the agent briefed it
    // once the person had said hello.
    const dest = await fakeCall(MARIA);
    expect(dest.direction).toBe('outbound-api');
    expect(dest.request.Url).toBe(`${publicUrl}/start_call`);
    expect(dest.request.StatusCallback).toBe(`${publicUrl}/twilio/status`);
    expect(dest.twimls[0]).toMatch(/<Connect action="[^"]+"><ConversationRelay url="ws:\/\/127\.0\.0\.1:\d+\/relay\/ws"/);
    expect(dest.calleeSaid[0]).toBe('Maria here.');
    expect(dest.agentTurns[0]).toBe(`Transferring a call about: ${task}`);
    expect(callee.agentTurns.join(' ')).not.toContain('Transferring a call about');

    // Both legs then run the same conference TwiML and are in one room; the agent is on neither.
    const room = `sb-${c.id}`;
    await until(async () => fake.roomMembers(room).length === 2, 10_000, 'both legs in the room');
    expect(fake.roomMembers(room)).toEqual([dest.sid, callee.sid]);
    for (const leg of [callee, dest]) {
      expect(leg.twimls.at(-1)).toBe(
        `<?xml version="1.0" encoding="UTF-8"?><Response><Dial><Conference startConferenceOnEnter="true" endConferenceOnExit="true" beep="false">${room}</Conference></Dial></Response>`,
      );
      expect(leg.status).toBe('in-progress');
    }
    expect(fake.rooms.get(room)!.status).toBe('in-progress');

    // The callee hangs up: the conference ends for the destination too; nothing changes for the call.
    fake.hangup(callee.sid);
    await Promise.all([callee.done, dest.done]);
    expect(fake.rooms.get(room)!.status).toBe('completed');
    expect((await get(sid)).ended_at).toBe(c.ended_at);
  }, 30_000);

  it('warm to a busy destination fails: the callee stays with the agent and the call completes normally', async () => {
    const sid = await start(PATIENT_2, { task: 'Reschedule my dentist appointment to Friday', persona: { name: 'John Smith' } });
    const callee = await fakeCall(PATIENT_2);
    await waitingOnCallee(callee);
    expect((await transfer(sid, BUSY_DESK)).statusCode).toBe(200);
    const dest = await fakeCall(BUSY_DESK);
    await dest.done;
    expect(dest.callbacks.at(-1)).toEqual({ status: 'busy', code: 204 });
    const { id } = await get(sid);
    await until(async () => (await commands(id)).some((x) => x.command === 'transfer_failed'), 10_000, 'transfer_failed');
    // The callee's leg was never redirected, and the agent still hears and answers the callee.
    expect(callee.updates).toEqual([]);
    expect((await get(sid)).status).toBe('in-progress');
    const turns = callee.agentTurns.length;
    expect(fake.say(callee.sid, 'Sorry, I have to go now. Goodbye.')).toBe(true);
    const c = await ended(sid);
    expect(callee.agentTurns.length).toBeGreaterThan(turns);
    expect(c.status).toBe('completed');
    expect(c.outcome).not.toBe('transferred');
    expect(c.transcripts.some((x: any) => x.role === 'user' && /have to go now/.test(x.text))).toBe(true);
    expect(callee.updates.every((u) => !u.Twiml && !u.Url)).toBe(true);
    expect([...fake.rooms.keys()].some((r) => r.includes(id))).toBe(false);
  }, 30_000);

  /** A stand-in for the engine's agent loop: on `answered` it greets, and answers whatever it hears once. */
  function agentListener() {
    const events: CarrierEvent[] = [];
    const heard: CalleeInput[] = [];
    const onEvent = (e: CarrierEvent) => {
      events.push(e);
      if (e.type !== 'answered' || e.mode === 'audio') return;
      const ch = e.channel;
      let answered = false;
      ch.onInput((input) => {
        heard.push(input);
        if (input.type === 'speech' && !answered) {
          answered = true;
          unawaited(ch.say(/name/i.test(input.text) ? 'It is under John Smith.' : 'Hello, I am calling to book an appointment.'));
        }
      });
    };
    return { events, heard, onEvent };
  }
  const phase = (h: UserOnCallHandle, p: string) => until(async () => h.conferenceStatus().phase === p, 10_000, `phase ${p}`);

  it('user-on-call: user and target in one room; activate moves the target to the agent; dropUser ends the user leg', async () => {
    const carrier = t.sb.carrier as TwilioCarrier;
    expect(carrier.capabilities.userOnCall).toBe(true);
    const agent = agentListener();
    const h = await carrier.startUserOnCall({ callId: 'uoc-1', sid: 'CAuoc1', user: OPERATOR, target: TARGET, language: 'en' }, agent.onEvent);
    expect(h.conferenceStatus().phase).toBe('initiated');
    await phase(h, 'connected');
    const room = h.room;
    // Both legs were dialled into the room with the Participants resource, and joined it.
    const adds = fake.requests.filter((r) => r.method === 'POST' && r.path.endsWith(`/Conferences/${room}/Participants.json`));
    expect(adds.map((a) => [a.form.To, a.form.Label, a.form.From])).toEqual([
      [OPERATOR, 'user', FROM],
      [TARGET, 'target', FROM],
    ]);
    expect(adds[0].form.StatusCallback).toBe(`${publicUrl}/twilio/status`);
    await until(async () => fake.roomMembers(room).length === 2, 10_000, 'both in the room');
    expect(new Set(fake.roomMembers(room))).toEqual(new Set([h.userCallSid, h.targetCallSid]));
    expect(fake.calls.get(h.userCallSid)!.label).toBe('user');
    await until(async () => h.conferenceStatus().participants.every((p) => p.status === 'connected'), 10_000, 'both connected');
    expect(agent.events.map((e) => e.type)).toEqual(['ringing']);

    // Takeover: the target leaves the room for the agent's relay; the user stays (dropUser: false).
    await h.activate({ dropUser: false });
    await phase(h, 'active');
    const target = fake.calls.get(h.targetCallSid)!;
    expect(target.updates.at(-1)).toMatchObject({ Url: `${publicUrl}/start_call` });
    expect(target.twimls.at(-1)).toMatch(/<Connect action="[^"]+"><ConversationRelay url="ws:\/\/127\.0\.0\.1:\d+\/relay\/ws"/);
    expect(fake.roomMembers(room)).toEqual([h.userCallSid]);
    expect(agent.events.map((e) => e.type)).toEqual(['ringing', 'answered']);
    // The agent and the target talk over the relay.
    await until(async () => target.agentTurns.length > 0, 10_000, 'the agent speaking');
    expect(agent.heard[0]).toEqual({ type: 'speech', text: 'City Clinic reception, how can I help?' });
    expect(target.agentTurns[0]).toBe('Hello, I am calling to book an appointment.');
    await until(async () => target.calleeSaid.includes('Of course. What name is it under?'), 10_000, "the target's answer");
    await expect(h.activate({ dropUser: true })).rejects.toThrow();

    // The user is dropped: kicked from the room.
    await h.dropUser();
    const user = fake.calls.get(h.userCallSid)!;
    await user.done;
    expect(fake.requests.some((r) => r.method === 'DELETE' && r.path.endsWith(`/Conferences/${room}/Participants/${h.userCallSid}.json`))).toBe(true);
    expect(h.conferenceStatus().participants.find((p) => p.label === 'user')!.status).toBe('completed');
    expect(fake.rooms.get(room)!.log.map((l) => l.event)).toEqual(['join', 'join', 'leave', 'leave']);
    // The target goes on with the agent; when it hangs up, the session completes.
    expect(target.status).toBe('in-progress');
    fake.hangup(target.sid);
    await target.done;
    await phase(h, 'completed');
    expect(agent.events.at(-1)).toMatchObject({ type: 'ended', status: 'completed' });
  }, 30_000);

  it('user-on-call: activate with dropUser ends the user leg at takeover; a forged callback for either leg is refused', async () => {
    const carrier = t.sb.carrier as TwilioCarrier;
    const agent = agentListener();
    const h = await carrier.startUserOnCall({ callId: 'uoc-2', sid: 'CAuoc2', user: OPERATOR_2, target: TARGET_2, language: 'en' }, agent.onEvent);
    await until(async () => h.conferenceStatus().participants.every((p) => p.status === 'connected'), 10_000, 'both connected');

    // Forged status callbacks (ending the user, answering the target) and a forged TwiML request: 403, no change.
    const url = `${publicUrl}/twilio/status`;
    for (const callSid of [h.userCallSid, h.targetCallSid]) {
      const form = { AccountSid: ACCOUNT, CallSid: callSid, CallStatus: 'completed', From: FROM, To: OPERATOR_2 };
      expect((await fake.post(url, form, sign('wrong-token', url, form))).code).toBe(403);
      expect((await fake.post(url, form, null)).code).toBe(403);
    }
    const startCall = `${publicUrl}/start_call`;
    const twimlForm = { AccountSid: ACCOUNT, CallSid: h.targetCallSid, CallStatus: 'in-progress' };
    expect((await fake.post(startCall, twimlForm, sign('wrong-token', startCall, twimlForm))).code).toBe(403);
    expect(h.conferenceStatus().participants.map((p) => p.status)).toEqual(['connected', 'connected']);
    expect(h.conferenceStatus().phase).toBe('connected');

    await h.activate({ dropUser: true });
    const user = fake.calls.get(h.userCallSid)!;
    await user.done;
    expect(user.status).toBe('completed');
    await phase(h, 'active');
    // The target hangs up on the agent (its script has nothing more to say): the session completes.
    await phase(h, 'completed');
    expect(agent.events.map((e) => e.type)).toEqual(['ringing', 'answered', 'ended']);
    expect(fake.rooms.get(h.room)!.status).toBe('completed');
  }, 30_000);
});
