/**
 * Two nodes sharing PostgreSQL and Redis, Twilio pointed at the second (as a load balancer might): the first
 * node places the call and carries its session; the TwiML request, the status callbacks, the relay socket and
 * the caller-ID result all reach the second node, which passes them on to the first over the bus.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { startSwitchboard, until, type TestSwitchboard } from '../helpers/switchboard.js';
import { RealClock } from '../../src/lib/clock.js';
import { openStore } from '../../src/store/index.js';
import { FakeTwilio, RECEPTIONIST } from '../fakes/twilio/fake-twilio.js';
import type { TwilioCarrier } from '../../src/carriers/twilio/twilio-carrier.js';
import { freePort, twilioEnv } from './twilio-harness.js';

const ACCOUNT = 'AC' + 'fedcba9876543210'.repeat(2);
const TOKEN = 'cluster-auth-token-0123456789';
const pgUrl = process.env.TEST_DATABASE_URL;
const redisUrl = process.env.TEST_REDIS_URL;

describe.skipIf(!pgUrl || !redisUrl)('Twilio callbacks in a cluster (PostgreSQL + Redis)', () => {
  const schema = 't_' + randomBytes(6).toString('hex');
  const shared = { name: 'postgres' as const, open: () => openStore({ databaseUrl: pgUrl!, schema, poolSize: 5 }) };
  let a: TestSwitchboard;
  let b: TestSwitchboard;
  let fake: FakeTwilio;
  let publicUrl: string;

  beforeAll(async () => {
    fake = new FakeTwilio(ACCOUNT, TOKEN, { '+15551240001': RECEPTIONIST });
    await fake.start();
    const [portA, portB] = [await freePort(), await freePort()];
    // Twilio is told the second node's address: every callback lands there.
    publicUrl = `http://127.0.0.1:${portB}`;
    const env = (port: number) => ({ ...twilioEnv(fake, port, publicUrl), REDIS_URL: redisUrl!, REDIS_PREFIX: `sbtest:${schema}:` });
    a = await startSwitchboard(shared, { ...env(portA), NODE_ID: 'node-a' }, { clock: new RealClock(1) as never });
    b = await startSwitchboard(shared, { ...env(portB), NODE_ID: 'node-b' }, { clock: new RealClock(1) as never });
    (a.sb.carrier as TwilioCarrier).opts.wordsPerSecond = 1000;
    await a.sb.listen();
    await b.sb.listen();
  }, 30_000);

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await fake?.close();
    const c = new pg.Client({ connectionString: pgUrl });
    // A connection lost while idle is an 'error' event: without a listener it would end the run.
    c.on('error', (err) => console.warn('database client error', err.message));
    await c.connect();
    await c.query(`drop schema if exists ${schema} cascade`);
    await c.end();
  });

  const headers = () => ({ authorization: `Bearer ${a.key}` });

  it('a call placed by one node runs to the end while Twilio talks only to the other', async () => {
    const bCarrier = b.sb.carrier as TwilioCarrier;
    const own = bCarrier.twimlFor.bind(bCarrier);
    const bOwnTwiml: Array<string | null> = [];
    bCarrier.twimlFor = (callSid, answeredBy) => {
      const t = own(callSid, answeredBy);
      bOwnTwiml.push(t);
      return t;
    };
    const r = await a.sb.app.inject({
      method: 'POST',
      url: '/v1/start-call',
      headers: headers(),
      payload: { phone_number: '+15551240001', language: 'en', task: 'Confirm my dinner booking for Tuesday at 7 pm, booking reference AB123', persona: { name: 'John Smith' } },
    });
    expect(r.statusCode, r.body).toBe(200);
    const sid = r.json().sid as string;
    const get = async () => (await b.sb.app.inject({ method: 'GET', url: `/v1/calls/${sid}`, headers: headers() })).json();
    const c = await until(async () => ((await get()).ended_at ? get() : null), 20_000, 'call to end');
    const fc = [...fake.calls.values()].find((f) => f.to === '+15551240001')!;
    await fc.done;
    // The second node answered Twilio's TwiML request with the first node's TwiML, relay on the second node.
    expect(fc.twiml).toContain(`<ConversationRelay url="ws://127.0.0.1:${publicUrl.split(':')[2]}/relay/ws"`);
    expect(fc.callbacks.map((x) => x.status)).toEqual(['initiated', 'ringing', 'in-progress', 'completed']);
    expect(fc.callbacks.every((x) => x.code === 204)).toBe(true);
    expect(c.status).toBe('completed');
    expect(c.outcome).toBe('goal_completed');
    expect(fc.agentTurns.some((t) => /John Smith/.test(t))).toBe(true);
    expect(c.transcripts.some((x: any) => x.role === 'user' && /What name is the booking under/.test(x.text))).toBe(true);
    // The second node never knew the call itself: its own answer to the TwiML request was none.
    expect(bOwnTwiml.length).toBeGreaterThan(0);
    expect(bOwnTwiml.every((t) => t === null)).toBe(true);
  }, 30_000);

  it("a caller-ID result that reaches the other node still settles the first node's verification", async () => {
    fake.typesCode.add('+15551240300');
    const r = await a.sb.app.inject({ method: 'POST', url: '/v1/verify-caller-id', headers: headers(), payload: { phone_number: '+15551240300' } });
    expect(r.statusCode, r.body).toBe(200);
    const id = r.json().verification_id as string;
    const status = async () => (await b.sb.app.inject({ method: 'GET', url: `/v1/verification-status/${id}`, headers: headers() })).json().status;
    expect(await until(async () => ((await status()) !== 'pending' ? status() : null), 10_000, 'verification result')).toBe('verified');
    expect(fake.validations.at(-1)!.callback).toEqual({ status: 'success', code: 204 });
  }, 30_000);
});
