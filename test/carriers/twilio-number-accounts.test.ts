/**
 * Issue 13 §4: an agent's phone number dials through that number's own carrier account. The fake Twilio
 * serves two accounts — the deployment's (TWILIO_ACCOUNT_SID) and a customer's, whose credentials are stored
 * with the number (`POST /api/v1/phone-numbers` with `credentials`). A Truedy call from that number is
 * placed on the customer's account, every callback of it is verified with the customer's token, and
 * callbacks signed with the deployment's token for that call are refused (403) and change nothing. A number
 * without credentials dials on the deployment's account.
 */
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until, type TestSwitchboard } from '../helpers/switchboard.js';
import { handshake, startTwilioSwitchboard } from './twilio-harness.js';
import { FakeTwilio, RECEPTIONIST, sign, type FakeCall } from '../fakes/twilio/fake-twilio.js';

const DEPLOYMENT = 'AC' + '1234abcd'.repeat(4);
const DEPLOYMENT_TOKEN = 'deployment-auth-token-1234';
const CUSTOMER = 'AC' + '9876fedc'.repeat(4);
const CUSTOMER_TOKEN = 'customer-auth-token-9876';

const OWN_NUMBER = '+15557770010';
const PLAIN_NUMBER = '+15557770011';
const RECEPTION = '+15551250001';
/** Rings for a long while before it answers (time to try forged callbacks on a live call). */
const SLOW_RECEPTION = '+15551250002';

describe("Twilio: a number's own account (issue 13 §4)", () => {
  let t: TestSwitchboard;
  let fake: FakeTwilio;
  let publicUrl: string;
  let ownAgent: string;
  let plainAgent: string;

  const v1 = (method: string, url: string, payload?: unknown) =>
    t.sb.app.inject({ method: method as 'GET', url, headers: { authorization: `Bearer ${t.key}` }, ...(payload !== undefined ? { payload: payload as object } : {}) });

  beforeAll(async () => {
    fake = new FakeTwilio(DEPLOYMENT, DEPLOYMENT_TOKEN, {
      [RECEPTION]: RECEPTIONIST,
      [SLOW_RECEPTION]: { ...RECEPTIONIST, ringSteps: 400 },
    });
    fake.addAccount(CUSTOMER, CUSTOMER_TOKEN);
    await fake.start();
    ({ t, publicUrl } = await startTwilioSwitchboard(fake));
    const agent = async (name: string) => {
      const r = await v1('POST', '/api/v1/agents', { name, system_prompt: 'Confirm the dinner booking for Tuesday at 7 pm under the name John Smith.' });
      expect(r.statusCode, r.body).toBe(201);
      return r.json().data.id as string;
    };
    ownAgent = await agent('On its own account');
    plainAgent = await agent('On the deployment account');
    const own = await v1('POST', '/api/v1/phone-numbers', { phone_number: OWN_NUMBER, carrier: 'twilio', agent_id: ownAgent, credentials: { account_sid: CUSTOMER, auth_token: CUSTOMER_TOKEN } });
    expect(own.statusCode, own.body).toBe(201);
    // Stored sealed: the listing says there are credentials, and never shows them.
    expect(own.json().data.has_credentials).toBe(true);
    expect(own.body).not.toContain(CUSTOMER_TOKEN);
    const plain = await v1('POST', '/api/v1/phone-numbers', { phone_number: PLAIN_NUMBER, carrier: 'twilio', agent_id: plainAgent });
    expect(plain.statusCode, plain.body).toBe(201);
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await fake?.close();
  });

  /** Creates a Truedy call by `agent` to `to`; returns its id and the fake's call once placed. */
  async function truedyCall(agent: string, to: string): Promise<{ id: string; fc: FakeCall }> {
    const r = await v1('POST', '/api/public/v1/calls', { agent_id: agent, phone_number: to });
    expect(r.statusCode, r.body).toBe(201);
    const fc = await until(async () => [...fake.calls.values()].find((c) => c.to === to && !seen.has(c.sid)), 20_000, 'the call at the fake');
    seen.add(fc.sid);
    return { id: r.json().data.id as string, fc };
  }
  const seen = new Set<string>();
  const truedy = async (id: string) => (await v1('GET', `/api/public/v1/calls/${id}`)).json().data;
  const ended = (id: string) => until(async () => ((await truedy(id)).status === 'completed' ? truedy(id) : null), 30_000, 'the call to complete');

  it("a call from a number with its own credentials is placed on that account, and its callbacks verify with that account's token", async () => {
    const before = fake.requests.length;
    const { id, fc } = await truedyCall(ownAgent, RECEPTION);
    expect(fc.accountSid).toBe(CUSTOMER);
    expect(fc.from).toBe(OWN_NUMBER);
    const created = fake.requests.slice(before).find((r) => r.path.endsWith('/Calls.json'))!;
    expect(created.path).toBe(`/2010-04-01/Accounts/${CUSTOMER}/Calls.json`);
    // The callback URLs name the account, so the routes know which token to verify them with.
    expect(fc.request.Url).toBe(`${publicUrl}/start_call?account=${CUSTOMER}`);
    expect(fc.request.StatusCallback).toBe(`${publicUrl}/twilio/status?account=${CUSTOMER}`);

    const call = await ended(id);
    await fc.done;
    // Every status callback (signed with the customer's token) was accepted, the relay (handshake signed the
    // same way) carried the conversation, and the recording (003's default) was fetched from that account.
    expect(fc.callbacks.map((c) => c.code).every((code) => code === 204)).toBe(true);
    expect(fc.callbacks.at(-1)!.status).toBe('completed');
    expect(fc.agentTurns.length).toBeGreaterThan(0);
    expect(fc.calleeSaid).toContain('Of course. What name is the booking under?');
    expect(call.from_number).toBe(OWN_NUMBER);
    const rec = await until(async () => fc.recording?.callback, 20_000, 'the recording callback');
    expect(rec.code).toBe(204);
    await until(async () => (fc.recording!.fetches > 0 ? true : null), 20_000, 'the recording to be fetched');
    const media = fake.requests.filter((r) => r.path.includes(`/Recordings/${fc.recording!.sid}`));
    expect(media.map((r) => r.path.split('/Recordings/')[0])).toEqual(media.map(() => `/2010-04-01/Accounts/${CUSTOMER}`));
    // Nothing about this call went to the deployment's account.
    expect(fake.requests.slice(before).filter((r) => r.path.includes(DEPLOYMENT))).toEqual([]);
  }, 90_000);

  it("callbacks of that call signed with the deployment's token are refused (403) and change nothing", async () => {
    const { id, fc } = await truedyCall(ownAgent, SLOW_RECEPTION);
    await until(async () => (fc.status === 'ringing' ? true : null), 20_000, 'the call to ring');
    const common = { AccountSid: CUSTOMER, CallSid: fc.sid, From: OWN_NUMBER, To: SLOW_RECEPTION, Direction: 'outbound-api' };
    const forged = async (url: string, params: Record<string, string>) => (await fake.post(url, params, sign(DEPLOYMENT_TOKEN, url, params))).code;

    // Status and TwiML: as the deployment's account (no `account`), or claiming the customer's — both 403.
    for (const url of [`${publicUrl}/twilio/status`, `${publicUrl}/twilio/status?account=${CUSTOMER}`]) {
      expect(await forged(url, { ...common, CallStatus: 'completed' })).toBe(403);
      expect(await forged(url, { ...common, CallStatus: 'busy' })).toBe(403);
    }
    for (const url of [`${publicUrl}/start_call`, `${publicUrl}/start_call?account=${CUSTOMER}`]) {
      expect(await forged(url, { ...common, CallStatus: 'in-progress' })).toBe(403);
    }
    expect(await forged(`${publicUrl}/twilio/relay-ended`, { ...common, SessionStatus: 'ended' })).toBe(403);
    // The relay socket of a call on the customer's account: the handshake claims it, and must be signed with its token.
    const relay = `${publicUrl.replace(/^http/, 'ws')}/relay/ws?account=${CUSTOMER}`;
    expect(await handshake(relay, sign(DEPLOYMENT_TOKEN, relay))).toBe(403);
    // A relay socket signed by the deployment's account may not take this call: it is closed, the call not answered.
    const plainRelay = `${publicUrl.replace(/^http/, 'ws')}/relay/ws`;
    const closed = await new Promise<number>((resolve) => {
      const ws = new WebSocket(plainRelay, { headers: { 'x-twilio-signature': sign(DEPLOYMENT_TOKEN, plainRelay) } });
      ws.on('open', () => ws.send(JSON.stringify({ type: 'setup', callSid: fc.sid, customParameters: { callSid: fc.sid } })));
      ws.on('close', (code) => resolve(code));
      ws.on('error', () => resolve(0));
    });
    expect(closed).toBe(1008);
    // A recording of this call announced with the deployment's token, or with the customer's but not bound to the call.
    const recParams = { ...common, RecordingSid: 'RE' + '3'.repeat(32), RecordingStatus: 'completed' };
    const recUrl = `${publicUrl}/twilio/recording-status?callId=${id}&account=${CUSTOMER}&bind=forged`;
    expect(await forged(recUrl, recParams)).toBe(403);
    expect((await fake.post(recUrl, recParams, sign(CUSTOMER_TOKEN, recUrl, recParams))).code).toBe(403);

    // Nothing changed: the call still rings, then runs its course with the real (customer-signed) callbacks.
    expect((await truedy(id)).status).toBe('ringing');
    const call = await ended(id);
    await fc.done;
    expect(call.status).toBe('completed');
    expect(call.started_at).not.toBeNull();
    expect(fc.callbacks.map((c) => c.code).every((code) => code === 204)).toBe(true);
    expect(fc.calleeSaid.length).toBeGreaterThan(1);
  }, 90_000);

  it("a number without credentials dials on the deployment's account", async () => {
    const before = fake.requests.length;
    const { id, fc } = await truedyCall(plainAgent, RECEPTION);
    expect(fc.accountSid).toBe(DEPLOYMENT);
    expect(fc.from).toBe(PLAIN_NUMBER);
    expect(fake.requests.slice(before).find((r) => r.path.endsWith('/Calls.json'))!.path).toBe(`/2010-04-01/Accounts/${DEPLOYMENT}/Calls.json`);
    expect(fc.request.Url).toBe(`${publicUrl}/start_call`);
    await ended(id);
    await fc.done;
    expect(fc.callbacks.map((c) => c.code).every((code) => code === 204)).toBe(true);
  }, 90_000);

  it('credentials that are not a Twilio account are refused with 400 naming the field, and nothing is stored', async () => {
    const bad = await v1('POST', '/api/v1/phone-numbers', { phone_number: '+15557770012', carrier: 'twilio', credentials: { account_sid: 'not-a-sid', auth_token: 'x' } });
    expect(bad.statusCode, bad.body).toBe(400);
    expect(bad.json().details.field).toBe('credentials.account_sid');
    const listed = await v1('GET', '/api/v1/phone-numbers');
    expect(listed.json().data.map((n: { phone_number: string }) => n.phone_number)).not.toContain('+15557770012');
  });
});
