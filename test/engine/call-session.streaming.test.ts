/**
 * The model's text streams into speech clause by clause: the first clause is spoken (and heard) while the
 * brain has not yet written the rest, all within one speech handle.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TextStream } from '../../src/lib/text-stream.js';
import { ScriptedBrain, engineHarness, from, line, type EngineHarness } from './session-harness.js';

const FIRST = 'Hi, this is Alex calling about my booking.';
const REST = 'Is it still on for Tuesday?';

/** What happened, in order: the session's events and the brain's own steps. */
const order: string[] = [];
let firstHeard!: () => void;
const heard = new Promise<void>((r) => (firstHeard = r));

const brain = new ScriptedBrain((input) => {
  if (input.type !== 'speech') return undefined;
  if (/how can i help/i.test(input.text)) {
    return (async function* () {
      const text = new TextStream();
      text.push('Hi, this is Alex ');
      text.push('calling about my booking. Is it');
      yield { type: 'say', text } as const;
      // The model is still "writing": the rest comes only once the first clause was heard.
      await heard;
      order.push('brain: writes the rest');
      text.push(' still on for Tuesday?');
      text.end();
    })();
  }
  return [{ type: 'end', goalCompleted: true, reason: 'task_completed' }];
});

describe('streaming speech', () => {
  let h: EngineHarness;
  beforeAll(async () => {
    h = await engineHarness(brain, {}, {}, (_callId, e) => {
      order.push(line(e));
      if (e.type === 'conversation_item_added' && e.role === 'agent' && e.text === FIRST) firstHeard();
    });
  });
  afterAll(() => h.close());

  it('speaks the first clause while the brain is still writing the rest, in one speech handle', async () => {
    const c = await h.call({ phone_number: '+15550100', task: 'Confirm my booking' });
    expect(c.status).toBe('completed');
    const seq = from(order, 'speech 1 created (brain)');
    expect(seq.slice(0, seq.indexOf('agent: speaking -> thinking') + 1)).toEqual([
      'speech 1 created (brain)',
      'agent: thinking -> speaking',
      `item agent: "${FIRST}"`,
      'brain: writes the rest',
      `item agent: "${REST}"`,
      `speech 1 done: "${FIRST} ${REST}"`,
      'agent: speaking -> thinking',
    ]);
    expect(c.transcripts.filter((x: { role: string }) => x.role === 'assistant').map((x: { text: string }) => x.text)).toEqual([FIRST, REST]);
  });
});
