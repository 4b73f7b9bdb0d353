import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../helpers/backends.js';
import { startSwitchboard, type TestSwitchboard } from '../helpers/switchboard.js';

interface SseEvent {
  id?: string;
  event: string;
  data: any;
}

/** Reads a whole SSE response (until the server closes it) into events. */
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

for (const backend of BACKENDS) {
  describe(`GET /v1/calls/:callId/transcripts/stream [${backend.name}]`, () => {
    let t: TestSwitchboard;
    let base: string;
    beforeAll(async () => {
      t = await startSwitchboard(backend, { SHUTDOWN_GRACE_SECONDS: '1', HOST: '127.0.0.1' });
      base = await t.sb.listen();
    });
    afterAll(() => t.close());

    async function start(to: string, task: string) {
      const r = await fetch(`${base}/v1/start-call`, {
        method: 'POST',
        headers: { authorization: `Bearer ${t.key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ phone_number: to, task, language: 'en', persona: { name: 'Alex Smith' } }),
      });
      return ((await r.json()) as any).sid as string;
    }

    it('streams the whole conversation as `added` events with id = seq, then `ended`, then closes', async () => {
      const sid = await start('+15550100', 'Confirm my booking for Tuesday at 7 pm, booking reference AB123');
      const { status, events } = await readSse(`${base}/v1/calls/${sid}/transcripts/stream?api_key=${t.key}`);
      expect(status).toBe(200);
      const added = events.filter((e) => e.event === 'added');
      expect(added.length).toBeGreaterThan(2);
      for (const e of added) {
        expect(Object.keys(e.data).sort()).toEqual(['role', 'seq', 'text']);
        expect(e.id).toBe(String(e.data.seq));
      }
      const seqs = added.map((e) => e.data.seq);
      expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
      expect(new Set(seqs).size).toBe(seqs.length);
      expect(events[events.length - 1]).toMatchObject({ event: 'ended', data: { status: 'completed' } });
      // It matches what GET /v1/calls returns.
      const call: any = await (await fetch(`${base}/v1/calls/${sid}`, { headers: { authorization: `Bearer ${t.key}` } })).json();
      expect(added.map((e) => e.data)).toEqual(call.transcripts);
    });

    it('resumes after Last-Event-ID with only the later segments', async () => {
      const sid = await start('+15550100', 'Confirm my booking for Tuesday at 7 pm, booking reference AB123');
      const all = (await readSse(`${base}/v1/calls/${sid}/transcripts/stream`, { authorization: `Bearer ${t.key}` })).events.filter((e) => e.event === 'added');
      const cut = all[1].data.seq;
      const rest = (await readSse(`${base}/v1/calls/${sid}/transcripts/stream`, { authorization: `Bearer ${t.key}`, 'last-event-id': String(cut) })).events;
      expect(rest.filter((e) => e.event === 'added').map((e) => e.data.seq)).toEqual(all.slice(2).map((e) => e.data.seq));
      expect(rest[rest.length - 1].event).toBe('ended');
    });

    it('streams the keys the agent presses as `keys` events, with digits the share policy protects masked', async () => {
      const r = await fetch(`${base}/v1/start-call`, {
        method: 'POST',
        headers: { authorization: `Bearer ${t.key}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          phone_number: '+15550105',
          task: 'Check whether my prescription is ready to pick up',
          language: 'en',
          persona: { name: 'Anna Berg', personal_security_number: '19900101-0017' },
          share_policy: { pnr_voice: false, pnr_dtmf: true },
        }),
      });
      const sid = ((await r.json()) as any).sid as string;
      const { events } = await readSse(`${base}/v1/calls/${sid}/transcripts/stream?api_key=${t.key}`);
      const keys = events.filter((e) => e.event === 'keys');
      // The menu choice is shown; the identity number typed after it only as masked digits.
      expect(keys.map((e) => [e.data.role, e.data.keys, e.data.field])).toEqual([
        ['assistant', '1', undefined],
        ['assistant', '••••••••••••', 'personal_security_number'],
      ]);
      for (const e of keys) expect(e.id).toBe(String(e.data.seq));
      expect(JSON.stringify(events)).not.toMatch(/199001010017|9001010017/);
      // GET /v1/calls/:id lists the same presses.
      const call: any = await (await fetch(`${base}/v1/calls/${sid}`, { headers: { authorization: `Bearer ${t.key}` } })).json();
      expect(call.keys.map((k: any) => k.keys)).toEqual(['1', '••••••••••••']);
      expect(call.keys.map((k: any) => k.seq)).toEqual(keys.map((e) => e.data.seq));
    });

    it('needs a key (401) and the call of the same organisation (404)', async () => {
      const sid = await start('+15550102', 'x');
      expect((await readSse(`${base}/v1/calls/${sid}/transcripts/stream`)).status).toBe(401);
      expect((await readSse(`${base}/v1/calls/CA${'1'.repeat(32)}/transcripts/stream?api_key=${t.key}`)).status).toBe(404);
    });
  });
}
