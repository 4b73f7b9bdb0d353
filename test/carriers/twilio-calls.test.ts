import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { until, type TestSwitchboard } from '../helpers/switchboard.js';
import { FROM, handshake as twilioHandshake, startTwilioSwitchboard, v1Calls } from './twilio-harness.js';
import { FakeTwilio, RECEPTIONIST, sign } from '../fakes/twilio/fake-twilio.js';
import { TwilioCarrier } from '../../src/carriers/twilio/twilio-carrier.js';
import { createLogger } from '../../src/lib/logger.js';
import { loadConfig } from '../../src/config/index.js';

const ACCOUNT = 'AC' + '0123456789abcdef'.repeat(2);
const TOKEN = 'test-auth-token-0123456789';

describe('Twilio carrier against the fake Twilio (ConversationRelay)', () => {
  let t: TestSwitchboard;
  let fake: FakeTwilio;
  let publicUrl: string;
  const headers = () => ({ authorization: `Bearer ${t.key}` });

  beforeAll(async () => {
    fake = new FakeTwilio(ACCOUNT, TOKEN, {
      '+15551230001': RECEPTIONIST,
      '+15551230002': { outcome: 'busy' },
      '+15551230003': { outcome: 'no-answer' },
      '+15551230004': {
        ...RECEPTIONIST,
        greeting: 'Thank you for calling Bella Cucina. For billing, press 1. For bookings, press 2.',
        onDigits: (d) => (d.includes('2') ? 'Bookings, Anna speaking. How can I help you?' : null),
      },
      '+15551230005': { outcome: 'no-answer', ringSteps: 200 },
      '+15551230007': { ...RECEPTIONIST, opensRelay: false },
      '+15551230006': {
        outcome: 'answer',
        answeredBy: 'machine_start',
        greeting: "Hi, you've reached Anna. I can't take your call right now, please leave a message after the tone. *beep*",
        reply: () => null,
      },
    });
    await fake.start();
    ({ t, publicUrl } = await startTwilioSwitchboard(fake));
  }, 30_000);
  afterAll(async () => {
    await t?.close();
    await fake?.close();
  });

  const { start, get, ended } = v1Calls(() => t);
  const fakeCall = (to: string) => [...fake.calls.values()].filter((c) => c.to === to).at(-1)!;

  it('runs an outbound call from queued to completed with the receptionist', async () => {
    const sid = await start('+15551230001', {
      task: 'Confirm my dinner booking for Tuesday at 7 pm, booking reference AB123',
      persona: { name: 'John Smith' },
    });
    const c = await ended(sid);
    const fc = fakeCall('+15551230001');
    await fc.done;
    expect(c.status).toBe('completed');
    expect(c.answered_by).toBe('human');
    // The create request, as protocols.md §1 describes it.
    expect(fc.request.From).toBe(FROM);
    expect(fc.request.Url).toBe(`${publicUrl}/start_call`);
    expect(fc.request.StatusCallback).toBe(`${publicUrl}/twilio/status`);
    expect(fc.request.StatusCallbackEvent).toEqual(['initiated', 'ringing', 'answered', 'completed']);
    // Rings for the call's timeout (60 s by default); recorded only when the call asks.
    expect(fc.request.Timeout).toBe('60');
    expect(fc.request.Record).toBeUndefined();
    expect(fc.twiml).toMatch(/<Connect action="http:\/\/127\.0\.0\.1:\d+\/twilio\/relay-ended"><ConversationRelay url="ws:\/\/127\.0\.0\.1:\d+\/relay\/ws" language="en-US" interruptible="any"/);
    expect(fc.twiml).toContain(`<Parameter name="callSid" value="${fc.sid}"/>`);
    expect(fc.callbacks.every((cb) => cb.code === 204)).toBe(true);
    expect(fc.callbacks.map((cb) => cb.status)).toEqual(['initiated', 'ringing', 'in-progress', 'completed']);
    // The conversation ran over the relay.
    expect(fc.calleeSaid[0]).toMatch(/Bella Cucina/);
    expect(fc.agentTurns.some((a) => /John Smith/.test(a))).toBe(true);
    const assistant = c.transcripts.filter((s: any) => s.role === 'assistant').map((s: any) => s.text).join(' ');
    const user = c.transcripts.filter((s: any) => s.role === 'user').map((s: any) => s.text).join(' ');
    expect(user).toMatch(/What name is the booking under/);
    expect(assistant).toMatch(/John Smith/);
    expect(fc.relayIn.some((m) => m.type === 'text' && m.last === true)).toBe(true);
    expect(c.outcome).toBe('goal_completed');
    expect(fc.calleeSaid.some((t) => /That's all confirmed/.test(t))).toBe(true);
    // The agent ended the call: `end` on the relay; Twilio closed the session and requested the
    // `<Connect action>`, whose TwiML hung up (no REST hang-up needed).
    expect(fc.relayIn.filter((m) => m.type === 'end')).toEqual([{ type: 'end' }]);
    expect(fc.actions).toHaveLength(1);
    expect(fc.actions[0].code).toBe(200);
    expect(fc.actions[0].twiml).toMatch(/<Response><Hangup\/><\/Response>/);
    expect(fc.actions[0].params.SessionId).toMatch(/^VX/);
    expect(fc.updates).toEqual([]);
  }, 30_000);

  it("sid stays Switchboard's; Twilio's Call SID is carrier_call_sid and names the call on every face", async () => {
    const earlier = new Set(fake.calls.keys());
    const sid = await start('+15551230005', { task: 'Confirm my booking' });
    const fc = await until(async () => [...fake.calls.values()].find((f) => !earlier.has(f.sid)) ?? null, 10_000, 'placed at Twilio');
    const c = await until(async () => ((await get(sid)).carrier_call_sid ? get(sid) : null), 10_000, 'carrier_call_sid kept');
    expect(c.sid).toBe(sid);
    expect(fc.sid).not.toBe(sid);
    expect(c.carrier_call_sid).toBe(fc.sid);
    // Twilio's sid names the same call on /v1, /api/v1 and /api/public/v1.
    expect((await get(fc.sid)).sid).toBe(sid);
    const agents = await t.sb.app.inject({ method: 'GET', url: `/api/v1/calls/${fc.sid}`, headers: headers() });
    expect(agents.statusCode, agents.body).toBe(200);
    expect(agents.json().data).toMatchObject({ id: c.id, carrier_call_sid: fc.sid });
    const truedy = await t.sb.app.inject({ method: 'GET', url: `/api/public/v1/calls/${fc.sid}`, headers: headers() });
    expect(truedy.statusCode, truedy.body).toBe(200);
    expect(truedy.json().data.id).toBe(c.id);
    // And ends it (end-call takes a callSid).
    const r = await t.sb.app.inject({ method: 'POST', url: '/v1/end-call', headers: headers(), payload: { callSid: fc.sid } });
    expect(r.statusCode, r.body).toBe(200);
    expect((await ended(sid)).status).toBe('canceled');
  }, 30_000);

  it('answering-machine detection: Twilio says machine_start, the call ends as voicemail', async () => {
    const sid = await start('+15551230006', { task: 'Confirm my booking for Tuesday at 7 pm', persona: { name: 'John Smith' } });
    const c = await ended(sid);
    const fc = fakeCall('+15551230006');
    await fc.done;
    expect(fc.request.MachineDetection).toBe('Enable');
    expect(fc.request.AsyncAmd).toBeUndefined();
    expect(c.status).toBe('completed');
    expect(c.answered_by).toBe('machine');
    expect(c.outcome).toBe('voicemail');
    // A person (the default verdict) is still answered by a human.
    const human = await get(await start('+15551230001', { task: 'Confirm my booking' }));
    expect(human.answered_by === null || human.answered_by === 'human').toBe(true);
  }, 30_000);

  it('an inbound call to a number assigned to an agent is answered by it over the relay; an unassigned number hears a message', async () => {
    expect(t.sb.carrier.capabilities.inbound).toBe(true);
    const greeting = 'Thanks for calling Bella Cucina, how can I help?';
    const agent = await t.sb.core.agents.create(t.orgId, {
      name: 'Bella Cucina front desk',
      system_prompt: 'You answer the phone for Bella Cucina, an Italian restaurant. Take table bookings.',
      starting_message: greeting,
      language: 'en',
    });
    const ours = '+15551230100';
    await t.sb.core.numbers.add(t.orgId, { number: ours, inbound_agent_id: agent.id });
    const caller = '+15551230200';
    const fc = fake.placeInbound(`${publicUrl}/receive_call`, caller, ours, {
      outcome: 'answer',
      reply: (_turn, n) => (n === 0 ? "Hi, I'd like to book a table for two on Friday at 8 pm. My name is Alex Smith." : null),
    });
    await fc.done;
    expect(fc.twiml).toMatch(/<Connect action="[^"]+"><ConversationRelay url="ws:\/\/127\.0\.0\.1:\d+\/relay\/ws"/);
    expect(fc.agentTurns[0]).toBe(greeting);
    const row = await until(
      async () => (await t.sb.store.db.selectFrom('calls').selectAll().where('direction', '=', 'inbound').where('agent_id', '=', agent.id).executeTakeFirst()) ?? null,
      10_000,
      'inbound call stored',
    );
    const c = await ended(row.sid);
    expect(c.direction).toBe('inbound');
    expect(c.from).toBe(caller);
    expect(c.to).toBe(ours);
    expect(c.status).toBe('completed');
    expect(c.transcripts[0]).toMatchObject({ role: 'assistant', text: greeting });
    expect(c.transcripts.some((x: any) => x.role === 'user' && /Alex Smith/.test(x.text))).toBe(true);

    // A number no agent answers: a short message and a hang-up (never a 404), no call stored.
    const before = (await t.sb.store.db.selectFrom('calls').select('id').execute()).length;
    const lost = fake.placeInbound(`${publicUrl}/receive_call`, caller, '+15551230199', { outcome: 'answer' });
    await lost.done;
    expect(lost.twiml).toMatch(/<Response><Say>[^<]*not in service[^<]*<\/Say><Hangup\/><\/Response>/i);
    expect((await t.sb.store.db.selectFrom('calls').select('id').execute()).length).toBe(before);
    // Unsigned: refused.
    expect((await fake.post(`${publicUrl}/receive_call`, { CallSid: 'CA' + '1'.repeat(32), From: caller, To: ours }, null)).code).toBe(403);
  }, 30_000);

  it('caller-ID verification goes through POST /OutgoingCallerIds.json; the status callback decides', async () => {
    expect(t.sb.carrier.capabilities.callerIdVerification).toBe(true);
    fake.typesCode.add('+15551230300');
    // Before: refused as from_number, nothing dialled.
    const callsBefore = fake.calls.size;
    const refused = await t.sb.app.inject({ method: 'POST', url: '/v1/start-call', headers: headers(), payload: { phone_number: '+15551230002', task: 'Confirm my booking', from_number: '+15551230300' } });
    expect(refused.statusCode).toBe(400);
    expect(refused.json()).toMatchObject({ error: 'from_number is not a verified caller ID' });
    expect(fake.calls.size).toBe(callsBefore);
    const verify = async (phone: string) => {
      const r = await t.sb.app.inject({ method: 'POST', url: '/v1/verify-caller-id', headers: headers(), payload: { phone_number: phone } });
      expect(r.statusCode, r.body).toBe(200);
      const id = r.json().verification_id as string;
      await until(async () => fake.validations.find((v) => v.request.PhoneNumber === phone) ?? null, 10_000, 'validation request');
      // The code shown is the one Twilio will ask the owner to type (Twilio chooses it).
      expect(r.json().validation_code).toBe(fake.validations.find((v) => v.request.PhoneNumber === phone)!.validationCode);
      await fake.validations.find((v) => v.request.PhoneNumber === phone)!.done;
      await t.sb.core.callerIds.drain();
      return (await t.sb.app.inject({ method: 'GET', url: `/v1/verification-status/${id}`, headers: headers() })).json();
    };
    const ok = await verify('+15551230300');
    expect(ok.status).toBe('verified');
    const v = fake.validations.at(-1)!;
    expect(v.request.StatusCallback).toMatch(new RegExp(`^${publicUrl}/twilio/caller-id-status\\?verification=`));
    expect(v.callback).toEqual({ status: 'success', code: 204 });
    const list = (await t.sb.app.inject({ method: 'GET', url: '/v1/verified-caller-ids', headers: headers() })).json();
    expect(JSON.stringify(list)).toContain('+15551230300');
    // After: accepted, and Twilio is asked to call from it.
    const placed = await ended(await start('+15551230002', { task: 'Confirm my booking', from_number: '+15551230300' }));
    expect(placed.status).toBe('busy');
    expect(fakeCall('+15551230002').request.From).toBe('+15551230300');
    const bad = await verify('+15551230301');
    expect(bad.status).toBe('failed');
    // A forged callback is refused.
    const url = String(v.request.StatusCallback);
    expect((await fake.post(url, { VerificationStatus: 'success' }, sign('wrong-token', url, { VerificationStatus: 'success' }))).code).toBe(403);
  }, 30_000);

  it('a phone menu is navigated with digits the fake receives (sendDigits on the relay)', async () => {
    const sid = await start('+15551230004', {
      task: 'Confirm my dinner booking for Tuesday at 7 pm, booking reference AB123',
      persona: { name: 'John Smith' },
    });
    const c = await ended(sid);
    const fc = fakeCall('+15551230004');
    await fc.done;
    expect(fc.digits).toEqual(['2']);
    expect(c.status).toBe('completed');
    expect(fc.calleeSaid).toContain('Bookings, Anna speaking. How can I help you?');
  }, 30_000);

  it('a call ended through the API while ringing is canceled over REST', async () => {
    const sid = await start('+15551230005', { task: 'Confirm my booking' });
    await until(async () => (await get(sid)).status === 'ringing', 10_000, 'ringing');
    const r = await t.sb.app.inject({ method: 'POST', url: '/v1/end-call', headers: headers(), payload: { callSid: sid } });
    expect(r.statusCode).toBe(200);
    const c = await ended(sid);
    const fc = fakeCall('+15551230005');
    expect(fc.updates.map((u) => u.Status)).toEqual(['canceled']);
    expect(c.status).toBe('canceled');
  }, 30_000);

  it("the call's ring timeout and recording reach Twilio's create request", async () => {
    await ended(await start('+15551230002', { task: 'Confirm my booking', record: true }));
    expect(fakeCall('+15551230002').request.Record).toBe('true');
    // The ring timeout of a call (Truedy's join_timeout), bounded as Twilio takes it (1–600 s).
    const events: string[] = [];
    const carrier = t.sb.carrier as TwilioCarrier;
    const placed = async (ringTimeoutSeconds: number) => {
      const before = new Set(fake.calls.keys());
      await carrier.dial({ callId: `ring-${ringTimeoutSeconds}`, sid: `ring-${ringTimeoutSeconds}`, to: '+15551230002', language: 'en', record: false, ringTimeoutSeconds }, (e) => events.push(e.type));
      return [...fake.calls.values()].find((c) => !before.has(c.sid))!.request.Timeout;
    };
    expect(await placed(25)).toBe('25');
    expect(await placed(5000)).toBe('600');
  }, 30_000);

  it('busy, no-answer and failed end with the right status', async () => {
    const busy = await ended(await start('+15551230002', { task: 'Confirm my booking' }));
    expect(busy.status).toBe('busy');
    expect(busy.answered_by).toBeNull();
    const na = await ended(await start('+15551230003', { task: 'Confirm my booking' }));
    expect(na.status).toBe('no-answer');
    // A number the fake network does not know: Twilio reports `failed`.
    const failed = await ended(await start('+15551239999', { task: 'Confirm my booking' }));
    expect(failed.status).toBe('failed');
  }, 30_000);

  it('busy, no-answer, failed and voicemail read right on every face (/v1, /api/v1, /api/public/v1)', async () => {
    const outcomes = [
      { to: '+15551230002', v1: 'busy', agents: 'failed', truedy: 'busy' },
      { to: '+15551230003', v1: 'no-answer', agents: 'failed', truedy: 'no_answer' },
      { to: '+15551239998', v1: 'failed', agents: 'failed', truedy: 'failed' },
      { to: '+15551230006', v1: 'completed', agents: 'failed', truedy: 'voicemail' },
    ];
    for (const o of outcomes) {
      const c = await ended(await start(o.to, { task: 'Confirm my booking for Tuesday at 7 pm', persona: { name: 'John Smith' } }));
      expect(c.status, o.to).toBe(o.v1);
      const agents = await t.sb.app.inject({ method: 'GET', url: `/api/v1/calls/${c.id}`, headers: headers() });
      expect(agents.statusCode, agents.body).toBe(200);
      expect(agents.json().data.status, o.to).toBe(o.agents);
      const truedy = await t.sb.app.inject({ method: 'GET', url: `/api/public/v1/calls/${c.id}`, headers: headers() });
      expect(truedy.statusCode, truedy.body).toBe(200);
      expect(truedy.json().data.status, o.to).toBe(o.truedy);
    }
  }, 60_000);

  it('a forged or unsigned callback is refused with 403 and changes nothing; replays and out-of-order ones change nothing', async () => {
    const sid = await start('+15551230002', { task: 'Confirm my booking' });
    const done = await ended(sid);
    expect(done.status).toBe('busy');
    const fc = fakeCall('+15551230002');
    const url = `${publicUrl}/twilio/status`;
    const form = { AccountSid: ACCOUNT, CallSid: fc.sid, CallStatus: 'in-progress', From: FROM, To: fc.to };
    expect((await fake.post(url, form, null)).code).toBe(403);
    expect((await fake.post(url, form, sign('wrong-token', url, form))).code).toBe(403);
    expect((await fake.post(url, { ...form, CallStatus: 'completed' }, sign(TOKEN, url, form))).code).toBe(403);
    // Signed, but late: a replayed `completed`, then `ringing` after the end.
    expect((await fake.post(url, { ...form, CallStatus: 'completed' })).code).toBe(204);
    expect((await fake.post(url, { ...form, CallStatus: 'ringing' })).code).toBe(204);
    expect((await fake.post(url, { ...form, CallStatus: 'ringing' })).code).toBe(204);
    const after = await get(sid);
    expect(after.status).toBe('busy');
    expect(after.ended_at).toBe(done.ended_at);
  }, 30_000);

  it("a client speaking 004's event-keyed dialect on /relay/ws drives the call: transcripts in, replies, clear and digits out", async () => {
    const sid = await start('+15551230007', {
      task: 'Confirm my dinner booking for Tuesday at 7 pm, booking reference AB123',
      persona: { name: 'John Smith' },
    });
    const fc = await until(async () => (fakeCall('+15551230007')?.twiml ? fakeCall('+15551230007') : null), 10_000, 'TwiML fetched');
    const wsUrl = publicUrl.replace(/^http/, 'ws') + `/relay/ws?callSid=${fc.sid}`;
    const ws = new WebSocket(wsUrl, { headers: { 'x-twilio-signature': sign(TOKEN, wsUrl) } });
    const got: Array<Record<string, any>> = [];
    ws.on('message', (d) => got.push(JSON.parse(String(d))));
    await new Promise((r) => ws.on('open', r));
    const replies = () => got.filter((m) => m.event === 'assistant_reply').map((m) => m.text as string);
    const send = (m: unknown) => ws.send(JSON.stringify(m));
    send({ event: 'start', callSid: fc.sid, from: FROM, to: fc.to });
    send({ event: 'media', media: { chunk: Buffer.alloc(160, 0xff).toString('base64'), timestamp: 20 } });
    send({ event: 'transcript', transcript: { text: 'Thank you for calling Bella Cucina. For billing, press 1. For bookings, press 2.', confidence: 0.98, final: true } });
    // The menu is answered with 004's dtmf message, one digit each.
    await until(async () => (got.some((m) => m.event === 'dtmf') ? true : null), 10_000, 'dtmf out');
    expect(got.filter((m) => m.event === 'dtmf')).toEqual([{ event: 'dtmf', dtmf: { digit: '2' } }]);
    send({ event: 'transcript', transcript: { text: 'Bookings, Anna speaking. How can I help you?', final: true } });
    await until(async () => (replies().length >= 1 ? true : null), 10_000, 'first reply');
    expect(replies()[0]).toMatch(/booking/i);
    send({ event: 'transcript', transcript: { text: 'Of course. What name is the booking under?', final: true } });
    await until(async () => (replies().some((r) => /John Smith/.test(r)) ? true : null), 10_000, 'name given');
    // No JSON ping in either dialect, and nothing in Twilio's `type` dialect was sent to this client.
    expect(got.every((m) => typeof m.event === 'string' && m.type === undefined)).toBe(true);
    const c = await until(async () => {
      const v = await get(sid);
      return v.transcripts.some((x: any) => x.role === 'user' && /What name is the booking under/.test(x.text)) ? v : null;
    }, 10_000, 'callee turn stored');
    expect(c.status).toBe('in-progress');
    ws.close();
    // Twilio reports the end; the call completes.
    await fake.post(`${publicUrl}/twilio/status`, { AccountSid: ACCOUNT, CallSid: fc.sid, CallStatus: 'completed', From: FROM, To: fc.to });
    expect((await ended(sid)).status).toBe('completed');
  }, 30_000);

  it('while the agent speaks, a partial transcript in 004 dialect is a barge-in: the client is told to clear', async () => {
    const earlier = new Set(fake.calls.keys());
    const sid = await start('+15551230007', { task: 'Ask whether they have a table for two tonight', persona: { name: 'John Smith' } });
    const fc = await until(async () => [...fake.calls.values()].find((f) => !earlier.has(f.sid) && f.twiml) ?? null, 10_000, 'TwiML fetched');
    const wsUrl = publicUrl.replace(/^http/, 'ws') + '/relay/ws';
    const ws = new WebSocket(wsUrl, { headers: { 'x-twilio-signature': sign(TOKEN, wsUrl) } });
    const got: Array<Record<string, any>> = [];
    ws.on('message', (d) => got.push(JSON.parse(String(d))));
    await new Promise((r) => ws.on('open', r));
    // Slow speech: the agent is still talking when the callee starts.
    (t.sb.carrier as TwilioCarrier).opts.wordsPerSecond = 0.5;
    try {
      ws.send(JSON.stringify({ event: 'start', callSid: fc.sid }));
      ws.send(JSON.stringify({ event: 'transcript', transcript: { text: 'Good evening, Bella Cucina, Anna speaking. How can I help you?', final: true } }));
      await until(async () => (got.some((m) => m.event === 'assistant_reply') ? true : null), 10_000, 'reply');
      ws.send(JSON.stringify({ event: 'transcript', transcript: { text: 'Sorry, one', final: false } }));
      await until(async () => (got.some((m) => m.event === 'clear') ? true : null), 10_000, 'clear');
    } finally {
      (t.sb.carrier as TwilioCarrier).opts.wordsPerSecond = 1000;
    }
    ws.close();
    await fake.post(`${publicUrl}/twilio/status`, { AccountSid: ACCOUNT, CallSid: fc.sid, CallStatus: 'completed', From: FROM, To: fc.to });
    expect((await ended(sid)).status).toBe('completed');
  }, 30_000);

  it('REST requests authenticate with an API key pair when one is configured; a wrong secret is refused', async () => {
    const sid = 'SK' + 'abcdef0123456789'.repeat(2);
    fake.apiKeys.set(sid, 'the-key-secret');
    const log = createLogger('silent');
    const withKey = new TwilioCarrier({ accountSid: ACCOUNT, authToken: TOKEN, apiKey: { sid, secret: 'the-key-secret' }, fromNumber: FROM, publicUrl, apiBaseUrl: fake.url, log });
    const handle = await withKey.dial({ callId: 'key-test', sid: 'key-test', to: '+15551230002', language: 'en', record: false }, () => undefined);
    expect(fake.authUsers.at(-1)).toBe(sid);
    await handle.hangup();
    const wrong = new TwilioCarrier({ accountSid: ACCOUNT, authToken: TOKEN, apiKey: { sid, secret: 'not-it' }, fromNumber: FROM, publicUrl, apiBaseUrl: fake.url, log });
    await expect(wrong.dial({ callId: 'key-test-2', sid: 'key-test-2', to: '+15551230002', language: 'en', record: false }, () => undefined)).rejects.toThrow(/Authenticate/);
    // The config takes the pair together, and only a well-formed key SID.
    const env = { CARRIER: 'twilio', TWILIO_ACCOUNT_SID: ACCOUNT, TWILIO_AUTH_TOKEN: TOKEN };
    expect(loadConfig({ ...env, TWILIO_API_KEY_SID: sid, TWILIO_API_KEY_SECRET: 's' }).twilio?.apiKey).toEqual({ sid, secret: 's' });
    expect(() => loadConfig({ ...env, TWILIO_API_KEY_SID: sid })).toThrow(/TWILIO_API_KEY_SECRET/);
    expect(() => loadConfig({ ...env, TWILIO_API_KEY_SID: 'AK123', TWILIO_API_KEY_SECRET: 's' })).toThrow(/TWILIO_API_KEY_SID/);
  });

  it('a forged <Connect action> request is refused', async () => {
    const url = `${publicUrl}/twilio/relay-ended`;
    const form = { AccountSid: ACCOUNT, CallSid: 'CA' + '0'.repeat(32), CallStatus: 'in-progress', SessionStatus: 'completed' };
    expect((await fake.post(url, form, null)).code).toBe(403);
    expect((await fake.post(url, form, sign('wrong-token', url, form))).code).toBe(403);
    const ok = await fake.post(url, form);
    expect(ok.code).toBe(200);
    expect(ok.body).toMatch(/<Hangup\/>/);
  });

  it('a forged /start_call and relay handshake are refused; an unknown call hears a short message', async () => {
    const url = `${publicUrl}/start_call`;
    const form = { AccountSid: ACCOUNT, CallSid: 'CA' + '0'.repeat(32), CallStatus: 'in-progress' };
    expect((await fake.post(url, form, 'bm90IGEgc2lnbmF0dXJl')).code).toBe(403);
    const unknown = await fake.post(url, form);
    expect(unknown.code).toBe(200);
    expect(unknown.body).toMatch(/<Say>[^<]+<\/Say><Hangup\/>/);
    const wsUrl = publicUrl.replace(/^http/, 'ws') + '/relay/ws';
    const handshake = (signature?: string) => twilioHandshake(wsUrl, signature);
    expect(await handshake()).toBe(403);
    expect(await handshake(sign('wrong-token', wsUrl))).toBe(403);
    // Signed over the http:// form instead of ws://: refused too.
    expect(await handshake(sign(TOKEN, `${publicUrl}/relay/ws`))).toBe(403);
    expect(await handshake(sign(TOKEN, wsUrl))).toBe(101);
  });
});
