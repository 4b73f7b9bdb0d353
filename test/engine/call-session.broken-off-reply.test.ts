/**
 * A reply the model broke off mid-clause (its stream failed or stalled): the brain breaks the speech's text off
 * (`TextStream.breakOff`) and the agent says its whole clauses only — not the fragment after the last one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TextStream } from '../../src/lib/text-stream.js';
import { ScriptedBrain, engineHarness, from, type EngineHarness } from './session-harness.js';

const FIRST = 'Hi, this is Alex calling about my booking.';

const brain = new ScriptedBrain((input) => {
  if (input.type === 'speech' && /how can i help/i.test(input.text)) {
    const reply = new TextStream();
    reply.push(`${FIRST} Is it`);
    reply.breakOff();
    return [{ type: 'say', text: reply }];
  }
  return undefined;
});

describe('a reply broken off mid-clause', () => {
  let h: EngineHarness;
  beforeAll(async () => {
    h = await engineHarness(brain);
  });
  afterAll(async () => {
    await h.close();
  });

  it('says its whole clauses and not the fragment after them', async () => {
    const c = await h.call({ phone_number: '+15550100', task: 'Confirm my booking' });
    const events = from(h.events(c.id), 'speech 1 created (brain)');
    expect(events.slice(0, 3)).toEqual(['speech 1 created (brain)', 'agent: thinking -> speaking', `item agent: "${FIRST}"`]);
    expect(events.join('\n')).not.toContain('Is it');
    const agent = c.transcripts.filter((x: { role: string }) => x.role === 'assistant').map((x: { text: string }) => x.text);
    expect(agent).toEqual([FIRST]);
  });
});
