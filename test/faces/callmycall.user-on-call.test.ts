/**
 * User-on-call on the simulated network, through the CallMyCall API, exactly as 001's state model:
 * initiated → connected → ai_takeover → active → completed with `conference-status` right at each step, and
 * each other branch (failed, connected → completed, active → transferred, `drop_user: false` three-way room),
 * plus 001's errors (404 not a user-on-call session, 400 AI already active or not connected yet); the user's
 * leg speaking: a scripted user (`asUser`) and a person at the dashboard (`POST …/user-say`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/lib/clock.js';
import { hashKey } from '../../src/core/orgs.js';
import { BACKENDS } from '../helpers/backends.js';
import { advanceUntil, startSwitchboard, type TestSwitchboard } from '../helpers/switchboard.js';

const TARGET = '+15550100'; // Bella Cucina: a receptionist
const USER = '+15550160'; // a person who answers (the operator)
const TASK = 'Confirm the booking for Alex Smith, reference AB123, on Tuesday at seven.';

for (const backend of BACKENDS) {
  describe(`user-on-call on the simulated network [${backend.name}]`, () => {
    let t: TestSwitchboard;
    let headers: Record<string, string>;
    beforeAll(async () => {
      t = await startSwitchboard(backend, { SHUTDOWN_GRACE_SECONDS: '1' }, { clock: new VirtualClock(undefined, Infinity) });
      headers = { authorization: `Bearer ${t.key}` };
    }, 60_000);
    afterAll(() => t?.close());

    const req = (method: 'GET' | 'POST', url: string, payload?: unknown) => t.sb.app.inject({ method, url, headers, ...(payload !== undefined ? { payload: payload as any } : {}) });
    const start = async (extra: Record<string, unknown> = {}) => {
      const r = await req('POST', '/v1/start-call', { phone_number: TARGET, task: TASK, language: 'en', userOnCall: true, userPhone: USER, ...extra });
      expect(r.statusCode, r.body).toBe(200);
      return r.json() as { sid: string; userOnCall: boolean; sessionId: string; userCallSid: string };
    };
    const status = async (sid: string) => {
      const r = await req('GET', `/v1/calls/${sid}/conference-status`);
      expect(r.statusCode, r.body).toBe(200);
      return r.json();
    };
    const call = async (sid: string) => (await req('GET', `/v1/calls/${sid}`)).json();
    const reach = (sid: string, state: string) => advanceUntil(t.clock, async () => ((await status(sid)).state === state ? status(sid) : null), 500, 60_000);
    const ended = (sid: string) => advanceUntil(t.clock, async () => ((await call(sid)).ended_at ? call(sid) : null), 500, 60_000);
    const legs = (s: any) => Object.fromEntries(s.participants.map((p: any) => [p.role, p.status]));

    it('runs initiated → connected → ai_takeover → active → completed, conference-status right at each step', async () => {
      const s = await start();
      expect(s).toMatchObject({ userOnCall: true, sessionId: expect.any(String), userCallSid: expect.stringMatching(/^CA[0-9a-f]{32}$/) });
      expect(s.userCallSid).not.toBe(s.sid);

      const initiated = await status(s.sid);
      expect(initiated).toMatchObject({ callSid: s.sid, sessionId: s.sessionId, state: 'initiated', ai_active: false });
      expect(initiated.participants).toEqual([
        { role: 'user', callSid: s.userCallSid, status: 'queued', muted: false },
        { role: 'target', callSid: s.sid, status: 'queued', muted: false },
      ]);
      // Too early: the room is not connected yet.
      const early = await req('POST', `/v1/calls/${s.sid}/activate`, {});
      expect(early.statusCode).toBe(400);
      expect(early.json().error).toMatch(/not connected/);

      const connected = await reach(s.sid, 'connected');
      expect(legs(connected)).toEqual({ user: 'connected', target: 'connected' });
      expect(connected.ai_active).toBe(false);
      expect((await call(s.sid)).status).toBe('in-progress');
      // The agent says nothing while the user and the target talk.
      expect((await call(s.sid)).transcripts).toEqual([]);

      const act = await req('POST', `/v1/calls/${s.sid}/activate`, { task: TASK, additional_prompt: 'Be brief.' });
      expect(act.statusCode, act.body).toBe(200);
      expect(act.json()).toEqual({ success: true, ai_activated: true, user_dropped: true, message: 'Call redirected to AI bidirectional stream' });
      const active = await reach(s.sid, 'active');
      expect(active.ai_active).toBe(true);
      expect(legs(active)).toEqual({ user: 'completed', target: 'connected' });
      const again = await req('POST', `/v1/calls/${s.sid}/activate`, {});
      expect(again.statusCode).toBe(400);
      expect(again.json()).toEqual({ error: 'AI is already active for this call' });

      // The agent now talks with the target, and the call ends.
      await advanceUntil(t.clock, async () => (await call(s.sid)).transcripts.some((x: { role: string }) => x.role === 'assistant'), 500, 60_000);
      await req('POST', '/v1/end-call', { callSid: s.sid });
      const c = await ended(s.sid);
      expect(c.status).toBe('completed');
      const done = await status(s.sid);
      expect(done).toMatchObject({ state: 'completed', ai_active: false });
      expect(legs(done)).toEqual({ user: 'completed', target: 'completed' });

      // Every state was an event of the call, in order; the takeover is a supervisor override with who asked.
      const rows = await t.sb.store.db.selectFrom('call_events').select(['kind', 'data']).where('call_id', '=', c.id).where('kind', 'in', ['command', 'override']).orderBy('seq').execute();
      const states = rows.filter((r) => (r.data as any)?.command === 'user_on_call').map((r) => (r.data as any).value);
      expect(states).toEqual(['initiated', 'connected', 'ai_takeover', 'active', 'completed']);
      const override = rows.find((r) => r.kind === 'override');
      expect(override?.data).toEqual({ command: 'activate', value: 'drop_user', by: `key:${hashKey(t.key).slice(0, 12)}` });
      // The changes given at takeover are the call's brief now.
      const stored = await t.sb.core.calls.find(t.orgId, s.sid);
      expect(stored.request.additionalPrompt).toContain('Be brief.');
    }, 180_000);

    it('fails when the target or the user cannot be reached (initiated → failed)', async () => {
      const busy = await start({ phone_number: '+15550102' });
      const c = await ended(busy.sid);
      expect(c.status).toBe('busy');
      const s = await status(busy.sid);
      expect(s.state).toBe('failed');
      expect(legs(s)).toEqual({ user: 'canceled', target: 'busy' });

      const noUser = await start({ userPhone: '+15550103', ringTimeoutSeconds: undefined });
      const c2 = await ended(noUser.sid);
      expect(c2.status).toBe('failed');
      expect(c2.end_reason).toBe('user_not_reached');
      const s2 = await status(noUser.sid);
      expect(s2.state).toBe('failed');
      expect(legs(s2).user).toBe('no-answer');
    }, 180_000);

    it('ends connected → completed when the call ends before any takeover', async () => {
      const s = await start();
      await reach(s.sid, 'connected');
      await req('POST', '/v1/end-call', { callSid: s.sid });
      const c = await ended(s.sid);
      expect(c.status).toBe('completed');
      expect(c.transcripts).toEqual([]);
      const done = await status(s.sid);
      expect(done).toMatchObject({ state: 'completed', ai_active: false });
      expect(legs(done)).toEqual({ user: 'completed', target: 'completed' });
      // Over: nothing to activate any more.
      expect((await req('POST', `/v1/calls/${s.sid}/activate`, {})).statusCode).toBe(404);
    }, 120_000);

    it('goes active → transferred when the call is handed over', async () => {
      const s = await start();
      await reach(s.sid, 'connected');
      expect((await req('POST', `/v1/calls/${s.sid}/activate`, { transfer_number: '+15550161' })).statusCode).toBe(200);
      await reach(s.sid, 'active');
      const tr = await req('POST', `/v1/calls/${s.sid}/transfer`, { destination: '+15550161', warm: false });
      expect(tr.statusCode, tr.body).toBe(200);
      const c = await ended(s.sid);
      expect(c.outcome).toBe('transferred');
      expect((await status(s.sid)).state).toBe('transferred');
    }, 120_000);

    it('keeps the user in the room with drop_user: false (three-way), until drop-user', async () => {
      const s = await start();
      await reach(s.sid, 'connected');
      const act = await req('POST', `/v1/calls/${s.sid}/activate`, { drop_user: false });
      expect(act.json()).toMatchObject({ ai_activated: true, user_dropped: false });
      const active = await reach(s.sid, 'active');
      expect(legs(active)).toEqual({ user: 'connected', target: 'connected' });
      expect(active.ai_active).toBe(true);
      // The agent talks while the user is still there.
      await advanceUntil(t.clock, async () => (await call(s.sid)).transcripts.some((x: { role: string }) => x.role === 'assistant'), 500, 60_000);
      expect(legs(await status(s.sid)).user).toBe('connected');
      const drop = await req('POST', `/v1/calls/${s.sid}/drop-user`);
      expect(drop.statusCode, drop.body).toBe(200);
      expect(drop.json()).toEqual({ success: true, user_dropped: true, callSid: s.sid });
      expect(legs(await status(s.sid))).toEqual({ user: 'completed', target: 'connected' });
      await req('POST', '/v1/end-call', { callSid: s.sid });
      await ended(s.sid);
    }, 120_000);

    const userLines = async (sid: string) => (await call(sid)).transcripts.filter((x: { role: string }) => x.role === 'operator').map((x: { text: string }) => x.text);

    it('lets a scripted user talk to the target before the takeover, its lines in the transcript as the user\'s', async () => {
      const s = await start({ userPhone: '+15550162' }); // an operator with a script (scenarios/own-mobile.yaml)
      await reach(s.sid, 'connected');
      const script = [
        "Hi, this is Alex Smith's assistant, calling about the booking under reference AB123.",
        'My colleague will take it from here.',
      ];
      await advanceUntil(t.clock, async () => (await userLines(s.sid)).length === 2, 500, 60_000);
      expect(await userLines(s.sid)).toEqual(script);
      expect((await call(s.sid)).transcripts.every((x: { role: string }) => x.role === 'operator')).toBe(true);
      expect((await req('POST', `/v1/calls/${s.sid}/activate`, {})).statusCode).toBe(200);
      await advanceUntil(t.clock, async () => (await call(s.sid)).transcripts.some((x: { role: string }) => x.role === 'assistant'), 500, 60_000);
      // The user's lines came first; the agent's follow the takeover.
      const roles = (await call(s.sid)).transcripts.map((x: { role: string }) => x.role);
      expect(roles.slice(0, 2)).toEqual(['operator', 'operator']);
      await req('POST', '/v1/end-call', { callSid: s.sid });
      await ended(s.sid);
    }, 120_000);

    it('lets a person at the dashboard speak as the user while the user is in the room (user-say)', async () => {
      const s = await start();
      // Not in the room yet: nothing can be said as the user.
      const early = await req('POST', `/v1/calls/${s.sid}/user-say`, { text: 'Hello?' });
      expect(early.statusCode, early.body).toBe(400);
      expect(early.json().error).toMatch(/not in the room/);
      await reach(s.sid, 'connected');
      const said = await req('POST', `/v1/calls/${s.sid}/user-say`, { text: 'Hello, I am calling about a booking.' });
      expect(said.statusCode, said.body).toBe(200);
      expect(said.json()).toEqual({ success: true, callSid: s.sid });
      await advanceUntil(t.clock, async () => (await userLines(s.sid)).length === 1, 500, 60_000);
      expect(await userLines(s.sid)).toEqual(['Hello, I am calling about a booking.']);

      // Three-way: the user still speaks after the takeover, until dropped.
      expect((await req('POST', `/v1/calls/${s.sid}/activate`, { drop_user: false })).statusCode).toBe(200);
      await reach(s.sid, 'active');
      expect((await req('POST', `/v1/calls/${s.sid}/user-say`, { text: 'I will stay on the line.' })).statusCode).toBe(200);
      await advanceUntil(t.clock, async () => (await userLines(s.sid)).length === 2, 500, 60_000);
      expect((await req('POST', `/v1/calls/${s.sid}/drop-user`)).statusCode).toBe(200);
      const gone = await req('POST', `/v1/calls/${s.sid}/user-say`, { text: 'Still here?' });
      expect(gone.statusCode).toBe(400);

      // Bad input names the field; an ended call and a call without a user answer 404.
      const empty = await req('POST', `/v1/calls/${s.sid}/user-say`, { text: '' });
      expect(empty.statusCode).toBe(400);
      expect(empty.json().error).toMatch(/text/);
      await req('POST', '/v1/end-call', { callSid: s.sid });
      await ended(s.sid);
      const over = await req('POST', `/v1/calls/${s.sid}/user-say`, { text: 'Bye.' });
      expect(over.statusCode).toBe(404);
      expect(over.json()).toEqual({ error: 'Call has already ended' });
      expect(await userLines(s.sid)).toEqual(['Hello, I am calling about a booking.', 'I will stay on the line.']);
      const plain = (await req('POST', '/v1/start-call', { phone_number: '+15550103', task: 'x', language: 'en' })).json();
      const notSession = await req('POST', `/v1/calls/${plain.sid}/user-say`, { text: 'Hi.' });
      expect(notSession.statusCode).toBe(404);
      expect(notSession.json()).toEqual({ error: 'Call not found or not a userOnCall session' });
      await req('POST', '/v1/end-call', { callSid: plain.sid });
    }, 120_000);

    it('answers 404 for a call that is not a user-on-call session, 400 for bad input', async () => {
      const plain = (await req('POST', '/v1/start-call', { phone_number: '+15550103', task: 'x', language: 'en' })).json();
      for (const [method, path] of [
        ['GET', 'conference-status'],
        ['POST', 'activate'],
        ['POST', 'drop-user'],
      ] as const) {
        for (const sid of [plain.sid, 'CA' + '0'.repeat(32)]) {
          const r = await req(method, `/v1/calls/${sid}/${path}`, method === 'POST' ? {} : undefined);
          expect(r.statusCode, `${path} ${sid}`).toBe(404);
          expect(r.json()).toEqual({ error: 'Call not found or not a userOnCall session' });
        }
      }
      await req('POST', '/v1/end-call', { callSid: plain.sid });
      const noPhone = await req('POST', '/v1/start-call', { phone_number: TARGET, task: TASK, monitored: true });
      expect(noPhone.statusCode).toBe(400);
      expect(noPhone.json().field).toBe('userPhone');
      const offNetwork = await req('POST', '/v1/start-call', { phone_number: TARGET, task: TASK, monitor: true, user_phone: '+15557770000' });
      expect(offNetwork.statusCode).toBe(400);
      expect(offNetwork.json().field).toBe('userPhone');
      const s = await start();
      const bad = await req('POST', `/v1/calls/${s.sid}/activate`, { drop_user: 'yes' });
      expect(bad.statusCode).toBe(400);
      expect(bad.json().error).toMatch(/drop_user/);
      await req('POST', '/v1/end-call', { callSid: s.sid });
      await ended(s.sid);
    }, 120_000);
  });
}
