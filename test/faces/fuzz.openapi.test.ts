/**
 * Drives every operation of `/openapi.json` (every face) with values generated from the operation's own
 * schemas: plausible ones, and hostile ones in every position (NUL, lone surrogates, huge and negative
 * numbers, wrong types, names of built-in object properties, long strings, empty and non-object bodies,
 * missing or bad keys). Asserts that nothing answers 5xx, that every status answered is one the operation
 * declares, and that the server is alive at the end. Seeded (FUZZ_SEED) so a failure reproduces; bounded
 * (FUZZ_PER_OPERATION requests per operation) so it runs in seconds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BACKENDS } from '../helpers/backends.js';
import { startSwitchboard, type TestSwitchboard } from '../helpers/switchboard.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20261202);
const PER_OPERATION = Number(process.env.FUZZ_PER_OPERATION ?? 14);

/** mulberry32: a tiny seeded PRNG (reproducible runs matter more than quality here). */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)], chance: (p: number) => next() < p };
}
type Rng = ReturnType<typeof prng>;
type Schema = Record<string, any>;

/** A marker replaced by `__proto__` in the JSON text (an object literal cannot carry that key as data). */
const PROTO = '__fuzz_proto__';

const HOSTILE: unknown[] = [
  '\u0000', 'a\u0000b', 'x\ud800y', '\udc00', 1e20, -1, -1e20, 2 ** 31, 2 ** 53 + 2, 1.5, 0, true, [], {}, null,
  'constructor', '__proto__', 'toString', 'hasOwnProperty', '', ' ', 'x'.repeat(70_000),
  '0000-01-01T00:00:00Z', '2030-02-30T10:00:00Z', '+0', '../../etc/passwd', { [PROTO]: { polluted: true } },
];
const HOSTILE_TEXT = ['%00', 'a%00b', '%ED%A0%80', '99999999999999999999', '1e20', '-1', '-99999999999', '1.5', 'constructor', '__proto__', 'toString', 'x'.repeat(5000), '', '%FF%FE', 'true', 'null'];

/** A plausible value for a schema (what a careful client would send). */
function plausible(s: Schema | undefined, rng: Rng, pool: Pool, name = ''): unknown {
  if (!s) return 'x';
  const alt = s.anyOf ?? s.oneOf;
  if (alt) return plausible(rng.pick(alt.filter((x: Schema) => x.type !== 'null')) ?? alt[0], rng, pool, name);
  if (s.enum) return rng.pick(s.enum);
  if (s.const !== undefined) return s.const;
  const type = Array.isArray(s.type) ? s.type.find((t: string) => t !== 'null') : s.type;
  switch (type) {
    case 'string':
      return plausibleString(s, rng, pool, name);
    case 'integer':
    case 'number': {
      const lo = s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + 1 : 1);
      const hi = Math.min(s.maximum ?? lo + 100, lo + 100);
      return Math.max(lo, Math.min(hi, Math.floor(lo + rng.next() * (hi - lo))));
    }
    case 'boolean':
      return rng.chance(0.5);
    case 'array':
      return s.minItems ? Array.from({ length: s.minItems }, () => plausible(s.items, rng, pool, name)) : rng.chance(0.5) ? [plausible(s.items, rng, pool, name)] : [];
    case 'object': {
      const out: Record<string, unknown> = {};
      const required: string[] = s.required ?? [];
      for (const [k, v] of Object.entries<Schema>(s.properties ?? {})) {
        // An unverified caller ID is refused before anything else: optional `from` fields are left out.
        if (required.includes(k) || (rng.chance(0.3) && !/^from/.test(k))) out[k] = plausible(v, rng, pool, k);
      }
      return out;
    }
    default:
      return 'x';
  }
}

function plausibleString(s: Schema, rng: Rng, pool: Pool, name: string): string {
  const ids = idsFor(pool, name);
  if (ids) return rng.chance(0.8) && ids.length ? rng.pick(ids) : randomUUID();
  if (s.format === 'uuid') return randomUUID();
  if (s.format === 'date-time') return new Date(Date.now() + 3600_000 * (1 + rng.next() * 48)).toISOString();
  if (s.format === 'uri') return 'https://hooks.example.com/fuzz';
  // +15550100 answers on the simulated network; the others do not.
  if (/phone|number|^to$|^from/i.test(name) || (s.pattern && String(s.pattern).includes('\\+'))) return rng.chance(0.8) ? '+15550100' : rng.pick(['+15550101', '+46700000000']);
  if (/language/.test(name)) return rng.pick(['en', 'sv', 'de']);
  if (/duration/.test(name)) return '600s';
  const min = s.minLength ?? 1;
  return 'fuzz '.repeat(Math.ceil(min / 5) + 1).slice(0, Math.max(min, Math.min(s.maxLength ?? 12, 12)));
}

/** Replaces one value somewhere in `v` by a hostile one (or adds a hostile key). */
function mutate(v: unknown, rng: Rng): unknown {
  if (v === null || typeof v !== 'object' || rng.chance(0.15)) return rng.pick(HOSTILE);
  if (Array.isArray(v)) {
    if (!v.length) return [rng.pick(HOSTILE)];
    const i = Math.floor(rng.next() * v.length);
    return v.map((x, j) => (j === i ? mutate(x, rng) : x));
  }
  const keys = Object.keys(v);
  if (!keys.length || rng.chance(0.1)) return { ...v, [rng.pick(['constructor', 'toString', PROTO, 'x\u0000', 'unknown_field'])]: rng.pick(HOSTILE) };
  const k = rng.pick(keys);
  return { ...v, [k]: mutate((v as Record<string, unknown>)[k], rng) };
}

/** Ids of real resources by kind, so generated requests reach past "not found". */
interface Pool {
  agents: string[];
  tasks: string[];
  calls: string[];
  /** The path being generated (an `id` parameter's kind is the path segment before it). */
  path?: string;
}

function idsFor(pool: Pool, name: string): string[] | null {
  if (name === 'agent_id') return pool.agents;
  if (name === 'task_id') return pool.tasks;
  if (/^call(_id|Id|Sid)$/.test(name)) return pool.calls;
  if (name === 'id' && pool.path) {
    if (pool.path.includes('/agents/')) return pool.agents;
    if (pool.path.includes('/tasks/')) return pool.tasks;
    if (pool.path.includes('/calls/')) return pool.calls;
  }
  return null;
}

interface Operation {
  method: string;
  path: string;
  op: Schema;
}

function operations(doc: Schema): Operation[] {
  const out: Operation[] = [];
  for (const [path, item] of Object.entries<Schema>(doc.paths)) {
    for (const [method, op] of Object.entries<Schema>(item)) out.push({ method: method.toUpperCase(), path, op });
  }
  return out;
}

/** One request for an operation: its URL, headers and body, hostile in one place or none. */
function request(o: Operation, rng: Rng, pool: Pool, key: string) {
  const params: Schema[] = o.op.parameters ?? [];
  const hostilePlace = rng.pick(['none', 'path', 'query', 'body', 'body', 'body', 'auth', 'empty']);
  // Live streams of real calls would stay open: give streaming routes unknown ids only.
  const poolIds: Pool = o.path.includes('stream') ? { agents: [], tasks: [], calls: [] } : { ...pool, path: o.path };
  let url = o.path;
  for (const p of params.filter((x) => x.in === 'path')) {
    const v = hostilePlace === 'path' && rng.chance(0.7) ? rng.pick(HOSTILE_TEXT) : encodeURIComponent(String(plausible(p.schema, rng, poolIds, p.name)));
    url = url.replace(`{${p.name}}`, v || 'x');
  }
  const query: string[] = [];
  for (const p of params.filter((x) => x.in === 'query' && x.name !== 'api_key')) {
    if (hostilePlace === 'query' && rng.chance(0.6)) query.push(`${p.name}=${rng.pick(HOSTILE_TEXT)}`);
    else if (rng.chance(0.3)) query.push(`${p.name}=${encodeURIComponent(String(plausible(p.schema, rng, poolIds, p.name)))}`);
  }
  if (query.length) url += '?' + query.join('&');
  const headers: Record<string, string> = { authorization: `Bearer ${key}` };
  if (hostilePlace === 'auth') {
    const bad = rng.pick(['none', 'sk_' + 'a'.repeat(32), 'sk_\u00ff', 'Basic abc', 'x'.repeat(300)]);
    if (bad === 'none') delete headers.authorization;
    else headers.authorization = bad.startsWith('Basic') ? bad : `Bearer ${bad.replace(/[^\x20-\x7e]/g, '?')}`;
  }
  const bodySchema = o.op.requestBody?.content?.['application/json']?.schema;
  let payload: string | undefined;
  if (hostilePlace === 'empty' && o.method !== 'GET') payload = '';
  else if (bodySchema) {
    let body = plausible(bodySchema, rng, { ...pool, path: o.path });
    if (hostilePlace === 'body') body = mutate(body, rng);
    payload = JSON.stringify(body).replaceAll(PROTO, '__proto__');
  }
  if (payload !== undefined) headers['content-type'] = 'application/json';
  return { method: o.method, url, headers, payload, hostilePlace };
}

const declared = (op: Schema, status: number) => {
  const r = op.responses ?? {};
  return String(status) in r || `${Math.floor(status / 100)}XX` in r;
};

for (const backend of BACKENDS) describe(`fuzzing every operation of /openapi.json from its schemas [${backend.name}]`, () => {
  let t: TestSwitchboard;
  const pool: Pool = { agents: [], tasks: [], calls: [] };
  // A copy of the scenarios: a fuzzed POST …/scenario of a finished call writes its replay under this folder,
  // which must not be the repository's own.
  const scenariosDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-fuzz-scenarios-'));
  beforeAll(async () => {
    fs.cpSync(path.resolve('scenarios'), scenariosDir, { recursive: true });
    t = await startSwitchboard(backend, { SHUTDOWN_GRACE_SECONDS: '1', RATE_LIMIT_PER_MINUTE: '1000000', SCENARIOS_DIR: scenariosDir });
    // Real resources, so some generated ids reach past "not found".
    const h = { authorization: `Bearer ${t.key}` };
    const agent = (await t.sb.app.inject({ method: 'POST', url: '/api/v1/agents', headers: h, payload: { name: 'Fuzz', system_prompt: 'Be brief.', language: 'en' } })).json().data;
    const task = (await t.sb.app.inject({ method: 'POST', url: '/api/v1/tasks', headers: h, payload: { agent_id: agent.id, name: 'T', to_number: '+15550100' } })).json().data;
    const call = (await t.sb.app.inject({ method: 'POST', url: '/v1/start-call', headers: h, payload: { phone_number: '+15550100', task: 'x' } })).json();
    pool.agents.push(agent.id);
    pool.tasks.push(task.id);
    pool.calls.push(call.sid);
  });
  afterAll(async () => {
    await t?.close();
    fs.rmSync(scenariosDir, { recursive: true, force: true });
  });

  it(`answers every generated request below 500 with a declared status (seed ${SEED})`, async () => {
    const doc = (await t.sb.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    const ops = operations(doc);
    expect(ops.length).toBeGreaterThan(40);
    const rng = prng(SEED);
    const problems: string[] = [];
    const seen = new Set<string>();
    let sent = 0;
    for (const o of ops) {
      for (let i = 0; i < PER_OPERATION; i++) {
        const r = request(o, rng, pool, t.key);
        const res = await t.sb.app.inject({ method: r.method as 'GET', url: r.url, headers: r.headers, ...(r.payload === undefined ? {} : { payload: r.payload }) });
        sent++;
        seen.add(`${res.statusCode}`);
        const where = `${r.method} ${r.url.slice(0, 120)} [${r.hostilePlace}] ${(r.payload ?? '').slice(0, 160)}`;
        if (res.statusCode >= 500) problems.push(`${res.statusCode} ${where}: ${res.body.slice(0, 200)}`);
        else if (!declared(o.op, res.statusCode)) problems.push(`undeclared ${res.statusCode} for ${o.method} ${o.path}: ${where}`);
      }
    }
    expect(problems, `seed ${SEED}, ${sent} requests`).toEqual([]);
    // The mix reached past validation: successes and refusals both.
    expect([...seen].some((s) => s.startsWith('2'))).toBe(true);
    expect([...seen].some((s) => s.startsWith('4'))).toBe(true);
    // And the server is alive and still serves a real request.
    expect((await t.sb.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    const list = await t.sb.app.inject({ method: 'GET', url: '/api/v1/agents', headers: { authorization: `Bearer ${t.key}` } });
    expect(list.statusCode).toBe(200);
  }, 120_000);
});
