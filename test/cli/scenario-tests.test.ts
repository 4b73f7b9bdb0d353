/**
 * `switchboard scenarios test`: the file format's checks, the run against the simulated network with the
 * rules brain, the report, and the command's exit codes.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadScenarioTests, parseScenarioTests, ScenarioTestFileError } from '../../src/cli/scenario-tests/load.js';
import { runScenarioTests } from '../../src/cli/scenario-tests/run.js';
import { formatReport } from '../../src/cli/scenario-tests/report.js';

import { ensureBuilt, MAIN, ROOT } from '../helpers/built-cli.js';

const CLI = [MAIN];

beforeAll(ensureBuilt, 600_000);

/** The offline rules brain, whatever LLM_* the environment holds. */
function offlineEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('LLM_') && k !== 'DATABASE_URL'));
}

function cli(args: string[]) {
  const env: NodeJS.ProcessEnv = { ...offlineEnv(), LOG_LEVEL: 'silent' };
  return spawnSync(process.execPath, [...CLI, ...args], { cwd: ROOT, env, encoding: 'utf8', timeout: 120_000 });
}

function tmpFile(name: string, text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-scntest-'));
  const p = path.join(dir, name);
  fs.writeFileSync(p, text);
  return p;
}

function loadError(text: string): string {
  try {
    parseScenarioTests(text, 'x.yaml');
  } catch (e) {
    expect(e).toBeInstanceOf(ScenarioTestFileError);
    return (e as Error).message;
  }
  throw new Error('expected a load error');
}

const BOOKING = `
  call:
    phone_number: "+15550100"
    task: Confirm my booking for Tuesday at 7 pm, booking reference AB123
    language: en
    persona: { name: Alex Smith }`;

/** One case that holds and two that do not: the goal is reached, and the agent does say "Tuesday". */
const MIXED = `
- name: confirms
${BOOKING}
  expect: { status: completed, goal_completed: true, said: ["tuesday at 7"] }
- name: wrongly expects failure
${BOOKING}
  expect: { goal_completed: false }
- name: forbids a word the agent says
${BOOKING}
  expect: { never_said: ["Tuesday"] }
`;

describe('scenario test files', () => {
  it('errors name the file, the case and the field', () => {
    expect(loadError('- name: a\n  call: { phone_number: "+15550100" }\n  expect: { status: completed }')).toBe(
      'x.yaml: case 1 "a": call.task: required, what the agent should get done',
    );
    expect(loadError(`- name: a\n${BOOKING}\n  expect: { status: done }`)).toMatch(/^x\.yaml: case 1 "a": expect\.status: expected one of completed, busy, no_answer/);
    expect(loadError(`- name: a\n${BOOKING}\n  expect: { goal: true }`)).toMatch(/^x\.yaml: case 1 "a": expect\.goal: unknown expectation/);
    expect(loadError(`- name: a\n${BOOKING}\n  expect: { said: ["(unclosed"] }`)).toMatch(/^x\.yaml: case 1 "a": expect\.said\[0\]: invalid regular expression/);
    expect(loadError(`- name: a\n${BOOKING}\n  expect: { pressed: "1a" }`)).toMatch(/expect\.pressed: expected the keys pressed/);
    expect(loadError(`- name: a\n${BOOKING}\n  expect: {}`)).toMatch(/expect: names nothing to check/);
    expect(loadError(`- name: ok\n${BOOKING}\n  expect: { goal_completed: true }\n- name: b\n  call: { phone_number: "12345", task: x }\n  expect: { status: busy }`)).toMatch(
      /^x\.yaml: case 2 "b": call\.phone_number: phone_number must be an E\.164/,
    );
    expect(loadError('- name: a\n  call: { phone_number: "+15550100", task: x, persona: { nickname: Al } }\n  expect: { status: busy }')).toMatch(/call\.persona\.nickname: unknown persona field/);
    expect(loadError('- name: a\n  call: { phone_number: "+15550100", task: x, max_queue_time: soon }\n  expect: { status: busy }')).toMatch(/call\.max_queue_time: expected a number of seconds/);
    expect(loadError('- name: a\n  call: { phone_number: +15550100, task: x }\n  expect: { status: busy }')).toMatch(/call\.phone_number: expected a string/);
    expect(loadError('just: a mapping')).toMatch(/^x\.yaml: expected a list of test cases/);
    expect(loadError('- name: [unclosed')).toMatch(/^x\.yaml: not valid YAML/);
  });

  it('never_said is a literal blind to case and separators, or a /regex/', () => {
    const [c] = parseScenarioTests(`- name: a\n${BOOKING}\n  expect: { never_said: ["+46 70-123 45 67", "/\\\\bAB\\\\d+/"] }`, 'x.yaml');
    const [phone, re] = c.expect.never_said!;
    expect(phone.test('Call me on 46701234567.')).toBe(true);
    expect(phone.test('Call me on 0701 23 45 67.')).toBe(false);
    expect(re.test('reference AB123')).toBe(true);
    expect(re.test('reference AB 123')).toBe(false);
  });

  it('every shipped example file loads', async () => {
    const cases = await loadScenarioTests([path.join(ROOT, 'scenarios/tests')]);
    expect(new Set(cases.map((c) => path.basename(c.file)))).toEqual(new Set(['clinic.yaml', 'outcomes.yaml', 'privacy.yaml', 'receptionist.yaml']));
  });
});

describe('running scenario tests', { timeout: 90_000 }, () => {
  it('a shipped example file passes with the rules brain', async () => {
    const cases = await loadScenarioTests([path.join(ROOT, 'scenarios/tests/receptionist.yaml')]);
    const run = await runScenarioTests(cases, { env: offlineEnv() });
    expect(run.brain).toBe('rules');
    expect(run.results.map((r) => [r.name, r.passed, r.failures])).toEqual(cases.map((c) => [c.name, true, []]));
    expect(run.results[0].seconds).toBeGreaterThan(0);
    expect(formatReport(run)).toMatch(/receptionist\.yaml\s+confirms a booking\s+PASS\s+\d+\n/);
  });

  it('reports a failing case FAIL with the reason', async () => {
    const run = await runScenarioTests(parseScenarioTests(MIXED, 'mixed.yaml'), { env: offlineEnv() });
    const [ok, goal, word] = run.results;
    expect(ok.passed).toBe(true);
    expect(goal.passed).toBe(false);
    expect(goal.failures).toEqual(['goal_completed: expected false, got true']);
    expect(word.passed).toBe(false);
    expect(word.failures).toHaveLength(1);
    expect(word.failures[0]).toMatch(/^never_said: the agent said "Tuesday": ".*Tuesday at 7 pm/);
    expect([run.passed, run.failed]).toEqual([1, 2]);
    const table = formatReport(run, { transcripts: true });
    expect(table).toMatch(/wrongly expects failure\s+FAIL\s+\d+\s+goal_completed: expected false, got true/);
    expect(table).toContain('1 passed, 2 failed');
    expect(table).toMatch(/agent +: Hi, this is an assistant/);
  });

  it('pressed, transferred and end_reason come from the call and its commands', async () => {
    const cases = await loadScenarioTests([path.join(ROOT, 'scenarios/tests/clinic.yaml')]);
    const run = await runScenarioTests(cases, { env: offlineEnv() });
    expect(run.results.map((r) => [r.name, r.failures])).toEqual(cases.map((c) => [c.name, []]));
    expect(run.results[0].pressed).toBe('11');
  });
});

describe('switchboard scenarios test', { timeout: 120_000 }, () => {
  it('prints the table and exits 0 when every case passes', () => {
    const r = cli(['scenarios', 'test', 'scenarios/tests/outcomes.yaml']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^FILE\s+CASE\s+RESULT\s+SECS\s+REASONS/);
    expect(r.stdout).toMatch(/outcomes\.yaml\s+a busy line\s+PASS/);
    expect(r.stdout).toContain('5 passed, 0 failed');
  });

  it('exits 1 when a case fails', () => {
    const r = cli(['scenarios', 'test', tmpFile('mixed.yaml', MIXED)]);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/forbids a word the agent says\s+FAIL\s+\d+\s+never_said: the agent said "Tuesday"/);
  });

  it('exits 2 on a bad file, naming the field', () => {
    const file = tmpFile('bad.yaml', '- name: a\n  call: { phone_number: "+15550100", task: x }\n  expect: { transfered: true }\n');
    const r = cli(['scenarios', 'test', file]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${file}: case 1 "a": expect.transfered: unknown expectation`);
    expect(r.stdout).toBe('');
  });
});
