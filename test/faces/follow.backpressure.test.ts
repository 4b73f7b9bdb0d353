/**
 * Backpressure on the followers of a call: a client that stops reading its SSE stream or live WebSocket is
 * dropped by the server once it falls FOLLOW_QUEUE_LIMIT events behind, instead of being buffered without
 * bound. Proof: after the drop, the client resumes and receives far fewer events than were said, the
 * connection ends although the call goes on, and the server logged the drop.
 */
import http from 'node:http';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { channels } from '../../src/bus/bus.js';
import type { CallEvent } from '../../src/core/calls/events.js';
import { FOLLOW_QUEUE_LIMIT } from '../../src/core/calls/follow.js';
import { VirtualClock } from '../../src/lib/clock.js';
import { createLogger } from '../../src/lib/logger.js';
import { BACKENDS } from '../helpers/backends.js';
import { startSwitchboard, until, type TestSwitchboard } from '../helpers/switchboard.js';

/** Far more than the socket buffers of loopback and the follower's queue can hold together (~32 MB). */
const EVENTS = 2 * FOLLOW_QUEUE_LIMIT;
const TEXT = 'x'.repeat(16 * 1024);

for (const backend of BACKENDS) {
  describe(`a slow follower is dropped, not buffered [${backend.name}]`, () => {
    let t: TestSwitchboard;
    let base: string;
    const logged: Array<{ msg?: string; callId?: string }> = [];
    beforeAll(async () => {
      const sink = new Writable({
        write(chunk: Buffer, _enc, done) {
          for (const line of chunk.toString().split('\n').filter(Boolean)) logged.push(JSON.parse(line) as { msg?: string });
          done();
        },
      });
      // Time stands still: the simulated callee never answers, so the calls stay live throughout.
      t = await startSwitchboard(backend, { SHUTDOWN_GRACE_SECONDS: '1', HOST: '127.0.0.1' }, { clock: new VirtualClock(undefined, Infinity), log: createLogger('warn', sink) });
      base = await t.sb.listen();
    }, 120_000);
    afterAll(() => t?.close(), 120_000);

    async function liveCall(): Promise<string> {
      const r = await fetch(`${base}/v1/start-call`, {
        method: 'POST',
        headers: { authorization: `Bearer ${t.key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ phone_number: '+15550100', task: 'Talk a lot', language: 'en' }),
      });
      return ((await r.json()) as { id: string }).id;
    }

    /** A very talkative call: EVENTS transcript lines of 16 KiB, straight onto the bus as a session would. */
    async function talk(callId: string): Promise<void> {
      for (let i = 0; i < EVENTS; i++) {
        const e: CallEvent = { type: 'transcript', callId, seq: 1000 + i, at: new Date().toISOString(), role: 'agent', text: TEXT };
        await t.sb.bus.publish(channels.callEvents(callId), e);
        if (i % 100 === 0) await new Promise((r) => setImmediate(r));
      }
    }

    const dropped = (callId: string, msg: string) => logged.some((l) => l.msg === msg && l.callId === callId);

    it('SSE: a client that does not read is dropped; it never gets what was said after', async () => {
      const callId = await liveCall();
      const res = await new Promise<http.IncomingMessage>((resolve, reject) =>
        http.get(`${base}/v1/calls/${callId}/transcripts/stream?api_key=${t.key}`, resolve).on('error', reject),
      );
      expect(res.statusCode).toBe(200);
      res.pause();
      await until(async () => (await t.sb.core.calls.find(t.orgId, callId)) && true);
      await talk(callId);
      await until(async () => dropped(callId, 'slow transcript stream client dropped'), 60_000, 'the server dropping the client');

      // Now the client reads everything it can get: the stream ends although the call is still live.
      let body = '';
      res.setEncoding('utf8');
      await new Promise<void>((resolve) => {
        res.on('data', (c: string) => (body += c));
        res.on('end', resolve);
        res.on('close', resolve);
        res.resume();
      });
      const added = body.split('\n\n').filter((b) => b.includes('event: added')).length;
      expect(added).toBeGreaterThan(0);
      expect(added).toBeLessThan(EVENTS - FOLLOW_QUEUE_LIMIT);
      expect((await t.sb.core.calls.find(t.orgId, callId)).status).not.toMatch(/completed|failed|canceled/);
      res.destroy();
    }, 120_000);

    it('WebSocket: a client that does not read is closed with 1013 slow_consumer', async () => {
      const callId = await liveCall();
      const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/ws/calls/${callId}?api_key=${t.key}`);
      let updates = 0;
      ws.on('message', (d) => {
        if ((JSON.parse(d.toString()) as { type: string }).type === 'transcript_update') updates++;
      });
      const closed = new Promise<{ code: number; reason: string }>((r) => ws.on('close', (code, reason) => r({ code, reason: reason.toString() })));
      await new Promise((r) => ws.once('open', r));
      // The socket opens before the server has subscribed to the call (it authenticates and sends `connected`
      // first); what `talk` publishes before then reaches nobody, as it goes straight onto the bus. A session
      // stores its lines before publishing them, so a real follower reads those from the backlog instead.
      for (let seq = 1; updates === 0; seq++) {
        await t.sb.bus.publish(channels.callEvents(callId), { type: 'transcript', callId, seq, at: new Date().toISOString(), role: 'agent', text: 'probe' } satisfies CallEvent);
        await new Promise((r) => setTimeout(r, 20));
      }
      ws.pause();
      await talk(callId);
      await until(async () => dropped(callId, 'slow live transcript client dropped'), 60_000, 'the server dropping the client');
      ws.resume();
      expect(await closed).toEqual({ code: 1013, reason: 'slow_consumer' });
      expect(updates).toBeLessThan(EVENTS - FOLLOW_QUEUE_LIMIT);
    }, 120_000);
  });
}
