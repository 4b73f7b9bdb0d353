/**
 * User-on-call and supervisor commands across two nodes sharing one PostgreSQL schema and one Redis prefix:
 * the call is started (and its session runs) on node A; node B answers `conference-status` from the stored
 * room, takes the takeover and a Phony supervisor line, whose commands reach A's session over the bus, and
 * B's `/events/ws` sees A's events.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import WebSocket from 'ws';
import { startSwitchboard, until, type TestSwitchboard } from '../helpers/switchboard.js';
import { RealClock } from '../../src/lib/clock.js';
import { openStore } from '../../src/store/index.js';

const pgUrl = process.env.TEST_DATABASE_URL;
const redisUrl = process.env.TEST_REDIS_URL;

describe.skipIf(!pgUrl || !redisUrl)('user-on-call across two nodes', () => {
  const schema = 't_' + randomBytes(6).toString('hex');
  const shared = { name: 'postgres' as const, open: () => openStore({ databaseUrl: pgUrl!, schema, poolSize: 4 }) };
  const env = { REDIS_URL: redisUrl!, REDIS_PREFIX: `sbtest:${schema}:`, CREDENTIALS_KEY: randomBytes(32).toString('base64'), SHUTDOWN_GRACE_SECONDS: '1', HOST: '127.0.0.1' };
  const nodes: Record<'a' | 'b', { t: TestSwitchboard; url: string }> = {} as never;

  beforeAll(async () => {
    for (const id of ['a', 'b'] as const) {
      // The simulated network five times faster than real time.
      const t = await startSwitchboard(shared, { ...env, NODE_ID: `node-${id}` }, { clock: new RealClock(5) as never });
      nodes[id] = { t, url: await t.sb.listen() };
    }
  }, 60_000);

  afterAll(async () => {
    for (const n of Object.values(nodes)) await n?.t.close();
    const c = new pg.Client({ connectionString: pgUrl });
    c.on('error', () => {});
    await c.connect();
    await c.query(`drop schema if exists ${schema} cascade`);
    await c.end();
  });

  it('takes over on node B a session running on node A; B follows it live', async () => {
    const { a, b } = nodes;
    const on = (n: typeof a) => ({
      req: (method: 'GET' | 'POST', url: string, payload?: unknown) =>
        n.t.sb.app.inject({ method, url, headers: { authorization: `Bearer ${n.t.key}` }, ...(payload !== undefined ? { payload: payload as any } : {}) }),
    });
    const start = await on(a).req('POST', '/v1/start-call', { phone_number: '+15550100', task: 'Confirm the booking for Alex Smith', language: 'en', userOnCall: true, userPhone: '+15550160' });
    expect(start.statusCode, start.body).toBe(200);
    const { sid } = start.json();
    const state = async () => (await on(b).req('GET', `/v1/calls/${sid}/conference-status`)).json().state;
    await until(async () => (await state()) === 'connected', 30_000, 'connected, seen from B');
    expect((await a.t.sb.core.calls.find(a.t.orgId, sid)).owner_node).toBe('node-a');

    const events: any[] = [];
    const ws = new WebSocket(`${b.url.replace(/^http/, 'ws')}/events/ws?callSid=${sid}&api_key=${b.t.key}`);
    ws.on('error', () => {});
    ws.on('message', (m) => events.push(JSON.parse(m.toString())));
    await new Promise((r) => ws.once('open', r));

    const act = await on(b).req('POST', `/v1/calls/${sid}/activate`, {});
    expect(act.statusCode, act.body).toBe(200);
    await until(async () => (await state()) === 'active', 30_000, 'active, seen from B');
    await until(async () => events.some((e) => e.type === 'assistant_reply'), 30_000, 'the agent heard on B');
    const line = await on(b).req('POST', '/override/text', { callSid: sid, text: 'Supervisor here, thank you.' });
    expect(line.statusCode, line.body).toBe(200);
    await until(async () => events.some((e) => e.type === 'transcript' && e.speaker === 'supervisor'), 30_000, 'the supervisor line on B');
    expect(events.find((e) => e.type === 'supervisor_override' && e.action === 'activate')).toBeDefined();
    expect((await on(b).req('POST', '/override/end', { callSid: sid })).statusCode).toBe(200);
    await until(async () => (await state()) === 'completed', 30_000, 'completed');
    ws.close();
  }, 120_000);
});
