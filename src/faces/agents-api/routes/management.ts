/**
 * 002's session-authenticated management routes ("Session vs API Key Authentication"): API keys (list,
 * create, revoke, regenerate), organisations (list, create, rename) and users (list, invite). They answer
 * a dashboard session only; a Bearer key gets 403 (a leaked key must not mint more keys or invite people).
 * Members see and manage their own keys; owners and admins all of the organisation's, and only they may
 * invite or rename. Docs: docs/dashboard.md "Sessions and sign-in".
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { FaceOptions } from '../../shared/options.js';
import { ok } from '../envelope.js';
import { IdParams } from '../schemas.js';
import { SwitchboardError, canManage, notFound, userView, type ApiKeyView, type SessionAuth } from '../../../core/index.js';

const Name = Type.String({ minLength: 1, maxLength: 200 });

/** The routes and the statuses they add, for `/openapi.json` (server.ts FACE_ERRORS). */
export const MANAGEMENT_ERRORS: Record<string, number[]> = {
  'GET /api-keys': [403],
  'POST /api-keys': [403],
  'DELETE /api-keys/:id': [403],
  'POST /api-keys/:id/regenerate': [403],
  'GET /organizations': [403],
  'POST /organizations': [403],
  'PATCH /organizations/:id': [403],
  'GET /users': [403],
  'POST /users/invite': [403],
};

/** The session of a request, or 403: these routes are not for API keys. */
function sessionOf(req: FastifyRequest): SessionAuth {
  if (req.auth?.kind !== 'session') {
    throw new SwitchboardError('SB_ERR_FORBIDDEN', 'This endpoint requires a dashboard session (sign in with POST /auth/session); API keys cannot use it');
  }
  return req.auth.session;
}

function mustManage(s: SessionAuth): void {
  if (!canManage(s.user.role)) throw new SwitchboardError('SB_ERR_FORBIDDEN', 'Only an owner or admin of the organization may do this', { role: s.user.role });
}

function keyView(k: ApiKeyView) {
  return {
    id: k.id,
    name: k.name,
    prefix: k.prefix,
    user_id: k.user_id,
    created_at: new Date(k.created_at).toISOString(),
    revoked_at: k.revoked_at ? new Date(k.revoked_at).toISOString() : null,
  };
}

const tags = ['Agents/tasks: management (session)'];

export const managementRoutes: FastifyPluginAsyncTypebox<FaceOptions> = async (app, { core }) => {
  /** A key the session may manage: a member's own only (another's is "not found", as another org's). */
  const manageableKey = async (s: SessionAuth, id: string) => {
    const k = await core.orgs.getKey(s.org.id, id);
    if (!canManage(s.user.role) && k.user_id !== s.user.id) throw notFound('API key');
    return k;
  };

  // A key is refused before the body is read: a leaked key learns nothing from validation errors.
  app.addHook('preValidation', async (req) => {
    sessionOf(req);
  });

  app.get('/api-keys', { schema: { summary: 'List API keys (session)', tags } }, async (req) => {
    const s = sessionOf(req);
    const keys = await core.orgs.listKeys(s.org.id, canManage(s.user.role) ? undefined : s.user.id);
    return ok(req, keys.map(keyView));
  });

  app.post('/api-keys', { schema: { summary: 'Create an API key, shown once (session)', tags, body: Type.Object({ name: Name }) } }, async (req, reply) => {
    const s = sessionOf(req);
    const { key, view } = await core.orgs.createUserKey(s.org.id, s.user.id, req.body.name.trim());
    void reply.status(201);
    return ok(req, { ...keyView(view), key });
  });

  app.delete('/api-keys/:id', { schema: { summary: 'Revoke an API key (session)', tags, params: IdParams } }, async (req) => {
    const s = sessionOf(req);
    await manageableKey(s, req.params.id);
    return ok(req, keyView(await core.orgs.revokeKeyById(s.org.id, req.params.id)));
  });

  app.post('/api-keys/:id/regenerate', { schema: { summary: 'Revoke an API key and make its replacement, shown once (session)', tags, params: IdParams } }, async (req, reply) => {
    const s = sessionOf(req);
    await manageableKey(s, req.params.id);
    const { key, view } = await core.orgs.regenerateKey(s.org.id, req.params.id);
    void reply.status(201);
    return ok(req, { ...keyView(view), key });
  });

  app.get('/organizations', { schema: { summary: 'Organizations of the signed-in user (session)', tags } }, async (req) => {
    const s = sessionOf(req);
    const orgs = await core.sessions.orgsOf(s.user);
    return ok(
      req,
      orgs.map((o) => ({ id: o.id, name: o.name, role: o.role, current: o.id === s.org.id, created_at: new Date(o.created_at).toISOString() })),
    );
  });

  app.post('/organizations', { schema: { summary: 'Create an organization, owned by the signed-in user (session)', tags, body: Type.Object({ name: Name }) } }, async (req, reply) => {
    const s = sessionOf(req);
    const name = req.body.name.trim();
    // The person owns the new organisation as a user of it; its first key (shown once) signs in there.
    const made = await core.users.createOrgFor(s.user, name);
    void reply.status(201);
    return ok(req, {
      organization: { id: made.org.id, name: made.org.name, role: 'owner', current: false, created_at: new Date(made.org.created_at).toISOString() },
      user: userView(made.user),
      api_key: made.key,
    });
  });

  app.patch(
    '/organizations/:id',
    { schema: { summary: 'Rename the current organization (session, owner or admin)', tags, params: IdParams, body: Type.Object({ name: Name }) } },
    async (req) => {
      const s = sessionOf(req);
      // Another organisation (even one of the same person's) is changed from a session there.
      if (req.params.id !== s.org.id) throw notFound('Organization');
      mustManage(s);
      const o = await core.orgs.rename(s.org.id, req.body.name.trim());
      return ok(req, { id: o.id, name: o.name, role: s.user.role, current: true, created_at: new Date(o.created_at).toISOString() });
    },
  );

  app.get('/users', { schema: { summary: 'Users of the organization (session)', tags } }, async (req) => {
    const s = sessionOf(req);
    return ok(req, (await core.users.list(s.org.id)).map(userView));
  });

  app.post(
    '/users/invite',
    {
      schema: {
        summary: 'Invite a person by e-mail; the token (in accept_url) is shown once (session, owner or admin)',
        tags,
        body: Type.Object({ email: Type.String({ minLength: 1, maxLength: 254 }), role: Type.Optional(Type.String({ minLength: 1, maxLength: 20 })) }),
      },
    },
    async (req, reply) => {
      const s = sessionOf(req);
      mustManage(s);
      const { invitation, token } = await core.invitations.create(s.org.id, s.user.id, req.body.email, req.body.role ?? 'member');
      void reply.status(201);
      return ok(req, {
        invitation: {
          id: invitation.id,
          email: invitation.email,
          role: invitation.role,
          token,
          accept_url: `${core.config.publicUrl}/dashboard/#/invitations/${encodeURIComponent(token)}`,
          expires_at: new Date(invitation.expires_at).toISOString(),
        },
      });
    },
  );
};
