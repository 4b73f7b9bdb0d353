/**
 * A reply whose stream stalls after its first clause (the model stops writing, its connection still open):
 * the first clause is said and kept; when the call ends (here the callee gives up and hangs up) the speech is
 * let go at once — the clause stream stops waiting for text that may never come — and the call is finished
 * and reported, with only what was heard in its transcript. (A real model's stall ends sooner: the model's
 * client gives up after its idle timeout, and the callee's words queued meanwhile are answered.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TextStream } from '../../src/lib/text-stream.js';
import { ScriptedBrain, engineHarness, from, type EngineHarness } from './session-harness.js';

const FIRST = 'Hi, this is Alex calling about my booking.';
/** The stream the model never finishes: held so that the test can end it once the call is over. */
const stalled = new TextStream();

const brain = new ScriptedBrain((input) => {
  if (input.type === 'speech' && /how can i help/i.test(input.text)) {
    stalled.push(`${FIRST} Is it`);
    return [{ type: 'say', text: stalled }];
  }
  return undefined;
});

describe('a reply stream that stalls', () => {
  let h: EngineHarness;
  beforeAll(async () => {
    h = await engineHarness(brain);
  });
  afterAll(async () => {
    stalled.end();
    await h.close();
  });

  it('says its first clause, and is let go when the call ends: the call finishes with what was heard', async () => {
    const c = await h.call({ phone_number: '+15550100', task: 'Confirm my booking' });
    expect(c).toMatchObject({ status: 'completed', end_reason: 'callee_hung_up' });
    const events = from(h.events(c.id), 'speech 1 created (brain)');
    expect(events.slice(0, 3)).toEqual(['speech 1 created (brain)', 'agent: thinking -> speaking', `item agent: "${FIRST}"`]);
    // Cut only once the line is gone: nothing was playing, so the callee's words did not talk over it.
    expect(events.slice(events.indexOf('carrier: ended'))).toEqual([
      'carrier: ended',
      `speech 1 interrupted: "${FIRST}"`,
      'agent: speaking -> thinking',
      'agent: thinking -> listening',
      'close: callee (callee_hung_up)',
    ]);
    const agent = c.transcripts.filter((x: { role: string }) => x.role === 'assistant').map((x: { text: string }) => x.text);
    expect(agent).toEqual([FIRST]);
  });
});
