/**
 * Keypad entry, pinned by its exact event sequence: the agent presses a menu option, then types the
 * caller's personal identity number (the digits never appear in an event or the transcript); where the
 * share policy forbids it, the brain gets the refusal back as a result and says so instead.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrainTurn } from '../../src/engine/brain.js';
import { ScriptedBrain, engineHarness, from, type EngineHarness } from './session-harness.js';

const brain = new ScriptedBrain((input) => {
  if (input.type !== 'speech') return undefined;
  if (/press 1/i.test(input.text)) return [{ type: 'press', digits: '1' }];
  if (/personal identity number/i.test(input.text)) {
    return (async function* (): BrainTurn {
      const r = yield { type: 'press_field', field: 'personal_security_number' } as const;
      if (r && !r.ok) {
        yield { type: 'say', text: 'I am sorry, I cannot enter that.' } as const;
        yield { type: 'end', goalCompleted: false, reason: 'cannot_enter' } as const;
      }
    })();
  }
  if (/^thank you\.$/i.test(input.text.trim())) return [{ type: 'end', goalCompleted: true, reason: 'entered' }];
  return undefined;
});

const persona = { name: 'Alex Smith', personal_security_number: '198001011234' };

describe('keypad entry', () => {
  let h: EngineHarness;
  beforeAll(async () => {
    h = await engineHarness(brain);
  });
  afterAll(() => h.close());

  it('presses the menu option, types the personal identity number, and the menu takes it', async () => {
    const c = await h.call({ phone_number: '+15550105', task: 'Check my prescription', persona, share_policy: { pnr_voice: false, pnr_dtmf: true } });
    expect(c).toMatchObject({ status: 'completed', end_reason: 'entered' });
    const events = from(h.events(c.id), 'transcribed: "To check on a prescription, press 1. For our opening hours, press 2. To speak to a pharmacist, press 0."');
    expect(events).toEqual(ENTERED);
    expect(JSON.stringify(h.events(c.id))).not.toContain('198001011234');
    expect(c.transcripts.map((x: { text: string }) => x.text)).toContain('[entered personal identity number by keypad]');
  });

  it('gives the brain the refusal as a result when the share policy forbids the keypad', async () => {
    const c = await h.call({ phone_number: '+15550105', task: 'Check my prescription', persona, share_policy: { pnr_voice: false, pnr_dtmf: false } });
    expect(c).toMatchObject({ status: 'completed', end_reason: 'cannot_enter' });
    const events = from(h.events(c.id), 'transcribed: "Please enter your personal identity number, followed by the hash key."');
    expect(events).toEqual(REFUSED);
    expect(brain.results.filter((r) => r.action === 'press_field').at(-1)).toEqual({
      action: 'press_field',
      result: { ok: false, error: 'not_allowed', message: 'The personal identity number may not be entered by keypad on this call.' },
    });
  });
});

describe('keypad entry on an answering machine', () => {
  // After the beep the brain tries to type the number: the tones would be recorded with the message.
  const vmBrain = new ScriptedBrain((input) => {
    if (input.type !== 'speech' || !/beep/i.test(input.text)) return undefined;
    return [{ type: 'press_field', field: 'personal_security_number' }, { type: 'end', goalCompleted: false, reason: 'voicemail' }];
  });
  let h: EngineHarness;
  beforeAll(async () => {
    h = await engineHarness(vmBrain);
  });
  afterAll(() => h.close());

  it('is refused even where the share policy allows the keypad', async () => {
    const c = await h.call({ phone_number: '+15550104', task: 'Check my prescription', persona, share_policy: { pnr_voice: false, pnr_dtmf: true } });
    expect(c).toMatchObject({ answered_by: 'machine', end_reason: 'voicemail' });
    expect(vmBrain.results.find((r) => r.action === 'press_field')).toEqual({
      action: 'press_field',
      result: { ok: false, error: 'not_allowed', message: 'The personal identity number is not entered on an answering machine.' },
    });
    expect(c.transcripts.map((x: { text: string }) => x.text)).not.toContain('[entered personal identity number by keypad]');
  });
});

const ENTERED = [
  'transcribed: "To check on a prescription, press 1. For our opening hours, press 2. To speak to a pharmacist, press 0."',
  'item callee: "To check on a prescription, press 1. For our opening hours, press 2. To speak to a pharmacist, press 0."',
  'agent: listening -> thinking',
  'act press 1: ok',
  'agent: thinking -> listening',
  'transcribed: "Please enter your personal identity number, followed by the hash key."',
  'item callee: "Please enter your personal identity number, followed by the hash key."',
  'agent: listening -> thinking',
  // Named, never typed out: the digits stay out of every event.
  'act press_field personal_security_number: ok',
  'agent: thinking -> listening',
  'transcribed: "Thank you."',
  'item callee: "Thank you."',
  'agent: listening -> thinking',
  'carrier: ended',
  'user: listening -> away',
  'act end true entered: ok',
  'agent: thinking -> listening',
  'close: agent (entered)',
];

const REFUSED = [
  'transcribed: "Please enter your personal identity number, followed by the hash key."',
  'item callee: "Please enter your personal identity number, followed by the hash key."',
  'agent: listening -> thinking',
  'act press_field personal_security_number: not_allowed (The personal identity number may not be entered by keypad on this call.)',
  'speech 1 created (brain)',
  'agent: thinking -> speaking',
  'item agent: "I am sorry, I cannot enter that."',
  'speech 1 done: "I am sorry, I cannot enter that."',
  'agent: speaking -> thinking',
  'carrier: ended',
  'user: listening -> away',
  'act end false cannot_enter: ok',
  'agent: thinking -> listening',
  'close: agent (cannot_enter)',
];
