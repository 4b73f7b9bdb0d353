/**
 * 002's session-authenticated management routes (API keys, organizations, users and invitations) and the
 * phone-number routes, served for real: success and errors, under a session and under a Bearer key.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../helpers/backends.js';
import { startSwitchboard, until, type TestSwitchboard } from '../helpers/switchboard.js';

interface Session {
  cookie: string;
  csrf: string;
  user: any;
}

for (const backend of BACKENDS) {
  describe(`agents/tasks API: management routes [${backend.name}]`, { timeout: 120_000 }, () => {
    let t: TestSwitchboard;
    let owner: Session;
    beforeAll(async () => {
      t = await startSwitchboard(backend, { SHUTDOWN_GRACE_SECONDS: '1', PUBLIC_URL: 'https://sb.example.com' });
      owner = await signIn(t.key);
    }, 240_000);
    afterAll(() => t?.close(), 120_000);

    async function signIn(apiKey: string): Promise<Session> {
      const r = await t.sb.app.inject({ method: 'POST', url: '/auth/session', payload: { api_key: apiKey } });
      expect(r.statusCode, r.body).toBe(200);
      return { cookie: /sb_session=([^;]+)/.exec(String(r.headers['set-cookie']))![1], csrf: r.json().csrf_token, user: r.json().user };
    }
    /** A request under a session (with its CSRF token), or under a Bearer key when `as` is a string. */
    const api = (as: Session | string, method: string, url: string, payload?: unknown) =>
      t.sb.app.inject({
        method: method as any,
        url: '/api/v1' + url,
        headers: typeof as === 'string' ? { authorization: `Bearer ${as}` } : { cookie: `sb_session=${as.cookie}`, 'x-csrf-token': as.csrf },
        ...(payload !== undefined ? { payload: payload as any } : {}),
      });
    const expectError = (r: { statusCode: number; json(): any }, status: number, field?: string) => {
      expect(r.statusCode).toBe(status);
      const b = r.json();
      expect(b.success).toBe(false);
      expect(typeof b.error).toBe('string');
      expect(typeof b.meta.request_id).toBe('string');
      if (field) expect(b.details.field).toBe(field);
    };

    it('every management route refuses a Bearer key with 403 in 002’s envelope, and changes nothing', async () => {
      const routes: Array<[string, string, unknown?]> = [
        ['GET', '/api-keys'],
        ['POST', '/api-keys', { name: 'minted' }],
        ['DELETE', '/api-keys/00000000-0000-4000-8000-000000000000'],
        ['POST', '/api-keys/00000000-0000-4000-8000-000000000000/regenerate'],
        ['GET', '/organizations'],
        ['POST', '/organizations', { name: 'by key' }],
        ['PATCH', `/organizations/${t.orgId}`, { name: 'renamed by key' }],
        ['GET', '/users'],
        ['POST', '/users/invite', { email: 'x@example.com', role: 'member' }],
      ];
      for (const [method, url, body] of routes) {
        const r = await api(t.key, method, url, body);
        expectError(r, 403);
        expect(r.json().details.code).toBe('SB_ERR_FORBIDDEN');
      }
      expect((await t.sb.core.orgs.listKeys(t.orgId)).some((k) => k.name === 'minted')).toBe(false);
      expect(await t.sb.core.orgs.findByName('by key')).toBeUndefined();
      // No credentials at all: 401.
      expect((await t.sb.app.inject({ method: 'GET', url: '/api/v1/api-keys' })).statusCode).toBe(401);
    });

    it('API keys: create (shown once, works), list, regenerate (old refused, new works), revoke', async () => {
      const made = await api(owner, 'POST', '/api-keys', { name: 'CI' });
      expect(made.statusCode, made.body).toBe(201);
      const k = made.json().data;
      expect(k).toMatchObject({ name: 'CI', user_id: owner.user.id, revoked_at: null });
      expect(k.key).toMatch(/^sk_/);
      expect(k.prefix).toBe(k.key.slice(0, 10));
      // The new key works on the API.
      expect((await api(k.key, 'GET', '/agents')).statusCode).toBe(200);

      const list = (await api(owner, 'GET', '/api-keys')).json().data;
      const listed = list.find((x: any) => x.id === k.id);
      expect(listed).toMatchObject({ name: 'CI', prefix: k.prefix });
      expect(listed.key).toBeUndefined();
      expect(JSON.stringify(list)).not.toContain(k.key);

      const regen = await api(owner, 'POST', `/api-keys/${k.id}/regenerate`);
      expect(regen.statusCode, regen.body).toBe(201);
      const k2 = regen.json().data;
      expect(k2.id).not.toBe(k.id);
      expect(k2.name).toBe('CI');
      expect(k2.key).not.toBe(k.key);
      expect((await api(k.key, 'GET', '/agents')).statusCode).toBe(401);
      expect((await api(k2.key, 'GET', '/agents')).statusCode).toBe(200);
      // A revoked key cannot be regenerated.
      expectError(await api(owner, 'POST', `/api-keys/${k.id}/regenerate`), 400, 'id');

      const revoked = await api(owner, 'DELETE', `/api-keys/${k2.id}`);
      expect(revoked.statusCode).toBe(200);
      expect(revoked.json().data.revoked_at).toEqual(expect.any(String));
      expect((await api(k2.key, 'GET', '/agents')).statusCode).toBe(401);
    });

    it('API keys: bad input and unknown keys', async () => {
      expectError(await api(owner, 'POST', '/api-keys', {}), 400, 'name');
      expectError(await api(owner, 'POST', '/api-keys', { name: '' }), 400, 'name');
      expectError(await api(owner, 'POST', '/api-keys', { name: 42 }), 400, 'name');
      expectError(await api(owner, 'DELETE', '/api-keys/not-a-uuid'), 404);
      expectError(await api(owner, 'DELETE', '/api-keys/00000000-0000-4000-8000-000000000000'), 404);
      // Another organisation's key is not found here.
      const other = await t.sb.core.orgs.ensure('other-org');
      const foreign = (await t.sb.core.orgs.listKeys(other.org.id))[0] ?? { id: (await t.sb.core.orgs.createUserKey(other.org.id, (await t.sb.core.users.create(other.org.id, { email: null, name: 'O', role: 'owner' })).id, 'x')).view.id };
      expectError(await api(owner, 'DELETE', `/api-keys/${foreign.id}`), 404);
    });

    it('organizations: list, rename (name clash refused), create one owned by the user', async () => {
      const list = await api(owner, 'GET', '/organizations');
      expect(list.statusCode).toBe(200);
      expect(list.json().data[0]).toMatchObject({ id: t.orgId, name: 'acme', role: 'owner', current: true });

      await t.sb.core.orgs.ensure('taken-name');
      expectError(await api(owner, 'PATCH', `/organizations/${t.orgId}`, { name: 'taken-name' }), 400, 'name');
      expectError(await api(owner, 'PATCH', `/organizations/${t.orgId}`, {}), 400, 'name');
      expectError(await api(owner, 'PATCH', '/organizations/00000000-0000-4000-8000-000000000000', { name: 'x' }), 404);
      const renamed = await api(owner, 'PATCH', `/organizations/${t.orgId}`, { name: 'Acme Inc' });
      expect(renamed.statusCode, renamed.body).toBe(200);
      expect(renamed.json().data.name).toBe('Acme Inc');
      expect((await t.sb.app.inject({ method: 'GET', url: '/auth/session', headers: { cookie: `sb_session=${owner.cookie}` } })).json().org.name).toBe('Acme Inc');

      const created = await api(owner, 'POST', '/organizations', { name: 'Acme Labs' });
      expect(created.statusCode, created.body).toBe(201);
      const d = created.json().data;
      expect(d.organization).toMatchObject({ name: 'Acme Labs', role: 'owner' });
      expect(d.api_key).toMatch(/^sk_/);
      // Its key signs in there, as its owner.
      const there = await signIn(d.api_key);
      expect(there.user).toMatchObject({ role: 'owner', id: d.user.id });
      expect((await api(there, 'GET', '/users')).json().data.map((u: any) => u.id)).toEqual([d.user.id]);
      expectError(await api(owner, 'POST', '/organizations', { name: 'Acme Labs' }), 400, 'name');
      await t.sb.app.inject({ method: 'PATCH', url: `/api/v1/organizations/${t.orgId}`, headers: { cookie: `sb_session=${owner.cookie}`, 'x-csrf-token': owner.csrf }, payload: { name: 'acme' } });
    });

    it('invitations: invite, accept once (user made, key shown once, signed in), refused again; members may not invite', async () => {
      const inv = await api(owner, 'POST', '/users/invite', { email: 'Kim@Example.com', role: 'member' });
      expect(inv.statusCode, inv.body).toBe(201);
      const i = inv.json().data.invitation;
      expect(i).toMatchObject({ email: 'kim@example.com', role: 'member' });
      expect(i.accept_url).toBe(`https://sb.example.com/dashboard/#/invitations/${i.token}`);
      expect(new Date(i.expires_at).getTime()).toBeGreaterThan(Date.now() + 71 * 3600_000);

      const acc = await t.sb.app.inject({ method: 'POST', url: `/auth/invitations/${i.token}/accept`, payload: { name: 'Kim' } });
      expect(acc.statusCode, acc.body).toBe(200);
      const a = acc.json();
      expect(a.user).toMatchObject({ email: 'kim@example.com', name: 'Kim', role: 'member' });
      expect(a.org.id).toBe(t.orgId);
      expect(a.api_key).toMatch(/^sk_/);
      expect(String(acc.headers['set-cookie'])).toMatch(/sb_session=.+HttpOnly/i);
      expect((await api(a.api_key, 'GET', '/agents')).statusCode).toBe(200);

      const again = await t.sb.app.inject({ method: 'POST', url: `/auth/invitations/${i.token}/accept`, payload: { name: 'Kim again' } });
      expect(again.statusCode).toBe(409);
      expect(again.json().error.code).toBe('invitation_used');
      const unknown = await t.sb.app.inject({ method: 'POST', url: '/auth/invitations/inv_nope/accept', payload: { name: 'X' } });
      expect(unknown.statusCode).toBe(404);
      expect(unknown.json().error.code).toBe('not_found');

      const users = (await api(owner, 'GET', '/users')).json().data;
      expect(users.filter((u: any) => u.email === 'kim@example.com')).toHaveLength(1);

      // Kim, a member: sees only her own keys, may not invite or rename, may not revoke the owner's key.
      const kim: Session = { cookie: /sb_session=([^;]+)/.exec(String(acc.headers['set-cookie']))![1], csrf: a.csrf_token, user: a.user };
      const kimKeys = (await api(kim, 'GET', '/api-keys')).json().data;
      expect(kimKeys.every((k: any) => k.user_id === kim.user.id)).toBe(true);
      expectError(await api(kim, 'POST', '/users/invite', { email: 'x@example.com', role: 'member' }), 403);
      expectError(await api(kim, 'PATCH', `/organizations/${t.orgId}`, { name: 'kim co' }), 403);
      const ownerKey = (await api(owner, 'GET', '/api-keys')).json().data.find((k: any) => k.user_id === owner.user.id && !k.revoked_at);
      expectError(await api(kim, 'DELETE', `/api-keys/${ownerKey.id}`), 404);
    });

    it('invitations: bad input, an address already in the organization, and a third party cannot use a bad token', async () => {
      expectError(await api(owner, 'POST', '/users/invite', { email: 'not an email', role: 'member' }), 400, 'email');
      expectError(await api(owner, 'POST', '/users/invite', { email: 'a@example.com', role: 'owner' }), 400, 'role');
      expectError(await api(owner, 'POST', '/users/invite', { role: 'member' }), 400, 'email');
      expectError(await api(owner, 'POST', '/users/invite', { email: 'kim@example.com', role: 'admin' }), 400, 'email');
      const inv = (await api(owner, 'POST', '/users/invite', { email: 'lee@example.com' })).json().data.invitation;
      expect(inv.role).toBe('member');
      const noName = await t.sb.app.inject({ method: 'POST', url: `/auth/invitations/${inv.token}/accept`, payload: {} });
      expect(noName.statusCode).toBe(400);
      expect(noName.json().error.details.field).toBe('name');
      // The failed attempt did not spend the invitation.
      expect((await t.sb.app.inject({ method: 'POST', url: `/auth/invitations/${inv.token}/accept`, payload: { name: 'Lee' } })).statusCode).toBe(200);
    });

    it('phone numbers: add, list, assign and unassign, with a key or a session; errors name the field', async () => {
      const agent = (await api(t.key, 'POST', '/agents', { name: 'Front desk', system_prompt: 'Answer the phone.' })).json().data;
      const added = await api(owner, 'POST', '/phone-numbers', { phone_number: '+15550177' });
      expect(added.statusCode, added.body).toBe(201);
      const n = added.json().data;
      expect(n).toMatchObject({ phone_number: '+15550177', carrier: 'sim', agent_id: null, has_credentials: false });
      expect(n.credentials).toBeUndefined();
      const assigned = await api(t.key, 'PATCH', `/phone-numbers/${n.id}`, { agent_id: agent.id });
      expect(assigned.statusCode, assigned.body).toBe(200);
      expect(assigned.json().data).toMatchObject({ agent_id: agent.id, inbound_agent_id: agent.id, outbound_agent_id: agent.id });
      const list = (await api(owner, 'GET', '/phone-numbers')).json().data;
      expect(list.find((x: any) => x.id === n.id).agent_id).toBe(agent.id);
      const un = await api(owner, 'PATCH', `/phone-numbers/${n.id}`, { agent_id: null });
      expect(un.json().data.agent_id).toBeNull();

      expectError(await api(owner, 'POST', '/phone-numbers', {}), 400, 'phone_number');
      expectError(await api(owner, 'POST', '/phone-numbers', { phone_number: '12345' }), 400, 'number');
      expectError(await api(owner, 'POST', '/phone-numbers', { phone_number: '+15550177' }), 400, 'number');
      expectError(await api(owner, 'POST', '/phone-numbers', { phone_number: '+15550178', agent_id: '00000000-0000-4000-8000-000000000000' }), 400, 'inbound_agent_id');
      expectError(await api(owner, 'PATCH', '/phone-numbers/00000000-0000-4000-8000-000000000000', { agent_id: null }), 404);
      expect((await t.sb.core.numbers.list(t.orgId)).filter((x) => x.number === '+15550178')).toHaveLength(0);
    });
  });
}

describe('invitation expiry', { timeout: 120_000 }, () => {
  const backend = BACKENDS[0];
  let t: TestSwitchboard;
  beforeAll(async () => {
    t = await startSwitchboard(backend, { SHUTDOWN_GRACE_SECONDS: '1', INVITATION_TTL_HOURS: '0.001' });
  }, 240_000);
  afterAll(() => t?.close(), 120_000);

  it('an expired invitation is refused with 410 and makes no user', async () => {
    const s = await t.sb.app.inject({ method: 'POST', url: '/auth/session', payload: { api_key: t.key } });
    const cookie = /sb_session=([^;]+)/.exec(String(s.headers['set-cookie']))![1];
    const inv = await t.sb.app.inject({
      method: 'POST',
      url: '/api/v1/users/invite',
      headers: { cookie: `sb_session=${cookie}`, 'x-csrf-token': s.json().csrf_token },
      payload: { email: 'late@example.com', role: 'admin' },
    });
    expect(inv.statusCode, inv.body).toBe(201);
    const { token, expires_at } = inv.json().data.invitation;
    // 0.001 h = 3.6 s: wait until it has passed.
    await until(async () => Date.now() > new Date(expires_at).getTime() + 50, 30_000, 'expiry');
    const r = await t.sb.app.inject({ method: 'POST', url: `/auth/invitations/${token}/accept`, payload: { name: 'Late' } });
    expect(r.statusCode).toBe(410);
    expect(r.json().error.code).toBe('invitation_expired');
    expect(await t.sb.core.users.findByEmail(t.orgId, 'late@example.com')).toBeUndefined();
  });
});
