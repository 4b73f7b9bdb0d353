/**
 * "A finished call becomes a test" (issue 12 §6): a finished call on the simulated network →
 * `POST /v1/calls/:callSid/scenario` → a scenario test file replaying the callee → `scenarios test` passes
 * with the same task and fails when the task changes in a way the replay exposes.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../helpers/backends.js';
import { ensureBuilt, MAIN } from '../helpers/built-cli.js';
import { advanceUntil, startSwitchboard, type TestSwitchboard } from '../helpers/switchboard.js';
import { loadScenarioTests, parseScenarioTests } from '../../src/cli/scenario-tests/load.js';
import { runScenarioTests } from '../../src/cli/scenario-tests/run.js';

const ROOT = path.resolve(__dirname, '../..');

/** The offline rules brain and this test's copy of the scenarios folder. */
function offlineEnv(scenariosDir: string): NodeJS.ProcessEnv {
  return { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('LLM_') && k !== 'DATABASE_URL')), SCENARIOS_DIR: scenariosDir };
}

describe('a finished call becomes a scenario test', () => {
  let t: TestSwitchboard;
  let scenariosDir: string;
  const auth = () => ({ authorization: `Bearer ${t.key}` });

  beforeAll(async () => {
    // Recorded files are written under the scenarios folder: a copy, so the repository's stays clean.
    scenariosDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-record-'));
    fs.cpSync(path.join(ROOT, 'scenarios'), scenariosDir, { recursive: true });
    t = await startSwitchboard(BACKENDS[0], { SHUTDOWN_GRACE_SECONDS: '1', SCENARIOS_DIR: scenariosDir });
  }, 240_000);
  afterAll(async () => {
    await t?.close();
    fs.rmSync(scenariosDir, { recursive: true, force: true });
  });

  async function finishedCall(body: Record<string, unknown>): Promise<string> {
    const r = await t.sb.app.inject({ method: 'POST', url: '/v1/start-call', headers: auth(), payload: body });
    expect(r.statusCode, r.body).toBe(200);
    const sid = r.json().sid as string;
    await advanceUntil(t.clock, async () => (await t.sb.core.calls.find(t.orgId, sid)).ended_at, 500, 90_000);
    return sid;
  }

  it('a receptionist call: the replay passes with the same task and fails with another booking reference', async () => {
    const sid = await finishedCall({
      phone_number: '+15550100',
      task: 'Confirm my booking for Tuesday at 7 pm, booking reference AB123',
      language: 'en',
      persona: { name: 'Alex Smith' },
    });
    const call = await t.sb.core.calls.find(t.orgId, sid);
    expect(call.status).toBe('completed');

    const r = await t.sb.app.inject({ method: 'POST', url: `/v1/calls/${sid}/scenario`, headers: auth() });
    expect(r.statusCode, r.body).toBe(200);
    const { scenario } = r.json();
    expect(scenario.name).toBe(`replay-${sid}`);
    expect(scenario.path).toBe(path.join(scenariosDir, 'tests', 'recorded', `replay-${sid}.yaml`));
    expect(fs.readFileSync(scenario.path, 'utf8')).toBe(scenario.yaml);
    // The callee's own words are in the file, in turns; the phone number dialled is not.
    const transcript = await t.sb.core.calls.transcript(call.id);
    const calleeLines = transcript.filter((e) => e.role === 'callee').map((e) => e.text!);
    expect(calleeLines.length).toBeGreaterThan(1);
    const [c] = parseScenarioTests(scenario.yaml, scenario.path);
    expect(c.callee?.kind).toBe('replay');
    const replayed = c.callee?.kind === 'replay' ? c.callee.replay.turns.flatMap((x) => x.say) : [];
    expect(replayed).toEqual(calleeLines);
    expect(scenario.yaml).not.toContain('+15550100');
    expect(c.expect).toMatchObject({ status: 'completed', goal_completed: true });
    expect(c.expect.said?.map((p) => p.source).join(' ')).toMatch(/AB/);

    const same = await runScenarioTests(await loadScenarioTests([scenario.path]), { env: offlineEnv(scenariosDir) });
    expect(same.results[0].failures).toEqual([]);
    expect(same.passed).toBe(1);

    // The task changes (another reference): the same callee answers, and the agent no longer says AB123.
    const changed = scenario.yaml.replace('booking reference AB123', 'booking reference XY987');
    expect(changed).not.toBe(scenario.yaml);
    const run = await runScenarioTests(parseScenarioTests(changed, 'changed.yaml'), { env: offlineEnv(scenariosDir) });
    expect(run.failed).toBe(1);
    expect(run.results[0].failures.join('\n')).toMatch(/said: no agent line matches/);
  }, 240_000);

  it('an IVR call: the replay waits for the recorded keys, and an agent pressing others fails', async () => {
    const sid = await finishedCall({ phone_number: '+15550101', task: 'Book a new appointment for a check-up', language: 'en', persona: { name: 'Alex Smith' } });
    const r = await t.sb.app.inject({ method: 'POST', url: `/v1/calls/${sid}/scenario`, headers: auth() });
    expect(r.statusCode, r.body).toBe(200);
    const [c] = parseScenarioTests(r.json().scenario.yaml, 'ivr.yaml');
    const turns = c.callee?.kind === 'replay' ? c.callee.replay.turns : [];
    expect(c.expect.pressed).toMatch(/^[0-9*#]+$/);
    expect(turns.some((x) => x.after === 'digits')).toBe(true);

    const same = await runScenarioTests([c], { env: offlineEnv(scenariosDir) });
    expect(same.results[0].failures).toEqual([]);
    // Asked for prescriptions instead, the agent presses other keys: the replay does not follow, the test fails.
    const other = parseScenarioTests(r.json().scenario.yaml.replace('Book a new appointment for a check-up', 'Ask whether my prescription refill is ready'), 'other.yaml');
    const run = await runScenarioTests(other, { env: offlineEnv(scenariosDir) });
    expect(run.failed).toBe(1);
    expect(run.results[0].failures.join('\n')).toMatch(/pressed: expected/);
  }, 240_000);

  it('errors: an unknown call is 404, a live call 409, and no file is written', async () => {
    const unknown = await t.sb.app.inject({ method: 'POST', url: '/v1/calls/CA00000000000000000000000000000000/scenario', headers: auth() });
    expect(unknown.statusCode).toBe(404);
    const start = await t.sb.app.inject({ method: 'POST', url: '/v1/start-call', headers: auth(), payload: { phone_number: '+15550100', task: 'Confirm my booking' } });
    const sid = start.json().sid;
    const live = await t.sb.app.inject({ method: 'POST', url: `/v1/calls/${sid}/scenario`, headers: auth() });
    expect(live.statusCode).toBe(409);
    expect(live.json().error).toMatch(/not ended/);
    expect(fs.existsSync(path.join(scenariosDir, 'tests', 'recorded', `replay-${sid}.yaml`))).toBe(false);
    await t.sb.app.inject({ method: 'POST', url: '/v1/end-call', headers: auth(), payload: { callSid: sid } });
    // Another organisation's call is not found.
    const { org } = await t.sb.core.orgs.ensure('someone-else', { credits: 100 });
    const otherKey = await t.sb.core.orgs.createKey(org.id);
    const foreign = await t.sb.app.inject({ method: 'POST', url: `/v1/calls/${sid}/scenario`, headers: { authorization: `Bearer ${otherKey}` } });
    expect(foreign.statusCode).toBe(404);
  }, 60_000);

  it('the CLI records the same file from the store', async () => {
    await ensureBuilt();
    // The CLI opens the store itself; with the embedded store in a test's memory it has nothing to read,
    // so only its refusal of an unknown organisation is checked here.
    const r = spawnSync(process.execPath, [MAIN, 'scenarios', 'record', 'CA00000000000000000000000000000000', '--org', 'nobody-here'], {
      cwd: ROOT,
      env: { ...offlineEnv(scenariosDir), LOG_LEVEL: 'silent', DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'sb-record-data-')) },
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/no organisation named nobody-here/);
  }, 600_000); // a build first when dist/ is older than the sources
});
