/**
 * Keypad-entry steps in the simulated phone menu (`collect`): the schema, and a call through City Pharmacy
 * (+15550105) with the rules brain typing the personal identity number when the menu asks for it.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScenarios, parseScenarios, ScenarioError } from '../../src/carriers/sim/index.js';
import { brief, runCall, SCENARIO_DIR } from './sim-harness.js';

function errorOf(f: () => unknown): ScenarioError {
  try {
    f();
  } catch (e) {
    if (e instanceof ScenarioError) return e;
    throw e;
  }
  throw new Error('expected a ScenarioError');
}

const pharmacyText = () => readFile(join(SCENARIO_DIR, 'pharmacy.yaml'), 'utf8');

describe('keypad entry in a phone menu', () => {
  it('ships City Pharmacy at +15550105 with a collect step leading to the queue', async () => {
    const s = (await loadScenarios(SCENARIO_DIR)).find((x) => x.number === '+15550105');
    expect(s?.kind).toBe('ivr');
    if (s?.kind !== 'ivr') return;
    const target = s.ivr.menus.main.options['1'];
    expect(target).toMatchObject({ collect: { then: 'queue', prompt: expect.stringMatching(/personal identity number.*hash/) } });
  });

  it('checks where a collect step leads, its fields, and minDigits against maxDigits', async () => {
    const text = await pharmacyText();
    expect(errorOf(() => parseScenarios(text.replace('then: queue', 'then: nowhere'), 'p.yaml')).field).toBe('ivr.menus.main.options.1');
    expect(errorOf(() => parseScenarios(text.replace('minDigits: 10', 'minDigits: 13'), 'p.yaml')).field).toBe('ivr.menus.main.options.1.collect.minDigits');
    expect(errorOf(() => parseScenarios(text.replace('maxDigits: 12', 'maxDigits: 12\n            colour: red'), 'p.yaml')).field).toMatch(/^ivr\.menus\.main\.options\.1/);
  });

  it('the rules brain presses 1, types the personal identity number (no hash needed), waits on hold and hears the prescription is ready', async () => {
    const r = await runCall(
      '+15550105',
      brief({ task: 'Check whether my prescription is ready to pick up', persona: { name: 'Anna Berg' }, keypadFields: ['personal_security_number'] }),
      { keypadDigits: '198001011234' },
    );
    expect(r.status).toBe('completed');
    expect(r.actions).toContainEqual({ type: 'press', digits: '1' });
    expect(r.actions).toContainEqual({ type: 'press_field', field: 'personal_security_number' });
    const pressed = r.line.filter((l) => l.who === 'agent' && l.text.startsWith('[pressed')).map((l) => l.text.slice(9, -1)).join('');
    expect(pressed).toBe('1198001011234');
    const callee = r.transcript.filter((t) => t.role === 'callee').map((t) => t.text);
    expect(callee).toContain('Thank you.');
    expect(callee.some((t) => /prescription is ready/.test(t))).toBe(true);
    expect(callee).not.toContain('Sorry, that is not a valid entry.');
    expect(r.outcome?.goalCompleted).toBe(true);
  });

  it('ends the entry at the hash key, and an entry that is too short is refused and asked for again', async () => {
    // keypadDigits with a trailing # (the hash ends the entry at once); then a short one that is refused.
    const ok = await runCall('+15550105', brief({ task: 'Check whether my prescription is ready', keypadFields: ['personal_security_number'] }), { keypadDigits: '8001011234#' });
    expect(ok.transcript.filter((t) => t.role === 'callee').map((t) => t.text)).toContain('Thank you.');
    const short = await runCall('+15550105', brief({ task: 'Check whether my prescription is ready', keypadFields: ['personal_security_number'] }), { keypadDigits: '123#' });
    const callee = short.transcript.filter((t) => t.role === 'callee').map((t) => t.text);
    expect(callee).toContain('Sorry, that is not a valid entry.');
    expect(callee).not.toContain('Thank you.');
    expect(callee.at(-1)).toBe('We did not receive your entry. Goodbye.');
  });
});
