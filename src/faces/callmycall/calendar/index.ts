/**
 * 001's Google Calendar routes, outside `/v1` as 001 has them: `GET /auth/google/calendar` (start the
 * consent; Bearer or `?api_key=`), `GET /auth/google/callback` (Google's redirect; the `state` is the
 * credential), `GET /calendar/status` and `POST /auth/google/revoke`. One calendar per API key. CalDAV as a
 * second calendar (an extension): `POST /v1/calendar/caldav` connects a calendar collection with its URL and
 * credentials, `DELETE /v1/calendar/caldav` forgets it. Errors are 001's `{error, details}`: `error` says
 * what failed (each route's own words), `details` why.
 */
import type { FastifyError, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { SwitchboardError } from '../../../core/errors.js';
import { keyAuth } from '../../shared/plumbing.js';
import { bearerKey, queryKey } from '../../shared/auth.js';
import { toProblem } from '../../shared/errors.js';
import type { FaceOptions } from '../../shared/options.js';
import { successPage } from './page.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** 001's `error` for a failure of this calendar route (`details` then says why). */
    calendarFailure?: string;
    /** The route also takes `?api_key=` (a browser opening the consent link). */
    keyInQuery?: boolean;
  }
}

const CalendarError = Type.Object({ error: Type.String(), details: Type.Optional(Type.String()) });
const API_KEY_REQUIRED = 'API key required for calendar authorization';

function calendarErrors(err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  const p = toProblem(err);
  if (p.status >= 500) req.log.error({ err }, 'calendar request failed');
  const failure = req.routeOptions.config?.calendarFailure;
  void reply.status(p.status).send(failure ? { error: failure, details: p.message } : { error: p.message });
}

/** The routes a key authenticates. */
const keyed: FastifyPluginAsyncTypebox<FaceOptions> = async (app, { core }) => {
  keyAuth(app, core, (req) => bearerKey(req) ?? (req.routeOptions.config?.keyInQuery ? queryKey(req) : undefined), {
    missing: API_KEY_REQUIRED,
    invalid: 'Invalid API key',
  });

  app.get(
    '/auth/google/calendar',
    {
      config: { calendarFailure: 'Failed to initiate calendar authorization', keyInQuery: true },
      schema: {
        summary: 'Start Google Calendar authorization for this API key',
        description: 'Redirects to Google\'s consent page, or with `format=json` answers `{success, auth_url, state}`. The link is valid for ten minutes and once.',
        tags: ['Calendar'],
        querystring: Type.Object({
          format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('redirect')])),
          api_key: Type.Optional(Type.String({ maxLength: 200 })),
        }),
        response: {
          200: Type.Object({ success: Type.Boolean(), auth_url: Type.String(), state: Type.String() }),
          302: Type.Null(),
          400: CalendarError,
          401: CalendarError,
          404: CalendarError,
        },
      },
    },
    async (req, reply) => {
      const { authUrl, state } = await core.calendar.authorize(req.org.id, keyIdOf(req));
      if (req.query.format === 'json') return { success: true, auth_url: authUrl, state };
      return reply.redirect(authUrl, 302);
    },
  );

  app.get(
    '/calendar/status',
    {
      config: { calendarFailure: 'Failed to check calendar authorization status' },
      schema: {
        summary: 'Whether this API key has an active Google Calendar authorization',
        tags: ['Calendar'],
        response: {
          200: Type.Object({
            authorized: Type.Boolean(),
            provider: Type.Union([Type.Literal('google'), Type.Literal('caldav'), Type.Null()], { description: 'Which calendar is connected (an extension)' }),
            scopes: Type.Array(Type.String()),
            expires_at: Type.Union([Type.String({ description: 'When the current access token expires (it is refreshed before then)' }), Type.Null()]),
          }),
          400: CalendarError,
          401: CalendarError,
          502: CalendarError,
        },
      },
    },
    async (req) => core.calendar.status(keyIdOf(req)),
  );

  app.post(
    '/auth/google/revoke',
    {
      config: { calendarFailure: 'Failed to revoke calendar authorization' },
      schema: {
        summary: 'Revoke this API key\'s Google Calendar authorization',
        tags: ['Calendar'],
        response: { 200: Type.Object({ success: Type.Boolean(), message: Type.String() }), 400: CalendarError, 401: CalendarError, 404: CalendarError },
      },
    },
    async (req) => {
      if (!(await core.calendar.revoke(keyIdOf(req)))) {
        throw new SwitchboardError('SB_ERR_NOT_FOUND', 'No calendar authorization for this API key');
      }
      return { success: true, message: 'Calendar authorization revoked successfully' };
    },
  );
};

/** CalDAV as a second calendar (an extension of 001): connect and forget a calendar collection. */
const caldav: FastifyPluginAsyncTypebox<FaceOptions> = async (app, { core }) => {
  keyAuth(app, core, bearerKey, { missing: API_KEY_REQUIRED, invalid: 'Invalid API key' });

  app.post(
    '/v1/calendar/caldav',
    {
      config: { calendarFailure: 'Failed to connect the CalDAV calendar' },
      schema: {
        summary: 'Connect a CalDAV calendar for this API key (an extension; replaces a connected calendar)',
        description: 'The calendar collection is checked (PROPFIND) with the credentials before anything is stored; they are stored sealed and never returned.',
        tags: ['Calendar'],
        body: Type.Object(
          {
            url: Type.String({ minLength: 1, maxLength: 2048, description: 'The calendar collection, e.g. https://dav.example.com/calendars/alex/personal/' }),
            username: Type.String({ minLength: 1, maxLength: 256 }),
            password: Type.String({ minLength: 1, maxLength: 1024 }),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ success: Type.Boolean(), provider: Type.Literal('caldav') }), 400: CalendarError, 401: CalendarError, 502: CalendarError },
      },
    },
    async (req) => {
      await core.calendar.connectCaldav(req.org.id, keyIdOf(req), req.body);
      return { success: true, provider: 'caldav' as const };
    },
  );

  app.delete(
    '/v1/calendar/caldav',
    {
      config: { calendarFailure: 'Failed to disconnect the CalDAV calendar' },
      schema: {
        summary: "Forget this API key's CalDAV calendar",
        tags: ['Calendar'],
        response: { 200: Type.Object({ success: Type.Boolean(), message: Type.String() }), 401: CalendarError, 404: CalendarError },
      },
    },
    async (req) => {
      const keyId = keyIdOf(req);
      if ((await core.calendar.status(keyId)).provider !== 'caldav' || !(await core.calendar.revoke(keyId))) {
        throw new SwitchboardError('SB_ERR_NOT_FOUND', 'No CalDAV calendar for this API key');
      }
      return { success: true, message: 'CalDAV calendar disconnected' };
    },
  );
};

function keyIdOf(req: FastifyRequest): string {
  // keyAuth authenticated the request with a key, so the organisation carries its id.
  if (!req.org.keyId) throw new SwitchboardError('SB_ERR_UNAUTHENTICATED', API_KEY_REQUIRED);
  return req.org.keyId;
}

/** Google's redirect back: no key (a browser tab), the single-use state stands for it. */
const callback: FastifyPluginAsyncTypebox<FaceOptions> = async (app, { core }) => {
  app.get(
    '/auth/google/callback',
    {
      schema: {
        summary: 'OAuth callback opened by Google after consent',
        tags: ['Calendar'],
        security: [],
        querystring: Type.Object({
          code: Type.Optional(Type.String({ maxLength: 2048 })),
          state: Type.Optional(Type.String({ maxLength: 256 })),
          error: Type.Optional(Type.String({ maxLength: 256 })),
          scope: Type.Optional(Type.String({ maxLength: 2048 })),
        }),
        response: { 200: Type.String(), 400: CalendarError, 404: CalendarError, 502: CalendarError },
      },
    },
    async (req, reply) => {
      await core.calendar.complete(req.query);
      return reply.type('text/html; charset=utf-8').send(successPage());
    },
  );
};

export const callMyCallCalendar: FastifyPluginAsync<FaceOptions> = async (app, opts) => {
  app.setErrorHandler(calendarErrors);
  const own: FaceOptions = { core: opts.core, bus: opts.bus };
  await app.register(keyed, own);
  await app.register(callback, own);
  await app.register(caldav, own);
};
