/**
 * Runs scenario test cases: one in-process Switchboard (in-memory store, the brain the configuration
 * picks, the simulated network on a virtual clock unless a time scale is asked for), each case started
 * through the core as a CallMyCall start-call, then checked against the stored call, its transcript and
 * its command events once it has ended.
 */
import { loadConfig } from '../../config/index.js';
import { createSwitchboard, type Switchboard } from '../../app.js';
import { RealClock, VirtualClock, type Clock } from '../../lib/clock.js';
import type { Brain } from '../../engine/brain.js';
import type { CallRow } from '../../store/schema.js';
import { ScenarioTestFileError, type ScenarioTestCase } from './load.js';
import { SimCarrier, loadScenarios } from '../../carriers/sim/index.js';
import { createLogger } from '../../lib/logger.js';

export interface ScenarioTestOptions {
  /** A brain to use instead of the one the configuration picks. */
  brain?: Brain;
  /** Environment to configure from (default process.env); the store is always in memory. */
  env?: NodeJS.ProcessEnv;
  /** Cases run at the same time (default 4). */
  concurrency?: number;
  /** Simulated time: omitted = a virtual clock (no real waiting); a number = real time sped up that much. */
  timeScale?: number;
  /** Real milliseconds a case may take before it fails (default 60 s, more on a real clock). */
  caseTimeoutMs?: number;
  /** Called as each case finishes. */
  onResult?: (r: ScenarioTestResult) => void;
}

export interface TranscriptLine {
  role: string;
  text: string;
}

export interface ScenarioTestResult {
  file: string;
  name: string;
  passed: boolean;
  /** Why it failed, one line each. */
  failures: string[];
  callId?: string;
  status?: string;
  /** Connected seconds of the simulated call. */
  seconds: number;
  brain?: string;
  transcript: TranscriptLine[];
  pressed: string;
}

export interface ScenarioTestRun {
  results: ScenarioTestResult[];
  brain: string;
  passed: number;
  failed: number;
}

const ORG = 'scenario-tests';

export async function runScenarioTests(cases: ScenarioTestCase[], o: ScenarioTestOptions = {}): Promise<ScenarioTestRun> {
  const env: NodeJS.ProcessEnv = { ...(o.env ?? process.env), LOG_LEVEL: 'silent', PORT: '0', SHUTDOWN_GRACE_SECONDS: '1' };
  // Self-contained: never a shared database or bus, whatever the environment says.
  delete env.DATABASE_URL;
  delete env.REDIS_URL;
  const config = loadConfig(env);
  const clock: Clock = o.timeScale ? new RealClock(o.timeScale) : new VirtualClock();
  const carrier = await networkWith(config.scenariosDir, cases, clock);
  const sb = await createSwitchboard(config, { inMemory: true, clock, carrier, ...(o.brain ? { brain: o.brain } : {}) });
  const timeoutMs = o.caseTimeoutMs ?? (o.timeScale ? 30 * 60_000 : 60_000);
  try {
    const { org } = await sb.core.orgs.ensure(ORG, { credits: 1_000_000 });
    const results: ScenarioTestResult[] = new Array(cases.length);
    let next = 0;
    const worker = async () => {
      while (next < cases.length) {
        const i = next++;
        results[i] = await runCase(sb, org.id, cases[i], timeoutMs);
        o.onResult?.(results[i]);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(o.concurrency ?? 4, cases.length)) }, worker));
    const passed = results.filter((r) => r.passed).length;
    return { results, brain: sb.brain.name, passed, failed: results.length - passed };
  } finally {
    await sb.shutdown();
  }
}

/** The simulated network of SCENARIOS_DIR plus the callees the cases bring (recorded calls). */
async function networkWith(dir: string, cases: ScenarioTestCase[], clock: Clock): Promise<SimCarrier> {
  const scenarios = await loadScenarios(dir);
  const taken = new Map(scenarios.map((s) => [s.number, s.file]));
  for (const c of cases) {
    if (!c.callee) continue;
    const prev = taken.get(c.callee.number);
    if (prev) throw new ScenarioTestFileError(`${c.file}: case "${c.name}": callee.number: ${c.callee.number} is already used in ${prev}`);
    taken.set(c.callee.number, c.file);
    scenarios.push(c.callee);
  }
  return new SimCarrier({ scenarios, clock, log: createLogger('silent') });
}

async function runCase(sb: Switchboard, orgId: string, c: ScenarioTestCase, timeoutMs: number): Promise<ScenarioTestResult> {
  const base = { file: c.file, name: c.name, seconds: 0, transcript: [], pressed: '' };
  let call: CallRow;
  try {
    ({ call } = await sb.core.calls.start(orgId, c.request));
  } catch (e) {
    return { ...base, passed: false, failures: [`start-call refused: ${(e as Error).message}`] };
  }
  const deadline = Date.now() + timeoutMs;
  while (!call.ended_at) {
    if (Date.now() > deadline) {
      await sb.core.calls.end(orgId, call.id).catch(() => {});
      // What was said so far shows where the call went round in circles.
      const transcript = (await sb.core.calls.transcript(call.id)).map((e) => ({ role: e.role ?? '', text: e.text ?? '' }));
      return { ...base, transcript, callId: call.id, status: call.status, passed: false, failures: [`did not end within ${Math.round(timeoutMs / 1000)} s (real time); ended it`] };
    }
    await new Promise((r) => setTimeout(r, 20));
    call = await sb.core.calls.find(orgId, call.id);
  }
  const transcript = (await sb.core.calls.transcript(call.id)).map((e) => ({ role: e.role ?? '', text: e.text ?? '' }));
  const commands = await sb.store.db
    .selectFrom('call_events')
    .select(['data'])
    .where('call_id', '=', call.id)
    .where('kind', '=', 'command')
    .orderBy('seq')
    .execute();
  const pressed = commands
    .map((r) => (r.data && 'command' in r.data ? r.data : null))
    .filter((d) => d?.command === 'press')
    .map((d) => d!.value ?? '')
    .join('');
  const failures = check(c, call, transcript, pressed);
  return {
    ...base,
    callId: call.id,
    status: call.status,
    seconds: Math.round(Number(call.duration_seconds ?? 0)),
    brain: call.brain ?? undefined,
    transcript,
    pressed,
    passed: failures.length === 0,
    failures,
  };
}

const show = (v: unknown) => (v === null || v === undefined ? 'none' : typeof v === 'string' ? JSON.stringify(v) : String(v));

/** Every unmet expectation, as a line for the report. */
export function check(c: ScenarioTestCase, call: CallRow, transcript: TranscriptLine[], pressed: string): string[] {
  const x = c.expect;
  const out: string[] = [];
  const agent = transcript.filter((t) => t.role === 'agent').map((t) => t.text);
  const callee = transcript.filter((t) => t.role === 'callee').map((t) => t.text);
  if (x.status !== undefined && call.status !== x.status) out.push(`status: expected ${x.status}, got ${call.status}`);
  if (x.goal_completed !== undefined && (call.goal_completed ?? false) !== x.goal_completed) {
    out.push(`goal_completed: expected ${x.goal_completed}, got ${call.goal_completed ?? false}`);
  }
  if (x.outcome !== undefined && call.outcome !== x.outcome) out.push(`outcome: expected ${show(x.outcome)}, got ${show(call.outcome)}`);
  if (x.answered_by !== undefined && call.answered_by !== x.answered_by) out.push(`answered_by: expected ${show(x.answered_by)}, got ${show(call.answered_by)}`);
  if (x.end_reason !== undefined && call.end_reason !== x.end_reason) out.push(`end_reason: expected ${show(x.end_reason)}, got ${show(call.end_reason)}`);
  if (x.pressed !== undefined && pressed !== x.pressed) out.push(`pressed: expected ${show(x.pressed)}, got ${show(pressed)}`);
  if (x.transferred !== undefined && (call.outcome === 'transferred') !== x.transferred) {
    out.push(`transferred: expected ${x.transferred}, got ${call.outcome === 'transferred'} (outcome ${show(call.outcome)})`);
  }
  for (const p of x.said ?? []) if (!agent.some((l) => p.test(l))) out.push(`said: no agent line matches ${show(p.source)}`);
  for (const p of x.heard ?? []) if (!callee.some((l) => p.test(l))) out.push(`heard: no callee line matches ${show(p.source)}`);
  for (const p of x.never_said ?? []) {
    const line = agent.find((l) => p.test(l));
    if (line !== undefined) out.push(`never_said: the agent said ${show(p.source)}: ${show(line)}`);
  }
  return out;
}
