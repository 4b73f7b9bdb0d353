/**
 * What the Twilio carrier suites share: a free port, and a Switchboard with CARRIER=twilio pointed at a
 * fake Twilio, listening on that port for real (Twilio's callbacks and sockets must reach it), on the real
 * clock, speaking fast.
 */
import net from 'node:net';
import { WebSocket } from 'ws';
import { BACKENDS, type Backend } from '../helpers/backends.js';
import { expect } from 'vitest';
import { startSwitchboard, until, type TestSwitchboard } from '../helpers/switchboard.js';
import type { SwitchboardOverrides } from '../../src/app.js';
import { RealClock } from '../../src/lib/clock.js';
import type { TwilioCarrier } from '../../src/carriers/twilio/twilio-carrier.js';
import type { FakeTwilio } from '../fakes/twilio/fake-twilio.js';

export const FROM = '+15005550006';

export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** The environment of a node using `fake` as Twilio, on `port`, reached by Twilio at `publicUrl`. */
export function twilioEnv(fake: FakeTwilio, port: number, publicUrl = `http://127.0.0.1:${port}`): Record<string, string> {
  return {
    SHUTDOWN_GRACE_SECONDS: '1',
    PORT: String(port),
    PUBLIC_URL: publicUrl,
    CARRIER: 'twilio',
    TWILIO_ACCOUNT_SID: fake.accountSid,
    TWILIO_AUTH_TOKEN: fake.authToken,
    TWILIO_FROM_NUMBER: FROM,
    TWILIO_API_BASE_URL: fake.url,
  };
}

export interface TwilioSwitchboard {
  t: TestSwitchboard;
  carrier: TwilioCarrier;
  publicUrl: string;
}

/**
 * Starts (and listens) a Switchboard whose carrier is `fake`; the fake must be started. `overrides`: the
 * app's dependencies a suite hands in (e.g. `speech`, for calls in audio mode with doubles).
 */
export async function startTwilioSwitchboard(
  fake: FakeTwilio,
  backend: Backend = BACKENDS[0],
  extraEnv: Record<string, string> = {},
  overrides: Omit<SwitchboardOverrides, 'clock'> = {},
): Promise<TwilioSwitchboard> {
  const port = await freePort();
  const env = twilioEnv(fake, port);
  const t = await startSwitchboard(backend, { ...env, ...extraEnv }, { ...overrides, clock: new RealClock(1) as never });
  const carrier = t.sb.carrier as TwilioCarrier;
  // Twilio's speech takes no time in tests (the carrier judges when a text has been said from its length).
  carrier.opts.wordsPerSecond = 1000;
  await t.sb.listen();
  return { t, carrier, publicUrl: env.PUBLIC_URL };
}

/** Opens a WebSocket to `wsUrl` as Twilio would (with `signature` as X-Twilio-Signature, if any): the HTTP status of the handshake (101 when accepted). */
export function handshake(wsUrl: string, signature?: string): Promise<number> {
  return new Promise<number>((resolve) => {
    const ws = new WebSocket(wsUrl, { headers: signature ? { 'x-twilio-signature': signature } : {} });
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('open', () => {
      ws.close();
      resolve(101);
    });
    ws.on('error', () => resolve(0));
  });
}

/** The /v1 requests the suites make of the Switchboard `t()` (set in `beforeAll`): start a call, read it, wait for its end. */
export function v1Calls(t: () => TestSwitchboard) {
  const headers = () => ({ authorization: `Bearer ${t().key}` });
  async function start(phone: string, body: Record<string, unknown> = {}): Promise<string> {
    const r = await t().sb.app.inject({ method: 'POST', url: '/v1/start-call', headers: headers(), payload: { phone_number: phone, language: 'en', ...body } });
    expect(r.statusCode, r.body).toBe(200);
    return r.json().sid as string;
  }
  const get = async (sid: string) => (await t().sb.app.inject({ method: 'GET', url: `/v1/calls/${sid}`, headers: headers() })).json();
  const ended = (sid: string) => until(async () => ((await get(sid)).ended_at ? get(sid) : null), 20_000, `call ${sid} to end`);
  return { headers, start, get, ended };
}
