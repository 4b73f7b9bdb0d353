import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../helpers/backends.js';
import { startSwitchboard, until, type TestSwitchboard } from '../helpers/switchboard.js';

for (const backend of BACKENDS) {
  describe(`POST /v1/start-call and GET /v1/calls/:callId [${backend.name}]`, () => {
    let t: TestSwitchboard;
    let auth: Record<string, string>;
    beforeAll(async () => {
      t = await startSwitchboard(backend, { SHUTDOWN_GRACE_SECONDS: '1' });
      auth = { authorization: `Bearer ${t.key}` };
    });
    afterAll(() => t.close());

    const post = (body: unknown, headers: Record<string, string> = {}) =>
      t.sb.app.inject({ method: 'POST', url: '/v1/start-call', headers: { ...auth, ...headers }, payload: body as any });
    const get = (id: string, key = t.key) => t.sb.app.inject({ method: 'GET', url: `/v1/calls/${id}`, headers: { authorization: `Bearer ${key}` } });
    const countCalls = async () => Number((await t.sb.store.db.selectFrom('calls').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

    it('refuses a request without a key or with a wrong key (401, 001 message)', async () => {
      const none = await t.sb.app.inject({ method: 'POST', url: '/v1/start-call', payload: { phone_number: '+15550100', task: 'x' } });
      expect(none.statusCode).toBe(401);
      expect(none.json()).toEqual({ error: 'Authorization header with API key is required' });
      const wrong = await post({ phone_number: '+15550100', task: 'x' }, { authorization: 'Bearer sk_wrong' });
      expect(wrong.statusCode).toBe(401);
      expect(wrong.json().error).toBe('Invalid API key');
    });

    it('places a call to the receptionist: {success, sid}, then the call completes with its goal reached', async () => {
      const r = await post({ phone_number: '+15550100', task: 'Confirm my booking for Tuesday at 7 pm, booking reference AB123', language: 'en', persona: { name: 'Alex Smith' } });
      expect(r.statusCode).toBe(200);
      const body = r.json();
      expect(body.success).toBe(true);
      expect(body.sid).toMatch(/^CA[0-9a-f]{32}$/);

      const done = await until(async () => {
        const c = (await get(body.sid)).json();
        return c.status === 'completed' ? c : null;
      }, 20_000, 'call completed');
      // 000's flat fields and 001's nested ones, both.
      expect(done).toMatchObject({ sid: body.sid, direction: 'outbound-api', to: '+15550100', status: 'completed', answered_by: 'human', brain: 'rules' });
      expect(done.call).toMatchObject({ call_id: body.sid, status: 'completed', to: '+15550100' });
      expect(done.summary.goal_completed).toBe(true);
      expect(done.transcripts.length).toBeGreaterThan(2);
      expect(done.transcripts[0]).toEqual({ role: expect.stringMatching(/assistant|user/), text: expect.any(String), seq: expect.any(Number) });
      expect(done.transcripts.some((s: any) => s.role === 'assistant')).toBe(true);
      expect(done.transcripts.some((s: any) => s.role === 'user')).toBe(true);
      // The same call by its UUID.
      const byId = await get(done.id);
      expect(byId.json().sid).toBe(body.sid);
    });

    it('names the field of a bad request and stores nothing', async () => {
      const before = await countCalls();
      const cases: Array<[unknown, number, RegExp]> = [
        [{ task: 'x' }, 400, /^Missing phone_number$/],
        [{ phone_number: '0701234', task: 'x' }, 400, /phone_number.*E\.164/],
        [{ phone_number: '+15550100' }, 400, /^Missing task$/],
        [{ phone_number: '+15550100', task: 'x', max_duration: '60' }, 400, /max_duration/],
        [{ phone_number: '+15550100', task: 'x', tts_provider: 'polly' }, 400, /tts_provider/],
        [{ phone_number: '+15550100', task: 'x', userOnCall: true }, 400, /userPhone/],
        [{ phone_number: '+15550100', task: 'x', monitored: true }, 400, /userPhone/],
        [{ phone_number: '+15550100', task: 'x', language: 'klingon' }, 400, /language/],
        [{ phone_number: '+15550100', task: 'x', webhook: 'https://example.com/h', webhook_events: ['call_exploded'] }, 400, /webhook_events/],
        [{ phone_number: '+15550100', task: 'x', share_policy: { name_voice: 'yes' } }, 400, /share_policy\.name_voice/],
        [{ phone_number: '+15550100', task: 'x', from_number: '+15551234567' }, 400, /^from_number is not a verified caller ID$/],
        [{ phone_number: '+15559999', task: 'x' }, 400, /simulated network/],
      ];
      for (const [payload, status, message] of cases) {
        const r = await post(payload);
        expect(r.statusCode, JSON.stringify(payload)).toBe(status);
        expect(r.json().error, JSON.stringify(payload)).toMatch(message);
      }
      expect(await countCalls()).toBe(before);
    });

    it('treats a retry with the same Idempotency-Key as the first call, and refuses the key with another body', async () => {
      const body = { phone_number: '+15550102', task: 'Ask about opening hours' };
      const a = await post(body, { 'idempotency-key': 'retry-1' });
      const b = await post(body, { 'idempotency-key': 'retry-1' });
      expect(a.statusCode).toBe(200);
      expect(b.json().sid).toBe(a.json().sid);
      const c = await post({ ...body, task: 'Something else' }, { 'idempotency-key': 'retry-1' });
      expect(c.statusCode).toBe(400);
      expect(c.json().error).toMatch(/different request/);
      const rows = await t.sb.store.db.selectFrom('calls').select('id').where('sid', '=', a.json().sid).execute();
      expect(rows).toHaveLength(1);
    });

    it('dedupes by metadata.client_request_id too', async () => {
      const body = { phone_number: '+15550102', task: 'Ask about opening hours', metadata: { client_request_id: 'req_123' } };
      const a = await post(body);
      const b = await post(body);
      expect(b.json().sid).toBe(a.json().sid);
      const c = await post({ ...body, task: 'Other' });
      expect(c.statusCode).toBe(400);
    });

    // 402 (billing on, credits short) is in callmycall.credits.test.ts.

    it("never shows one organisation another's calls (404)", async () => {
      const r = await post({ phone_number: '+15550102', task: 'x' });
      const { org } = await t.sb.core.orgs.ensure('other-org', { credits: 10 });
      const otherKey = await t.sb.core.orgs.createKey(org.id);
      const seen = await get(r.json().sid, otherKey);
      expect(seen.statusCode).toBe(404);
      expect(seen.json()).toEqual({ error: 'Call not found' });
      const end = await t.sb.app.inject({ method: 'POST', url: '/v1/end-call', headers: { authorization: `Bearer ${otherKey}` }, payload: { callSid: r.json().sid } });
      expect(end.statusCode).toBe(404);
    });
  });
}
