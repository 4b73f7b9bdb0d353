/**
 * A node whose Redis (its bus and its rate limiter) goes away and comes back while it carries simulated
 * calls and gets commands: the process survives, an end-call sent while Redis is away is refused with a
 * 503 worth retrying (the call is not closed behind its session's back), the API's reads keep working,
 * and once Redis is back the bus reconnects and resubscribes: commands reach live calls again, and every
 * call completes. The test runs its own redis-server (never the shared one) and restarts it. The store is
 * PostgreSQL when TEST_DATABASE_URL is set (its own schema), the embedded one otherwise.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OwnRedis, allEnded, api, apiLoad, freePort, startCall, startNode, until, watchProcess, type Node } from './fault-harness.js';

const pgUrl = process.env.TEST_DATABASE_URL;
const REDIS_SERVER = '/usr/bin/redis-server';
const canRun = existsSync(REDIS_SERVER);
if (!canRun) console.warn(`test/faults/redis-restart: skipped, ${REDIS_SERVER} is not installed`);

describe.skipIf(!canRun)('a node whose Redis restarts under load', () => {
  const schema = 'f_' + randomBytes(6).toString('hex');
  let redis: OwnRedis;
  let node: Node;
  let watch: ReturnType<typeof watchProcess>;

  beforeAll(async () => {
    watch = watchProcess();
    redis = new OwnRedis(await freePort());
    await redis.start();
    node = await startNode(
      { REDIS_URL: redis.url, REDIS_PREFIX: `sbfault:${schema}:`, SIM_TIME_SCALE: '2', ...(pgUrl ? { DATABASE_URL: pgUrl } : {}) },
      pgUrl ? { schema } : { inMemory: true },
    );
  }, 180_000); // starting a node takes long on a busy machine

  afterAll(async () => {
    watch?.stop();
    await node?.close();
    await redis?.stop();
    if (pgUrl) {
      const c = new pg.Client({ connectionString: pgUrl });
      c.on('error', () => {});
      await c.connect();
      await c.query(`drop schema if exists ${schema} cascade`);
      await c.end();
    }
  }, 120_000);

  it('survives, refuses commands with 503 while Redis is away, and obeys them once it is back', { timeout: 180_000 }, async () => {
    const sids: string[] = [];
    for (let i = 0; i < 6; i++) sids.push(await startCall(node));
    const load = apiLoad(node, () => sids);
    await until(async () => (await node.sb.core.calls.liveCalls()).filter((c) => c.status === 'in_progress').length >= 3, 60_000, 'calls to connect');

    load.setPhase('outage');
    await redis.stop();
    // A command while Redis is away: not sent, so refused (retry later), never a crash or a closed call.
    const during = await api(node, 'POST', '/v1/end-call', { callSid: sids[0] });
    expect(during.status).toBe(503);
    const first = await api(node, 'GET', `/v1/calls/${sids[0]}`);
    expect(first.status).toBe(200);
    await new Promise((r) => setTimeout(r, 500));
    await redis.start();
    load.setPhase('after');

    // Back: the bus reconnects and resubscribes by itself; a command reaches a live call's session again.
    const live = (await node.sb.core.calls.liveCalls()).map((c) => c.sid);
    const target = sids.find((s) => live.includes(s));
    expect(target).toBeDefined();
    const ended = await until(
      async () => {
        const r = await api(node, 'POST', '/v1/end-call', { callSid: target });
        return r.status === 200 ? r : null;
      },
      30_000,
      'end-call to work again',
    );
    expect(ended.body.alreadyClosed).toBe(false);

    const calls = await allEnded(node, sids);
    await load.stop();
    const byId = new Map(calls.map((c) => [c.sid, c]));
    // Ended by its own session (not closed for want of an answer, which would say session_unreachable).
    // Its reason is ended_by_api unless the call was already saying goodbye when the command arrived.
    expect(byId.get(target!).last_error ?? null).toBeNull();
    // Every other call carried on through the outage to a conversation (the target may have been ended by the
    // command before its first line: on a loaded machine it can still be ringing when it is picked).
    for (const c of calls) if (c.sid !== target) expect(c.transcripts.length, c.sid).toBeGreaterThan(0);
    expect(load.results.filter((r) => r.status !== 200)).toEqual([]);
    expect(node.logged).toContain('redis bus connection error');
    expect(watch.failures).toEqual([]);
  });
});
