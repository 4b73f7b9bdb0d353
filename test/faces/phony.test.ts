/**
 * The Phony face (004) on the simulated network: every supervisor control (`/override/text|dtmf|end|transfer|
 * clarification`) for its success and each error 004 lists, in 004's error body word for word; `/events/ws`
 * over a real socket delivering all four event types and closing when the call ends; the heartbeat (a silent
 * client is closed, an answering one is kept); keyless use only with PHONY_ALLOW_ANONYMOUS; the suggested
 * rate limit; `/test/simulate_call` mapping 004's scenario names to simulated calls, absent in production.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { VirtualClock } from '../../src/lib/clock.js';
import { hashKey } from '../../src/core/orgs.js';
import { advanceUntil, startSwitchboard, until, type TestSwitchboard } from '../helpers/switchboard.js';
import { BACKENDS } from '../helpers/backends.js';
import { ScriptedBrain, engineHarness, type EngineHarness } from '../engine/session-harness.js';

const QUESTION = 'Which evening should I ask for?';
const LINE = 'Supervisor here: please hold the table until eight.';

// The agent greets, then asks its supervisor a question; an answer is said to the callee.
const brain = new ScriptedBrain((input) => {
  if (input.type === 'speech' && /how can i help/i.test(input.text)) {
    return [{ type: 'say', text: 'Hello, I am calling about a booking.' }, { type: 'ask_operator', question: QUESTION }];
  }
  if (input.type === 'operator_answer' && input.answer) return [{ type: 'say', text: `It is for ${input.answer}.` }];
  return undefined;
});

/** A client of /events/ws: every message, and how it closed. */
function eventsClient(url: string, opts: { answerPings?: boolean } = {}) {
  const ws = new WebSocket(url);
  const messages: any[] = [];
  let closed: { code: number; reason: string } | undefined;
  ws.on('error', () => {});
  ws.on('message', (raw) => {
    const m = JSON.parse(raw.toString());
    messages.push(m);
    if (m.type === 'ping' && opts.answerPings) ws.send(JSON.stringify({ type: 'pong' }));
  });
  ws.on('close', (code, reason) => (closed = { code, reason: reason.toString() }));
  const open = new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
  return { ws, messages, open, closed: () => closed, of: (type: string) => messages.filter((m) => m.type === type) };
}

describe('Phony face: supervisor controls and the events socket', () => {
  let h: EngineHarness;
  let t: TestSwitchboard;
  let clock: VirtualClock;
  let base: string;
  beforeAll(async () => {
    clock = new VirtualClock(undefined, Infinity);
    h = await engineHarness(brain, {}, { clock });
    t = h.t;
    base = (await t.sb.listen()).replace(/^http/, 'ws');
  }, 60_000);
  afterAll(() => h?.close());

  const post = (path: string, payload: unknown, headers = h.headers) => t.sb.app.inject({ method: 'POST', url: path, headers, payload: payload as any });
  const start = async (to = '+15550100') => {
    const r = await post('/v1/start-call', { phone_number: to, task: 'Confirm the booking for Alex Smith', language: 'en' });
    expect(r.statusCode, r.body).toBe(200);
    return r.json().sid as string;
  };
  const view = async (sid: string) => (await t.sb.app.inject({ method: 'GET', url: `/v1/calls/${sid}`, headers: h.headers })).json();

  it('carries a call: every event type on /events/ws, each override answered as 004 shows, then the socket closes', async () => {
    const sid = await start();
    const client = eventsClient(`${base}/events/ws?callSid=${sid}&api_key=${t.key}`);
    await client.open;
    // The agent asked its supervisor: the question is a command_executed `request_user`.
    await advanceUntil(clock, async () => client.of('command_executed').find((m) => m.command === 'request_user'), 500, 60_000);

    const text = await post('/override/text', { callSid: sid, text: LINE });
    expect(text.statusCode, text.body).toBe(200);
    expect(text.json()).toEqual({ status: 'success', message: 'Text sent to caller' });
    const dtmf = await post('/override/dtmf', { callSid: sid, digit: '5' });
    expect(dtmf.json()).toEqual({ status: 'success', message: 'DTMF digit sent' });
    const clar = await post('/override/clarification', { callSid: sid, response: 'Tuesday' });
    expect(clar.statusCode, clar.body).toBe(200);
    expect(clar.json()).toEqual({ status: 'success', message: 'Clarification sent to AI' });
    // The answer reached the agent, which said it.
    await advanceUntil(clock, async () => client.of('assistant_reply').find((m) => m.text === 'It is for Tuesday.'), 500, 60_000);
    await advanceUntil(clock, async () => client.of('transcript').find((m) => m.speaker === 'supervisor'), 500, 60_000);
    // Asked again with nothing pending: 004's 400.
    const none = await post('/override/clarification', { callSid: sid, response: 'Tuesday' });
    expect(none.statusCode).toBe(400);
    expect(none.json()).toEqual({ error: { code: 'INVALID_REQUEST', message: 'No pending query for this call', details: expect.any(Object) } });

    const end = await post('/override/end', { callSid: sid });
    expect(end.json()).toEqual({ status: 'success', message: 'Call ended' });
    await advanceUntil(clock, async () => client.closed(), 500, 60_000);
    expect(client.closed()!.code).toBe(1000);

    // The four event types, in 004's shape.
    const by = `key:${hashKey(t.key).slice(0, 12)}`;
    expect(client.of('transcript').find((m) => m.speaker === 'caller')).toMatchObject({ callSid: sid, text: expect.stringMatching(/Bella Cucina/), timestamp: expect.any(String) });
    expect(client.of('transcript').find((m) => m.speaker === 'assistant')).toMatchObject({ callSid: sid, text: 'Hello, I am calling about a booking.' });
    expect(client.of('transcript').find((m) => m.speaker === 'supervisor')).toMatchObject({ callSid: sid, text: LINE });
    expect(client.of('assistant_reply')[0]).toMatchObject({ callSid: sid, text: 'Hello, I am calling about a booking.' });
    expect(client.of('command_executed').find((m) => m.command === 'request_user')).toMatchObject({ value: QUESTION });
    const overrides = client.of('supervisor_override').map((m) => [m.action, m.value, m.by].filter(Boolean).join(' '));
    expect(overrides).toEqual([`text ${LINE} ${by}`, `dtmf 5 ${by}`, `clarification ${by}`, `end ${by}`]);
    for (const m of client.messages.filter((x) => x.type !== 'ping')) expect(Date.parse(m.timestamp)).not.toBeNaN();

    // The ended call has no session any more: 004's 404, word for word.
    for (const [path, body] of [
      ['/override/end', { callSid: sid }],
      ['/override/text', { callSid: sid, text: 'Hello' }],
    ] as const) {
      const r = await post(path, body);
      expect(r.statusCode).toBe(404);
      expect(r.json().error).toMatchObject({ code: 'CALL_NOT_FOUND', message: 'Call session not found' });
    }
    // override_count: text, dtmf, clarification, end.
    const m = (await t.sb.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(/override_count_sum (\d+)/.exec(m)?.[1]).toBe('4');
  }, 180_000);

  it('transfers a call to another number; refuses one that is not a phone number', async () => {
    const sid = await start();
    await advanceUntil(clock, async () => (await view(sid)).status === 'in-progress', 500, 60_000);
    const bad = await post('/override/transfer', { callSid: sid, target: 'reception' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toMatchObject({ code: 'INVALID_REQUEST', details: { field: 'target' } });
    const r = await post('/override/transfer', { callSid: sid, target: '+15550161' });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json()).toEqual({ status: 'success', message: 'Call transferred to +15550161' });
    const c = await advanceUntil(clock, async () => {
      const v = await view(sid);
      return v.ended_at ? v : null;
    }, 500, 60_000);
    expect(c.outcome).toBe('transferred');
  }, 120_000);

  it('answers each error 004 lists in its body, word for word', async () => {
    const unknown = 'CA' + '0'.repeat(32);
    for (const [path, body] of [
      ['/override/text', { callSid: unknown, text: 'Hi' }],
      ['/override/dtmf', { callSid: unknown, digit: '1' }],
      ['/override/end', { callSid: unknown }],
      ['/override/transfer', { callSid: unknown, target: '+15550161' }],
      ['/override/clarification', { callSid: unknown, response: 'x' }],
    ] as const) {
      const r = await post(path, body);
      expect(r.statusCode, path).toBe(404);
      expect(r.json(), path).toEqual({ error: { code: 'CALL_NOT_FOUND', message: 'Call session not found', details: {} } });
    }
    const sid = await start('+15550103'); // rings, never answered: a live call with no conversation yet
    for (const [path, body, field] of [
      ['/override/text', { callSid: sid }, 'text'],
      ['/override/text', { callSid: sid, text: '' }, 'text'],
      ['/override/dtmf', { callSid: sid, digit: '55' }, 'digit'],
      ['/override/dtmf', { callSid: sid, digit: 'a' }, 'digit'],
      ['/override/end', {}, 'callSid'],
      ['/override/transfer', { callSid: sid, target: '555' }, 'target'],
      ['/override/clarification', { callSid: sid }, 'response'],
    ] as const) {
      const r = await post(path, body);
      expect(r.statusCode, `${path} ${JSON.stringify(body)}`).toBe(400);
      expect(r.json().error.code).toBe('INVALID_REQUEST');
      expect(r.json().error.details.field).toBe(field);
      expect(r.json().error.message).toMatch(new RegExp(field));
    }
    const noKey = await t.sb.app.inject({ method: 'POST', url: '/override/end', payload: { callSid: sid } });
    expect(noKey.statusCode).toBe(401);
    expect(noKey.json()).toEqual({ error: { code: 'UNAUTHORIZED', message: expect.any(String), details: {} } });
    const badKey = await post('/override/end', { callSid: sid }, { authorization: 'Bearer sk_wrong' });
    expect(badKey.statusCode).toBe(401);
    // Nothing was stored for any refused command.
    const rows = await t.sb.store.db.selectFrom('call_events').innerJoin('calls', 'calls.id', 'call_events.call_id').select('kind').where('calls.sid', '=', sid).where('kind', '=', 'override').execute();
    expect(rows).toEqual([]);
    await post('/v1/end-call', { callSid: sid });
  }, 120_000);

  it('takes the call from the first message, and refuses an unknown call on the socket', async () => {
    const sid = await start();
    const client = eventsClient(`${base}/events/ws?api_key=${t.key}`);
    await client.open;
    client.ws.send(JSON.stringify({ callSid: sid }));
    await advanceUntil(clock, async () => client.of('transcript').length > 0, 500, 60_000);
    expect(client.of('transcript')[0].callSid).toBe(sid);
    await post('/override/end', { callSid: sid });
    await advanceUntil(clock, async () => client.closed(), 500, 60_000);

    const unknown = eventsClient(`${base}/events/ws?callSid=CA${'1'.repeat(32)}&api_key=${t.key}`);
    await expect(unknown.open).rejects.toThrow('HTTP 404');
    const noKey = eventsClient(`${base}/events/ws?callSid=${sid}`);
    await expect(noKey.open).rejects.toThrow('HTTP 401');
  }, 120_000);
});

for (const backend of BACKENDS.slice(0, 1)) {
  describe('Phony face: heartbeat, keyless development use, rate limit, simulate_call', () => {
    let t: TestSwitchboard;
    let base: string;
    beforeAll(async () => {
      t = await startSwitchboard(backend, {
        PHONY_ALLOW_ANONYMOUS: 'true',
        PHONY_WS_PING_MS: '100',
        PHONY_WS_TIMEOUT_MS: '600',
        PHONY_OVERRIDES_PER_MINUTE: '5',
        PHONY_WS_MESSAGES_PER_MINUTE: '30',
        SHUTDOWN_GRACE_SECONDS: '1',
      }, { clock: new VirtualClock(undefined, Infinity) });
      base = (await t.sb.listen()).replace(/^http/, 'ws');
    }, 60_000);
    afterAll(() => t?.close());

    it('pings every interval, keeps a client that answers and closes one that stops', async () => {
      const r = await t.sb.app.inject({ method: 'POST', url: '/test/simulate_call', payload: { scenario: 'phone_menu' }, headers: { authorization: `Bearer ${t.key}` } });
      expect(r.statusCode, r.body).toBe(200);
      const { callSid } = r.json();
      // Keyless (PHONY_ALLOW_ANONYMOUS), as 004's own examples connect.
      const live = eventsClient(`${base}/events/ws?callSid=${callSid}`, { answerPings: true });
      const silent = eventsClient(`${base}/events/ws?callSid=${callSid}`);
      await Promise.all([live.open, silent.open]);
      await until(async () => silent.closed(), 10_000, 'the silent client to be closed');
      expect(silent.closed()!.code).toBe(4408);
      expect(silent.of('ping').length).toBeGreaterThanOrEqual(2);
      expect(silent.messages.find((m) => m.type === 'ping')).toEqual({ type: 'ping' });
      // The answering client outlived the timeout by far, and is still open.
      await until(async () => live.of('ping').length >= 15, 10_000, 'pings');
      expect(live.closed()).toBeUndefined();
      live.ws.close();
      await t.sb.app.inject({ method: 'POST', url: '/override/end', payload: { callSid } });
    }, 60_000);

    it('closes a socket whose client sends more messages a minute than allowed (1008)', async () => {
      const r = await t.sb.app.inject({ method: 'POST', url: '/test/simulate_call', payload: { scenario: 'no_answer' }, headers: { authorization: `Bearer ${t.key}` } });
      const { callSid } = r.json();
      const chatty = eventsClient(`${base}/events/ws?callSid=${callSid}&api_key=${t.key}`);
      await chatty.open;
      for (let i = 0; i < 40; i++) chatty.ws.send(JSON.stringify({ type: 'pong' }));
      await until(async () => chatty.closed(), 10_000, 'the chatty client to be closed');
      expect(chatty.closed()!.code).toBe(1008);
      await t.sb.app.inject({ method: 'POST', url: '/v1/end-call', payload: { callSid }, headers: { authorization: `Bearer ${t.key}` } });
    });

    it('works keyless but refuses a wrong key; limits supervisor controls per minute (429)', async () => {
      const unknown = { callSid: 'CA' + '2'.repeat(32) };
      const wrong = await t.sb.app.inject({ method: 'POST', url: '/override/end', payload: unknown, headers: { authorization: 'Bearer nope' } });
      expect(wrong.statusCode).toBe(401);
      const codes: number[] = [];
      for (let i = 0; i < 7; i++) codes.push((await t.sb.app.inject({ method: 'POST', url: '/override/end', payload: unknown, remoteAddress: '10.9.9.9' })).statusCode);
      expect(codes.filter((c) => c === 404).length).toBeLessThanOrEqual(5);
      const limited = await t.sb.app.inject({ method: 'POST', url: '/override/end', payload: unknown, remoteAddress: '10.9.9.9' });
      expect(limited.statusCode).toBe(429);
      expect(limited.json().error.code).toBe('RATE_LIMITED');
      expect(limited.headers['retry-after']).toBeDefined();
    });

    it('simulate_call maps 004 scenario names to simulated calls; refuses unknown names', async () => {
      const headers = { authorization: `Bearer ${t.key}` };
      const r = await t.sb.app.inject({ method: 'POST', url: '/test/simulate_call', headers, payload: { from: '+15551234567', to: '+15550104' } });
      // A caller ID that is not the organisation's is refused by the same rule as every face.
      expect(r.statusCode).toBe(400);
      const vm = await t.sb.app.inject({ method: 'POST', url: '/test/simulate_call', headers, payload: { scenario: 'voicemail' } });
      expect(vm.statusCode, vm.body).toBe(200);
      expect(vm.json()).toMatchObject({ status: 'success', scenario: 'voicemail', to: '+15550104' });
      const call = await t.sb.core.calls.find(t.orgId, vm.json().callSid);
      expect(call.request.to).toBe('+15550104');
      const bad = await t.sb.app.inject({ method: 'POST', url: '/test/simulate_call', headers, payload: { scenario: 'nope' } });
      expect(bad.statusCode).toBe(400);
      expect(bad.json().error).toMatchObject({ code: 'INVALID_REQUEST', details: { field: 'scenario' } });
      await t.sb.app.inject({ method: 'POST', url: '/override/end', headers, payload: { callSid: vm.json().callSid } });
    });
  });

  describe('Phony face in production', () => {
    it('has no /test/simulate_call and refuses keyless use at start-up', async () => {
      const { loadConfig } = await import('../../src/config/index.js');
      expect(() => loadConfig({ NODE_ENV: 'production', PHONY_ALLOW_ANONYMOUS: 'true' })).toThrow(/PHONY_ALLOW_ANONYMOUS/);
      const t = await startSwitchboard(backend, { NODE_ENV: 'production', SHUTDOWN_GRACE_SECONDS: '1' }, { clock: new VirtualClock(undefined, Infinity) });
      try {
        const r = await t.sb.app.inject({ method: 'POST', url: '/test/simulate_call', headers: { authorization: `Bearer ${t.key}` }, payload: { scenario: 'voicemail' } });
        expect(r.statusCode).toBe(404);
      } finally {
        await t.close();
      }
    }, 60_000);
  });
}
