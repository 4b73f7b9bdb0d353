/**
 * package.json, the OpenAPI description and the README name the faces that are served — each of them, and
 * no face that is not — and every face named answers at its prefix.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { BACKENDS } from '../helpers/backends.js';
import { startSwitchboard, type TestSwitchboard } from '../helpers/switchboard.js';
import { SERVED_FACES } from '../../src/faces/served.js';

const root = new URL('../../', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { description: string };
const readmeIntro = readFileSync(new URL('README.md', root), 'utf8').split('## Quick start')[0];

/** Names of faces that were planned or talked about but are not served (none may be claimed). */
const NOT_SERVED = [/four API faces/i, /five API faces/i, /Vapi/i, /Bland/i, /Retell/i];

const backend = BACKENDS[0];
describe('the served faces are the ones named', () => {
  let t: TestSwitchboard;
  beforeAll(async () => {
    t = await startSwitchboard(backend);
  });
  afterAll(() => t.close());

  it('package.json, /openapi.json and the README name every served face with its prefix, and nothing else', async () => {
    const r = await t.sb.app.inject({ method: 'GET', url: '/openapi.json' });
    expect(r.statusCode).toBe(200);
    const openapi = r.json().info.description as string;
    for (const [where, text] of [['package.json', pkg.description], ['openapi', openapi], ['README', readmeIntro]] as const) {
      for (const f of SERVED_FACES) {
        expect(text, `${where} names ${f.name}`).toContain(f.name);
        if (f.prefix) expect(text, `${where} gives ${f.name}'s prefix`).toContain(f.prefix);
      }
      for (const bad of NOT_SERVED) expect(text, `${where}`).not.toMatch(bad);
    }
  });

  it('every named face answers at its prefix (not a 404 for the prefix itself)', async () => {
    // One known route per face: its document's simplest read.
    const probes: Record<string, string> = {
      CallMyCall: '/v1/credits',
      'agents/tasks': '/api/v1/agents',
      Truedy: '/api/public/v1/calls',
      Phony: '/healthz',
      dashboard: '/dashboard/',
    };
    for (const f of SERVED_FACES) {
      const url = probes[f.name];
      expect(url, `a probe for ${f.name}`).toBeDefined();
      const res = await t.sb.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${t.key}` } });
      expect(res.statusCode, `${f.name} ${url}: ${res.body.slice(0, 200)}`).toBeLessThan(400);
    }
  });
});
