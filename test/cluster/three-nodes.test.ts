/**
 * Three nodes sharing one PostgreSQL schema and one Redis prefix (as behind a load balancer): a call started
 * through node A, followed over SSE on node B, and ended through node C. The session runs on A; B sees its
 * events over Redis; C's end command reaches A's session over the bus.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { startSwitchboard, until, type TestSwitchboard } from '../helpers/switchboard.js';
import { RealClock } from '../../src/lib/clock.js';
import { openStore } from '../../src/store/index.js';

const pgUrl = process.env.TEST_DATABASE_URL;
const redisUrl = process.env.TEST_REDIS_URL;

interface SseEvent {
  id?: string;
  event: string;
  data: any;
}

/** Follows an SSE response as it arrives: `events` fills as blocks come in; `done` resolves when the server closes. */
function follow(url: string) {
  const events: SseEvent[] = [];
  const done = (async () => {
    const res = await fetch(url);
    if (!res.ok || !res.body) throw new Error(`SSE answered ${res.status}`);
    const decoder = new TextDecoder();
    let buf = '';
    for await (const chunk of res.body) {
      buf += decoder.decode(chunk as Uint8Array, { stream: true });
      let i: number;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const get = (k: string) => new RegExp(`^${k}: (.*)$`, 'm').exec(block)?.[1];
        if (block.trim()) events.push({ id: get('id'), event: get('event') ?? 'message', data: JSON.parse(get('data') ?? 'null') });
      }
    }
  })();
  return { events, done };
}

describe.skipIf(!pgUrl || !redisUrl)('three nodes on one PostgreSQL schema and one Redis prefix', () => {
  const schema = 't_' + randomBytes(6).toString('hex');
  const shared = { name: 'postgres' as const, open: () => openStore({ databaseUrl: pgUrl!, schema, poolSize: 4 }) };
  const env = { REDIS_URL: redisUrl!, REDIS_PREFIX: `sbtest:${schema}:`, CREDENTIALS_KEY: randomBytes(32).toString('base64'), SHUTDOWN_GRACE_SECONDS: '1', HOST: '127.0.0.1' };
  const nodes: Record<'a' | 'b' | 'c', { t: TestSwitchboard; url: string }> = {} as never;

  beforeAll(async () => {
    for (const id of ['a', 'b', 'c'] as const) {
      // The real clock: the call must still be live when C ends it.
      const t = await startSwitchboard(shared, { ...env, NODE_ID: `node-${id}` }, { clock: new RealClock(1) as never });
      nodes[id] = { t, url: await t.sb.listen() };
    }
  }, 60_000);

  afterAll(async () => {
    for (const n of Object.values(nodes)) await n?.t.close();
    const c = new pg.Client({ connectionString: pgUrl });
    await c.connect();
    await c.query(`drop schema if exists ${schema} cascade`);
    await c.end();
  });

  it('a call started through A, followed over SSE on B, ended through C', async () => {
    // Every node made the same organisation (one schema): A's key works on all three.
    const key = nodes.a.t.key;
    const auth = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
    const started = await fetch(`${nodes.a.url}/v1/start-call`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ phone_number: '+15550100', language: 'en', task: 'Confirm my dinner booking for Tuesday at 7 pm, booking reference AB123', persona: { name: 'Alex Smith' } }),
    });
    expect(started.status).toBe(200);
    const sid = ((await started.json()) as { sid: string }).sid;

    const sse = follow(`${nodes.b.url}/v1/calls/${sid}/transcripts/stream?api_key=${key}`);
    // B sees the conversation as it happens on A.
    await until(async () => sse.events.some((e) => e.event === 'added'), 30_000, 'a transcript line on B');

    // The session runs on A (the node it was started through), not on C that ends it.
    expect(await nodes.b.t.sb.store.db.selectFrom('calls').select('owner_node').where('sid', '=', sid).executeTakeFirstOrThrow()).toEqual({ owner_node: 'node-a' });
    const ended = await fetch(`${nodes.c.url}/v1/end-call`, { method: 'POST', headers: auth, body: JSON.stringify({ callSid: sid }) });
    expect(ended.status).toBe(200);
    expect(((await ended.json()) as { alreadyClosed: boolean }).alreadyClosed).toBe(false);

    await sse.done;
    const last = sse.events.at(-1)!;
    expect(last.event).toBe('ended');

    const call: any = await (await fetch(`${nodes.b.url}/v1/calls/${sid}`, { headers: auth })).json();
    expect(call.ended_at).toBeTruthy();
    expect(last.data.status).toBe(call.status);
    // B streamed every line the call stored, in order, once each.
    const added = sse.events.filter((e) => e.event === 'added').map((e) => e.data.text);
    expect(added).toEqual(call.transcripts.map((x: any) => x.text));
  }, 90_000);
});
