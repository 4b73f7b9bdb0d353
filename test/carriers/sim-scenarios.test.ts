import { describe, it, expect } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseScenarios, loadScenarios, ScenarioError } from '../../src/carriers/sim/index.js';
import { SimCarrier } from '../../src/carriers/sim/index.js';
import { VirtualClock } from '../../src/lib/clock.js';
import { SCENARIO_DIR, silentLog } from './sim-harness.js';

function errorOf(f: () => unknown): ScenarioError {
  try {
    f();
  } catch (e) {
    if (e instanceof ScenarioError) return e;
    throw e;
  }
  throw new Error('expected a ScenarioError');
}

const busy = 'number: "+15550102"\nname: Busy\nkind: busy\nlanguage: en\ndescription: busy\n';

describe('scenario files', () => {
  it('ships the documented numbers', async () => {
    const all = await loadScenarios(SCENARIO_DIR);
    const kinds = Object.fromEntries(all.map((s) => [s.number, s.kind]));
    expect(kinds).toMatchObject({
      '+15550100': 'human',
      '+15550101': 'ivr',
      '+15550102': 'busy',
      '+15550103': 'no_answer',
      '+15550104': 'voicemail',
      '+15550199': 'invalid',
      '+46701740605': 'human',
    });
    expect(all.find((s) => s.number === '+46701740605')?.language).toBe('sv');
    for (const s of all) expect(s.name && s.description).toBeTruthy();
  });

  it('names the file and the field of a missing value', () => {
    const e = errorOf(() => parseScenarios(busy.replace('name: Busy\n', ''), 'bad.yaml'));
    expect(e.file).toBe('bad.yaml');
    expect(e.field).toBe('name');
    expect(e.message).toMatch(/^bad\.yaml: name: /);
  });

  it('refuses a file that is not valid YAML, or repeats a key, saying where', () => {
    const unclosed = errorOf(() => parseScenarios('- name: [unclosed', 'x.yaml'));
    expect(unclosed.field).toBe('(file)');
    expect(unclosed.message).toMatch(/^x\.yaml: \(file\): not valid YAML: .*\(2:1\)$/);
    expect(errorOf(() => parseScenarios(`${busy}name: Again\n`, 'dup.yaml')).message).toMatch(/not valid YAML: duplicated mapping key/);
    // YAML 1.2's plain types: a date or a yes stays text, as the schemas expect.
    const typed = parseScenarios(busy.replace('name: Busy', 'name: 2026-05-04'), 'f.yaml')[0];
    expect(typed.name).toBe('2026-05-04');
  });

  it('names an unknown kind, a bad number and a nested field', () => {
    expect(errorOf(() => parseScenarios(busy.replace('kind: busy', 'kind: robot'), 'f.yaml')).field).toBe('kind');
    expect(errorOf(() => parseScenarios(busy.replace('+15550102', '5550102'), 'f.yaml')).field).toBe('number');
    const vm = 'number: "+15550104"\nname: VM\nkind: voicemail\nlanguage: en\ndescription: d\nvoicemail:\n  greeting: hi\n  maxMessageSeconds: "long"\n';
    expect(errorOf(() => parseScenarios(vm, 'vm.yaml')).field).toBe('voicemail.maxMessageSeconds');
    expect(errorOf(() => parseScenarios(`- ${busy.replace(/\n(?=.)/g, '\n  ')}- {kind: busy}\n`, 'list.yaml')).field).toMatch(/^\[1\]/);
  });

  it('checks that phone-menu options lead somewhere', async () => {
    const { readFile } = await import('node:fs/promises');
    const text = await readFile(join(SCENARIO_DIR, 'northside-clinic.yaml'), 'utf8');
    const e = errorOf(() => parseScenarios(text.replace('"1": appointments', '"1": appointmentz'), 'ivr.yaml'));
    expect(e.field).toBe('ivr.menus.main.options.1');
  });

  it('rejects a number used twice across files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sb-scen-'));
    await writeFile(join(dir, 'a.yaml'), busy);
    await writeFile(join(dir, 'b.yaml'), busy);
    await expect(loadScenarios(dir)).rejects.toThrow(/already used/);
  });

  it('tells which destinations exist', async () => {
    const carrier = new SimCarrier({ scenarios: await loadScenarios(SCENARIO_DIR), clock: new VirtualClock(), log: silentLog });
    expect(carrier.capabilities).toEqual({
      dtmfOut: true,
      textMode: true,
      mediaStream: true,
      knowsDestinations: true,
      transfer: true,
      userOnCall: true,
      userOnCallThreeWay: true,
      inbound: true,
      callerIdVerification: true,
      recording: true,
    });
    expect(carrier.checkDestination('+15550100')).toBeNull();
    expect(carrier.checkDestination('+15557777')).toMatch(/scenarios/);
  });
});

describe('caller-ID verification on the simulated network', () => {
  it('verifies a number whose scenario types the code; everything else fails, after the call on the clock', async () => {
    const clock = new VirtualClock();
    const carrier = new SimCarrier({ scenarios: await loadScenarios(SCENARIO_DIR), clock, log: silentLog });
    const verify = (phoneNumber: string) => carrier.verifyCallerId({ verificationId: 'v', phoneNumber, code: '123456' });
    const start = clock.now();
    expect(await verify('+15550160')).toBe('verified');
    expect(clock.now() - start).toBeGreaterThanOrEqual(3000);
    for (const n of ['+15550161', '+15550100', '+15550102', '+15550103', '+15550104', '+15550199', '+15550150', '+15557777']) {
      expect(await verify(n), n).toBe('failed');
    }
  });

  it('checks the verification field', () => {
    const bad = 'number: "+15550160"\nname: X\nkind: human\nlanguage: en\ndescription: x\nverification: maybe\nperson:\n  greeting: Hi\n  intents: [{intent: ask, keywords: [a], reply: b}]\n  lines: {pardon: a, cannotHelp: b, stillThere: c, goodbye: d}\n';
    expect(errorOf(() => parseScenarios(bad, 'x.yaml')).field).toBe('verification');
  });
});

