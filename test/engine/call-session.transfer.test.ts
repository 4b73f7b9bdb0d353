/**
 * Transfers, pinned by their exact event sequences: the agent hands the callee over (the call closes as
 * transferred); a transfer the network cannot complete comes back to the brain as a failed result, and
 * the agent carries on.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrainTurn } from '../../src/engine/brain.js';
import { ScriptedBrain, engineHarness, from, type EngineHarness } from './session-harness.js';

const brain = new ScriptedBrain((input, ctx) => {
  if (input.type !== 'speech') return undefined;
  if (/how can i help/i.test(input.text)) {
    const to = /\+\d+/.exec(`${ctx.brief.task}`)?.[0] ?? ctx.brief.transferNumber ?? '';
    return (async function* (): BrainTurn {
      yield { type: 'say', text: 'Let me put you through.' } as const;
      const r = yield { type: 'transfer', to, warm: false } as const;
      if (r && !r.ok) {
        yield { type: 'say', text: 'Sorry, the transfer did not work. Goodbye.' } as const;
        yield { type: 'end', goalCompleted: false, reason: 'transfer_failed' } as const;
      }
    })();
  }
  return undefined;
});

describe('transfer', () => {
  let h: EngineHarness;
  beforeAll(async () => {
    h = await engineHarness(brain);
  });
  afterAll(() => h.close());

  it('hands the callee over: the call closes as transferred', async () => {
    const c = await h.call({ phone_number: '+15550100', task: 'Put them through', transfer_number: '+15550101' });
    expect(c).toMatchObject({ status: 'completed', outcome: 'transferred', end_reason: 'transferred' });
    expect(from(h.events(c.id), 'transcribed: "Good evening, Bella Cucina, Anna speaking. How can I help you?"')).toEqual(DONE);
  });

  it('a transfer that fails comes back to the brain as a result; the agent says so and ends', async () => {
    const c = await h.call({ phone_number: '+15550100', task: 'Put them through to +15550999' });
    expect(c).toMatchObject({ status: 'completed', end_reason: 'transfer_failed' });
    expect(c.outcome).not.toBe('transferred');
    expect(brain.results.filter((r) => r.action === 'transfer').at(-1)?.result).toEqual({ ok: false, error: 'failed', message: 'The transfer failed.' });
    expect(from(h.events(c.id), 'transcribed: "Good evening, Bella Cucina, Anna speaking. How can I help you?"')).toEqual(FAILED);
  });
});

const DONE = [
  'transcribed: "Good evening, Bella Cucina, Anna speaking. How can I help you?"',
  'item callee: "Good evening, Bella Cucina, Anna speaking. How can I help you?"',
  'agent: listening -> thinking',
  'speech 1 created (brain)',
  'agent: thinking -> speaking',
  'item agent: "Let me put you through."',
  'speech 1 done: "Let me put you through."',
  'agent: speaking -> thinking',
  // The network bridges the callee elsewhere: the agent's line ends as part of the transfer.
  'carrier: ended',
  'user: listening -> away',
  'act transfer +15550101 false: ok',
  'agent: thinking -> listening',
  'close: transfer (transferred)',
];
const FAILED = [
  'transcribed: "Good evening, Bella Cucina, Anna speaking. How can I help you?"',
  'item callee: "Good evening, Bella Cucina, Anna speaking. How can I help you?"',
  'agent: listening -> thinking',
  'speech 1 created (brain)',
  'agent: thinking -> speaking',
  'item agent: "Let me put you through."',
  'speech 1 done: "Let me put you through."',
  'agent: speaking -> thinking',
  'error in transfer: transfer destination is not reachable',
  // The result goes back to the brain, which carries on in the same turn.
  'act transfer +15550999 false: failed (The transfer failed.)',
  'speech 2 created (brain)',
  'agent: thinking -> speaking',
  'item agent: "Sorry, the transfer did not work. Goodbye."',
  'speech 2 done: "Sorry, the transfer did not work. Goodbye."',
  'agent: speaking -> thinking',
  'carrier: ended',
  'user: listening -> away',
  'act end false transfer_failed: ok',
  'agent: thinking -> listening',
  'close: agent (transfer_failed)',
];
