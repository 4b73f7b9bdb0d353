/**
 * Limits that hold (issue 11 §5): one rate-limit budget per key across every face and every node, a budget
 * per client address for requests with no key or a bad one, and revoked keys refused on every node.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { BACKENDS } from '../helpers/backends.js';
import { startSwitchboard, until, type TestSwitchboard } from '../helpers/switchboard.js';
import { openStore } from '../../src/store/index.js';

const LIMIT = 6;
/** One cheap authenticated read per face. */
const READS = ['/v1/verified-caller-ids', '/api/v1/agents', '/api/public/v1/calls'];

describe('rate limits on one node', () => {
  let t: TestSwitchboard;
  beforeAll(async () => {
    t = await startSwitchboard(BACKENDS[0], { RATE_LIMIT_PER_MINUTE: String(LIMIT), SHUTDOWN_GRACE_SECONDS: '1' });
  });
  afterAll(() => t?.close());

  const get = (url: string, headers: Record<string, string> = {}, remoteAddress = '127.0.0.1') =>
    t.sb.app.inject({ method: 'GET', url, headers, remoteAddress });

  it('gives a key one budget across /v1, /api/v1 and /api/public/v1, not one per face', async () => {
    const key = await t.sb.core.orgs.createKey(t.orgId);
    const headers = { authorization: `Bearer ${key}` };
    const codes: number[] = [];
    for (let i = 0; i < LIMIT; i++) codes.push((await get(READS[i % READS.length], headers)).statusCode);
    expect(codes).toEqual(Array(LIMIT).fill(200));
    // The budget is spent: every face now refuses the key, each in its own words.
    const v1 = await get(READS[0], headers);
    expect(v1.statusCode).toBe(429);
    expect(v1.json()).toEqual({ error: 'Too Many Requests' });
    expect(Number(v1.headers['retry-after'])).toBeGreaterThan(0);
    const agents = await get(READS[1], headers);
    expect(agents.statusCode).toBe(429);
    expect(agents.json()).toMatchObject({ success: false, error: 'Too Many Requests' });
    const truedy = await get(READS[2], headers);
    expect(truedy.statusCode).toBe(429);
    expect(truedy.json().error).toMatchObject({ code: expect.any(String) });
    // Another key of the same organisation has its own budget.
    const other = await t.sb.core.orgs.createKey(t.orgId);
    expect((await get(READS[1], { authorization: `Bearer ${other}` })).statusCode).toBe(200);
  });

  it('limits requests with no key or a bad key per client address, across faces', async () => {
    const ip = '198.51.100.7';
    const codes: number[] = [];
    for (let i = 0; i < LIMIT; i++) {
      const headers: Record<string, string> = i % 2 ? { authorization: `Bearer sk_guess${i}${randomBytes(8).toString('hex')}` } : {};
      codes.push((await get(READS[i % READS.length], headers, ip)).statusCode);
    }
    expect(codes).toEqual(Array(LIMIT).fill(401));
    // Past the budget, guessing more keys is refused before any is tried.
    const guess = await get(READS[1], { authorization: `Bearer sk_${randomBytes(12).toString('hex')}` }, ip);
    expect(guess.statusCode).toBe(429);
    expect((await get(READS[0], {}, ip)).statusCode).toBe(429);
    // Another address still gets its 401; a valid key from the limited address is counted against the key.
    expect((await get(READS[0], {}, '198.51.100.8')).statusCode).toBe(401);
    const key = await t.sb.core.orgs.createKey(t.orgId);
    expect((await get(READS[2], { authorization: `Bearer ${key}` }, ip)).statusCode).toBe(200);
  });

  it('refuses a revoked key (the key cache keeps it at most a second)', async () => {
    const key = await t.sb.core.orgs.createKey(t.orgId);
    const headers = { authorization: `Bearer ${key}` };
    expect((await get(READS[0], headers, '203.0.113.1')).statusCode).toBe(200);
    expect(await t.sb.core.orgs.revokeKey(t.orgId, key.slice(0, 10))).toBe(1);
    const r = await get(READS[0], headers, '203.0.113.1');
    expect(r.statusCode).toBe(401);
    expect(r.json()).toEqual({ error: 'Invalid API key' });
  });
});

const pgUrl = process.env.TEST_DATABASE_URL;
const redisUrl = process.env.TEST_REDIS_URL;

describe.skipIf(!pgUrl || !redisUrl)('rate limits and revoked keys across two nodes (PostgreSQL + Redis)', () => {
  const schema = 't_' + randomBytes(6).toString('hex');
  const shared = { name: 'postgres' as const, open: () => openStore({ databaseUrl: pgUrl!, schema, poolSize: 3 }) };
  let a: TestSwitchboard;
  let b: TestSwitchboard;

  beforeAll(async () => {
    const env = (node: string) => ({
      REDIS_URL: redisUrl!,
      REDIS_PREFIX: `sbtest:${schema}:`,
      NODE_ID: node,
      RATE_LIMIT_PER_MINUTE: String(LIMIT),
      SHUTDOWN_GRACE_SECONDS: '1',
    });
    a = await startSwitchboard(shared, env('node-a'));
    b = await startSwitchboard(shared, env('node-b'));
  }, 30_000);

  afterAll(async () => {
    await a?.close();
    await b?.close();
    const c = new pg.Client({ connectionString: pgUrl });
    await c.connect();
    await c.query(`drop schema if exists ${schema} cascade`);
    await c.end();
  });

  it('shares one budget per key between the nodes', async () => {
    const key = await a.sb.core.orgs.createKey(a.orgId);
    const headers = { authorization: `Bearer ${key}` };
    const codes: number[] = [];
    for (let i = 0; i < LIMIT; i++) {
      const node = i % 2 ? b : a;
      codes.push((await node.sb.app.inject({ method: 'GET', url: READS[i % READS.length], headers })).statusCode);
    }
    expect(codes).toEqual(Array(LIMIT).fill(200));
    for (const node of [a, b]) {
      expect((await node.sb.app.inject({ method: 'GET', url: READS[1], headers })).statusCode).toBe(429);
    }
  });

  it('refuses on node B, within a second, a key revoked on node A', async () => {
    const key = await a.sb.core.orgs.createKey(a.orgId);
    const headers = { authorization: `Bearer ${key}` };
    // Node B has the key in its cache.
    expect((await b.sb.app.inject({ method: 'GET', url: READS[0], headers, remoteAddress: '203.0.113.9' })).statusCode).toBe(200);
    expect(await a.sb.core.orgs.revokeKey(a.orgId, key)).toBe(1);
    // Generous bound for a loaded machine; the promise is one second (the cache's life).
    await until(
      async () => (await b.sb.app.inject({ method: 'GET', url: READS[0], headers, remoteAddress: '203.0.113.9' })).statusCode === 401,
      10_000,
      'node B to refuse the revoked key',
    );
  });
});
