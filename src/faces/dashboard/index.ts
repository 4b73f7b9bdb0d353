/**
 * The dashboard (issue 12 §4): the single-page app built from web/ into dist/dashboard by `npm run build`,
 * served at `/dashboard/` (and `/dashboard/index.html?callSid=` opening that call, as 004 says), plus the
 * few read routes the pages need that no face has (`/dashboard/api/...`).
 *
 * The app's files carry no data: they are served to anyone, so the sign-in page can load. Everything the
 * pages show comes from the API routes, which need the session cookie (or a key), like every face.
 */
import type { FastifyPluginAsync } from 'fastify';
import fastifyStatic from '@fastify/static';
import fs from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../config/index.js';
import type { FaceOptions } from '../shared/options.js';
import { keyAuth } from '../shared/plumbing.js';
import { requestKey } from '../shared/auth.js';
import { dashboardApi, type SimulatedNumber } from './api.js';

/**
 * Where `npm run build` puts the app: `<repo>/dist/dashboard/` (found from the repository root, not from this
 * file, which in the built server is part of a bundle in another folder).
 */
export const DASHBOARD_DIR = path.join(projectRoot(), 'dist', 'dashboard');

export interface DashboardOptions extends FaceOptions {
  /** The simulated network's numbers (empty on a real carrier), offered by the start-a-call form. */
  simulatedNumbers: () => SimulatedNumber[];
  /** The built app's folder (tests may point elsewhere). */
  dir?: string;
}

export const dashboardFace: FastifyPluginAsync<DashboardOptions> = async (app, opts) => {
  const dir = opts.dir ?? DASHBOARD_DIR;
  await app.register(
    async (api) => {
      keyAuth(api, opts.core, (req) => requestKey(req, req.routeOptions.config?.streaming === true), {
        missing: 'Sign in first',
        invalid: 'Invalid API key',
      });
      await api.register(dashboardApi, { core: opts.core, bus: opts.bus, simulatedNumbers: opts.simulatedNumbers });
    },
    { prefix: '/api' },
  );

  // `/dashboard` → `/dashboard/`, so the app's relative asset paths resolve under it; the query is kept.
  app.get('', { schema: { hide: true } }, async (req, reply) => {
    const q = req.url.indexOf('?');
    return reply.redirect('/dashboard/' + (q >= 0 ? req.url.slice(q) : ''), 302);
  });

  if (!fs.existsSync(`${dir}/index.html`)) {
    // A checkout that was never built (npm ci builds it): say how to fix it rather than a bare 404.
    app.get('/*', { schema: { hide: true } }, async (_req, reply) =>
      reply.code(503).type('text/plain; charset=utf-8').send('The dashboard is not built: run `npm run build`.\n'),
    );
    return;
  }
  await app.register(fastifyStatic, {
    root: dir,
    prefix: '/',
    index: ['index.html'],
    // Hashed asset names change with their content; index.html must always be fetched anew.
    setHeaders: (res, file) => {
      res.setHeader('Cache-Control', file.endsWith('index.html') ? 'no-cache' : 'public, max-age=31536000, immutable');
      res.setHeader('X-Content-Type-Options', 'nosniff');
    },
  });
};
