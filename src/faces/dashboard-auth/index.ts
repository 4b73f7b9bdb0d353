/**
 * Signing in to the dashboard (issue 12 §4, docs/dashboard.md "Sessions and sign-in"): an API key is
 * exchanged for the `sb_session` cookie (HttpOnly, SameSite=Strict, Path=/, Secure over https) and a CSRF
 * token the page sends back as `X-CSRF-Token` on every change; accepting an invitation makes the user and
 * signs them in. The cookie then authenticates every face (faces/shared/plumbing.ts `keyAuth`).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { FaceOptions } from '../shared/options.js';
import { SwitchboardError, type SessionAuth } from '../../core/index.js';
import { SESSION_COOKIE, hasCsrfToken, sessionCookie } from '../shared/auth.js';
import { AuthErrorBody, dashboardAuthErrorHandler } from './errors.js';

const SessionBody = Type.Object({
  user: Type.Object({ id: Type.String(), email: Type.Union([Type.String(), Type.Null()]), name: Type.String(), role: Type.String() }),
  org: Type.Object({ id: Type.String(), name: Type.String() }),
  csrf_token: Type.String(),
  expires_at: Type.String({ description: 'When the session ends (SESSION_TTL_HOURS after sign-in)' }),
});

const Str = Type.String({ minLength: 1, maxLength: 200 });

function sessionBody(a: SessionAuth) {
  return {
    user: { id: a.user.id, email: a.user.email, name: a.user.name, role: a.user.role },
    org: { id: a.org.id, name: a.org.name },
    csrf_token: a.csrfToken,
    expires_at: a.expiresAt.toISOString(),
  };
}

function setCookie(req: FastifyRequest, reply: FastifyReply, token: string, a: SessionAuth): void {
  reply.setCookie(SESSION_COOKIE, token, {
    httpOnly: true,
    sameSite: 'strict',
    path: '/',
    // Behind a TLS-terminating proxy `protocol` follows X-Forwarded-Proto (trustProxy in production).
    secure: req.protocol === 'https',
    expires: a.expiresAt,
  });
}

function clearCookie(req: FastifyRequest, reply: FastifyReply): void {
  reply.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: 'strict', path: '/', secure: req.protocol === 'https' });
}

const unauthorized = (message: string) => new SwitchboardError('SB_ERR_UNAUTHENTICATED', message);

export const dashboardAuth: FastifyPluginAsyncTypebox<FaceOptions> = async (app, { core }) => {
  app.setErrorHandler(dashboardAuthErrorHandler);
  // Guessing keys or invitation tokens is limited per client address (the shared limiter's budget).
  const limited = { onRequest: app.rateLimit() };

  app.post(
    '/session',
    {
      ...limited,
      schema: {
        summary: 'Sign in to the dashboard with an API key (sets the sb_session cookie)',
        tags: ['Dashboard'],
        security: [],
        body: Type.Object({ api_key: Str }),
        response: { 200: SessionBody, 400: AuthErrorBody, 401: AuthErrorBody, 429: AuthErrorBody },
      },
    },
    async (req, reply) => {
      const made = await core.sessions.signIn(req.body.api_key);
      if (!made) throw unauthorized('Invalid API key');
      setCookie(req, reply, made.token, made.auth);
      return sessionBody(made.auth);
    },
  );

  app.get(
    '/session',
    {
      schema: {
        summary: 'The signed-in user, organisation and CSRF token (401 when not signed in)',
        tags: ['Dashboard'],
        security: [],
        response: { 200: SessionBody, 401: AuthErrorBody },
      },
    },
    async (req) => {
      const cookie = sessionCookie(req);
      const auth = cookie ? await core.sessions.find(cookie) : null;
      if (!auth) throw unauthorized('Not signed in');
      return sessionBody(auth);
    },
  );

  app.delete(
    '/session',
    {
      schema: { summary: 'Sign out (ends the session, clears the cookie)', tags: ['Dashboard'], security: [], response: { 204: Type.Null(), 403: AuthErrorBody } },
    },
    async (req, reply) => {
      const cookie = sessionCookie(req);
      const auth = cookie ? await core.sessions.find(cookie) : null;
      // Signing out a live session is a change like any other: it needs the CSRF token.
      if (auth && !hasCsrfToken(req, auth)) {
        throw new SwitchboardError('SB_ERR_CSRF', 'Missing or wrong X-CSRF-Token header (required with the session cookie)');
      }
      if (cookie) await core.sessions.end(cookie);
      clearCookie(req, reply);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/invitations/:token/accept',
    {
      ...limited,
      schema: {
        summary: 'Accept an invitation: makes the user, returns their first API key once, signs them in',
        tags: ['Dashboard'],
        security: [],
        params: Type.Object({ token: Type.String({ minLength: 1, maxLength: 100 }) }),
        body: Type.Object({ name: Str }),
        response: {
          200: Type.Composite([SessionBody, Type.Object({ api_key: Type.String({ description: 'Shown once' }) })]),
          400: AuthErrorBody,
          404: AuthErrorBody,
          409: AuthErrorBody,
          410: AuthErrorBody,
          429: AuthErrorBody,
        },
      },
    },
    async (req, reply) => {
      const { user, key, keyId } = await core.invitations.accept(req.params.token, req.body.name);
      const made = await core.sessions.start(user, keyId);
      if (!made) throw new Error('a session just made was not found');
      setCookie(req, reply, made.token, made.auth);
      return { ...sessionBody(made.auth), api_key: key };
    },
  );
};
