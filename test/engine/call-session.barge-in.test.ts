/**
 * Barge-in, pinned by its exact event sequence: the agent talks over the clinic's welcome, the phone
 * menu's prompt starts over it, the agent's speech is cut (only what was heard is kept), its turn is
 * dropped, and the next turn answers the prompt.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VirtualClock } from '../../src/lib/clock.js';
import { ScriptedBrain, engineHarness, from, type EngineHarness } from './session-harness.js';

let clock: VirtualClock;

const brain = new ScriptedBrain((input) => {
  if (input.type === 'answered') {
    // Half a second into the clinic's welcome the agent starts talking; the menu prompt follows the welcome.
    return (async function* () {
      await clock.sleep(500);
      yield { type: 'say', text: LONG } as const;
      yield { type: 'say', text: 'This second sentence is never said.' } as const;
    })();
  }
  if (input.type !== 'speech') return undefined;
  if (/press 0/i.test(input.text)) return [{ type: 'end', goalCompleted: false, reason: 'test_done' }];
  return undefined;
});

describe('barge-in', () => {
  let h: EngineHarness;
  beforeAll(async () => {
    h = await engineHarness(brain);
    clock = h.t.clock;
  });
  afterAll(() => h.close());

  it('cuts the speech where the callee began, keeps only what was heard, drops the rest of the turn', async () => {
    const c = await h.call({ phone_number: '+15550101', task: 'Book an appointment' });
    expect(c).toMatchObject({ status: 'completed', end_reason: 'test_done' });
    const events = from(h.events(c.id), 'speech 1 created (brain)');
    expect(events).toEqual(BARGE_IN);
    // The transcript holds the part of the agent's sentence the callee heard, never the unsaid rest.
    const agent = c.transcripts.filter((x: { role: string }) => x.role === 'assistant').map((x: { text: string }) => x.text);
    expect(agent).toEqual([HEARD]);
  });
});

const LONG = 'Hello, I am calling on behalf of Alex Smith to book an appointment with a doctor at the clinic for some time next week in the morning if possible please.';
const HEARD = 'Hello, I am calling on behalf of Alex Smith to book an appointment with a doctor';
const WELCOME = 'Thank you for calling Northside Family Clinic. If this is an emergency, please hang up and dial 911.';
const MENU = 'For appointments, press 1. For prescription refills, press 2. For billing questions, press 3. To speak to reception, press 0.';
const BARGE_IN = [
  'speech 1 created (brain)',
  'agent: thinking -> speaking',
  'speech 2 created (brain)',
  // The welcome ends while the agent talks: it waits for the agent's turn to finish.
  `transcribed: "${WELCOME}"`,
  `item callee: "${WELCOME}"`,
  // The menu prompt starts over the agent: barge-in.
  'user: listening -> speaking',
  `item agent: "${HEARD}"`,
  `speech 1 interrupted: "${HEARD}"`,
  'speech 2 interrupted: ""',
  'agent: speaking -> thinking',
  'agent: thinking -> listening',
  // The welcome's turn: nothing to do.
  'agent: listening -> thinking',
  'agent: thinking -> listening',
  `transcribed: "${MENU}"`,
  'user: speaking -> listening',
  `item callee: "${MENU}"`,
  'agent: listening -> thinking',
  'carrier: ended',
  'user: listening -> away',
  'act end false test_done: ok',
  'agent: thinking -> listening',
  'close: agent (test_done)',
];
