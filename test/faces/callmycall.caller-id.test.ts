import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { BACKENDS } from '../helpers/backends.js';
import { startSwitchboard, until, type TestSwitchboard } from '../helpers/switchboard.js';

const OWN_MOBILE = '+15550160'; // scenario: types the code
const STRANGER = '+15550161'; // scenario: ignores the verification call

for (const backend of BACKENDS) {
  describe(`caller-ID verification on /v1 [${backend.name}]`, () => {
    let t: TestSwitchboard;
    let otherKey: string;
    beforeAll(async () => {
      t = await startSwitchboard(backend, { SHUTDOWN_GRACE_SECONDS: '1' });
      const { org } = await t.sb.core.orgs.ensure('globex', { credits: 1000 });
      otherKey = await t.sb.core.orgs.createKey(org.id);
    });
    afterAll(async () => {
      await t.sb.core.callerIds.drain();
      await t.close();
    });

    const req = (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: unknown, key = t.key) =>
      t.sb.app.inject({ method, url, headers: { authorization: `Bearer ${key}` }, ...(payload !== undefined ? { payload: payload as any } : {}) });
    const startCall = (from: string, key = t.key) => req('POST', '/v1/start-call', { phone_number: '+15550102', task: 'Ask about opening hours', from_number: from }, key);
    const settled = (id: string, key = t.key) =>
      until(async () => {
        const b = (await req('GET', `/v1/verification-status/${id}`, undefined, key)).json();
        return b.status !== 'pending' ? b : null;
      }, 15_000, 'verification settled');

    it('verifies a number end to end (pending → verified); then it is accepted as from_number, and refused again after DELETE', async () => {
      const before = await startCall(OWN_MOBILE);
      expect(before.statusCode).toBe(400);
      expect(before.json()).toMatchObject({ error: 'from_number is not a verified caller ID' });

      const r = await req('POST', '/v1/verify-caller-id', { phone_number: OWN_MOBILE });
      expect(r.statusCode).toBe(200);
      const body = r.json();
      expect(body).toMatchObject({ success: true, status: 'pending', verification_id: expect.any(String), validation_code: expect.stringMatching(/^\d{6}$/) });
      const row = await t.sb.store.db.selectFrom('caller_id_verifications').selectAll().where('id', '=', body.verification_id).executeTakeFirstOrThrow();
      expect(row.validation_code).toBe(body.validation_code);

      const done = await settled(body.verification_id);
      expect(done).toMatchObject({ verification_id: body.verification_id, phone_number: OWN_MOBILE, status: 'verified' });

      const list = (await req('GET', '/v1/verified-caller-ids')).json();
      expect(list.caller_ids).toEqual([{ phone_number: OWN_MOBILE, verified_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) }]);

      const accepted = await startCall(OWN_MOBILE);
      expect(accepted.statusCode, accepted.body).toBe(200);
      expect(accepted.json().success).toBe(true);

      // A literal + in the path (001's example).
      const del = await req('DELETE', `/v1/verified-caller-ids/${OWN_MOBILE}`);
      expect(del.statusCode).toBe(200);
      expect(del.json()).toEqual({ success: true });
      expect((await req('GET', '/v1/verified-caller-ids')).json()).toEqual({ caller_ids: [] });
      const after = await startCall(OWN_MOBILE);
      expect(after.statusCode).toBe(400);
      expect(after.json()).toMatchObject({ error: 'from_number is not a verified caller ID' });
      const again = await req('DELETE', `/v1/verified-caller-ids/${OWN_MOBILE}`);
      expect(again.statusCode).toBe(404);
      expect(again.json()).toEqual({ error: expect.any(String) });
    });

    it('accepts %2B for the + in DELETE', async () => {
      const body = (await req('POST', '/v1/verify-caller-id', { phone_number: OWN_MOBILE })).json();
      expect((await settled(body.verification_id)).status).toBe('verified');
      const del = await req('DELETE', `/v1/verified-caller-ids/${encodeURIComponent(OWN_MOBILE)}`);
      expect(del.statusCode).toBe(200);
      expect((await req('GET', '/v1/verified-caller-ids')).json()).toEqual({ caller_ids: [] });
    });

    it('ends failed when the scenario ignores the call, or no one answers the number', async () => {
      for (const n of [STRANGER, '+15550102', '+15559999']) {
        const body = (await req('POST', '/v1/verify-caller-id', { phone_number: n })).json();
        expect(body.status).toBe('pending');
        expect(await settled(body.verification_id), n).toMatchObject({ phone_number: n, status: 'failed' });
      }
      expect((await req('GET', '/v1/verified-caller-ids')).json()).toEqual({ caller_ids: [] });
      expect((await startCall(STRANGER)).statusCode).toBe(400);
    });

    it('a verification left pending by a restart (no node waits for it) reads failed once it is too old', async () => {
      // As a node that died mid-call leaves them: pending rows nobody is waiting for.
      const row = (minutesAgo: number) => ({
        id: randomUUID(),
        org_id: t.orgId,
        phone_number: '+15550177',
        status: 'pending',
        validation_code: '123456',
        carrier: 'sim',
        created_at: new Date(Date.now() - minutesAgo * 60_000),
        finished_at: null,
      });
      const old = row(20);
      const recent = row(5);
      await t.sb.store.db.insertInto('caller_id_verifications').values([old, recent]).execute();
      const read = async (id: string) => (await req('GET', `/v1/verification-status/${id}`)).json();
      expect(await read(old.id)).toMatchObject({ verification_id: old.id, status: 'failed' });
      expect(await read(old.id)).toMatchObject({ status: 'failed' });
      expect(await read(recent.id)).toMatchObject({ status: 'pending' });
      const stored = await t.sb.store.db.selectFrom('caller_id_verifications').select(['status', 'finished_at']).where('id', '=', old.id).executeTakeFirstOrThrow();
      expect(stored.status).toBe('failed');
      expect(stored.finished_at).not.toBeNull();
      expect((await startCall('+15550177')).statusCode).toBe(400);
    });

    it('names the field of a bad request', async () => {
      const cases: Array<[unknown, RegExp]> = [
        [{}, /^Missing phone_number$/],
        [{ phone_number: '0701234' }, /phone_number.*E\.164/],
        [{ phone_number: 46701234567 }, /phone_number/],
      ];
      for (const [payload, message] of cases) {
        const r = await req('POST', '/v1/verify-caller-id', payload);
        expect(r.statusCode, JSON.stringify(payload)).toBe(400);
        expect(r.json().error, JSON.stringify(payload)).toMatch(message);
      }
      const badDelete = await req('DELETE', '/v1/verified-caller-ids/0701234');
      expect(badDelete.statusCode).toBe(400);
      expect(badDelete.json().error).toMatch(/phone_number/);
      for (const id of ['nope', '00000000-0000-4000-8000-000000000000']) {
        const r = await req('GET', `/v1/verification-status/${id}`);
        expect(r.statusCode).toBe(404);
        expect(r.json()).toEqual({ error: expect.any(String) });
      }
      const none = await t.sb.app.inject({ method: 'GET', url: '/v1/verified-caller-ids' });
      expect(none.statusCode).toBe(401);
    });

    it("keeps organisations apart: another organisation's verification and caller IDs are not found", async () => {
      const body = (await req('POST', '/v1/verify-caller-id', { phone_number: OWN_MOBILE })).json();
      expect((await settled(body.verification_id)).status).toBe('verified');

      const status = await req('GET', `/v1/verification-status/${body.verification_id}`, undefined, otherKey);
      expect(status.statusCode).toBe(404);
      expect((await req('GET', '/v1/verified-caller-ids', undefined, otherKey)).json()).toEqual({ caller_ids: [] });
      expect((await req('DELETE', `/v1/verified-caller-ids/${OWN_MOBILE}`, undefined, otherKey)).statusCode).toBe(404);
      const refused = await startCall(OWN_MOBILE, otherKey);
      expect(refused.statusCode).toBe(400);
      expect(refused.json()).toMatchObject({ error: 'from_number is not a verified caller ID' });
      // Still the first organisation's.
      expect((await req('GET', '/v1/verified-caller-ids')).json().caller_ids).toHaveLength(1);
      expect((await startCall(OWN_MOBILE)).statusCode).toBe(200);
    });
  });
}
