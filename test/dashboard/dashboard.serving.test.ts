/**
 * The dashboard as the server serves it: the built app at /dashboard/ (and 004's
 * /dashboard/index.html?callSid=), open to load but with every data route behind a key or session; the
 * simulated numbers the start form offers; one stream with every event of a call, resumable.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../helpers/backends.js';
import { startSwitchboard, type TestSwitchboard } from '../helpers/switchboard.js';
import { ensureDashboardBuilt } from './browser.js';
import { loadScenarios } from '../../src/carriers/sim/index.js';

interface SseEvent {
  id?: string;
  event: string;
  data: any;
}

/** Reads a whole SSE response (the server closes it once the call has ended). */
async function readSse(url: string, headers: Record<string, string> = {}): Promise<{ status: number; events: SseEvent[] }> {
  const res = await fetch(url, { headers });
  if (!res.ok || !res.body) return { status: res.status, events: [] };
  const text = await res.text();
  const events = text
    .split('\n\n')
    .filter((b) => b.trim())
    .map((block) => {
      const get = (k: string) => new RegExp(`^${k}: (.*)$`, 'm').exec(block)?.[1];
      return { id: get('id'), event: get('event') ?? 'message', data: JSON.parse(get('data') ?? 'null') };
    });
  return { status: res.status, events };
}

describe('dashboard serving', () => {
  let t: TestSwitchboard;
  let base: string;
  let auth: Record<string, string>;
  beforeAll(async () => {
    ensureDashboardBuilt();
    t = await startSwitchboard(BACKENDS[0], { HOST: '127.0.0.1' });
    base = await t.sb.listen();
    auth = { authorization: `Bearer ${t.key}` };
  });
  afterAll(() => t.close());

  it('serves the app at /dashboard/ and /dashboard/index.html?callSid=, with its script and style, no CDN', async () => {
    const bare = await fetch(`${base}/dashboard?callSid=CA123`, { redirect: 'manual' });
    expect(bare.status).toBe(302);
    expect(bare.headers.get('location')).toBe('/dashboard/?callSid=CA123');

    for (const path of ['/dashboard/', '/dashboard/index.html?callSid=CA123']) {
      const res = await fetch(base + path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      const html = await res.text();
      expect(html).toContain('<div id="app">');
      // Everything it loads comes from this server (it works offline).
      const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
      expect(refs.length).toBeGreaterThanOrEqual(2);
      for (const ref of refs) {
        expect(ref, 'a relative asset').toMatch(/^\.\/assets\//);
        const asset = await fetch(new URL(ref, base + '/dashboard/'));
        expect(asset.status, ref).toBe(200);
        expect(asset.headers.get('content-type')).toMatch(ref.endsWith('.js') ? /javascript/ : /text\/css/);
      }
    }
  });

  it('refuses its data routes without a key or session, with a readable error', async () => {
    const res = await fetch(`${base}/dashboard/api/simulated-numbers`);
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: 'Sign in first' });
    const bad = await fetch(`${base}/dashboard/api/simulated-numbers`, { headers: { authorization: 'Bearer sb_wrong' } });
    expect(bad.status).toBe(401);
    expect(((await fetch(`${base}/dashboard/api/calls/CAnope/turns`, { headers: auth })) as Response).status).toBe(404);
  });

  it('lists the simulated numbers the start form offers', async () => {
    const res = await fetch(`${base}/dashboard/api/simulated-numbers`, { headers: auth });
    expect(res.status).toBe(200);
    const { numbers } = (await res.json()) as { numbers: Array<{ number: string; name: string; kind: string }> };
    expect(numbers.find((n) => n.number === '+15550100')).toMatchObject({ name: 'Bella Cucina', kind: 'human' });
    // The list is the scenarios folder: every scenario once, by number.
    const files = await loadScenarios(t.sb.config.scenariosDir);
    expect(numbers.map((n) => `${n.number} ${n.name} ${n.kind}`)).toEqual(files.map((s) => `${s.number} ${s.name} ${s.kind}`));
  });

  it('streams every event of a call (transcript, status, commands) with ids, resumes after Last-Event-ID, then ends', async () => {
    const start = await fetch(`${base}/v1/start-call`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ phone_number: '+15550100', task: 'Confirm my booking for Tuesday at 7 pm', language: 'en' }),
    });
    const { sid } = (await start.json()) as { sid: string };
    const { status, events } = await readSse(`${base}/dashboard/api/calls/${sid}/events?api_key=${t.key}`);
    expect(status).toBe(200);
    const kinds = new Set(events.map((e) => e.event));
    for (const k of ['transcript', 'status', 'ended']) expect(kinds, k).toContain(k);
    const numbered = events.filter((e) => e.event !== 'ended' && e.event !== 'ping');
    for (const e of numbered) expect(e.id).toBe(String(e.data.seq));
    expect(events[events.length - 1].event).toBe('ended');
    expect(numbered.filter((e) => e.event === 'status').at(-1)?.data.status).toBe('completed');
    // The same transcript as the call's own.
    const call: any = await (await fetch(`${base}/v1/calls/${sid}`, { headers: auth })).json();
    expect(numbered.filter((e) => e.event === 'transcript').map((e) => e.data.text)).toEqual(call.transcripts.map((x: { text: string }) => x.text));

    const cut = numbered[2].data.seq;
    const rest = await readSse(`${base}/dashboard/api/calls/${sid}/events`, { ...auth, 'last-event-id': String(cut) });
    expect(rest.events.filter((e) => e.event !== 'ended').map((e) => e.data.seq)).toEqual(numbered.filter((e) => e.data.seq > cut).map((e) => e.data.seq));

    const turns: any = await (await fetch(`${base}/dashboard/api/calls/${sid}/turns`, { headers: auth })).json();
    expect(turns.turns.length).toBeGreaterThan(0);
    expect(turns.transcript_count).toBe(call.transcripts.length);
    expect(turns.override_count).toBe(0);
  });
});
