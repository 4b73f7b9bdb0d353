/**
 * One turn, pinned by its exact event sequence: the callee greets, the agent answers (its speech queued,
 * played, heard in full, entered into the conversation), the callee replies, the agent ends the call.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScriptedBrain, engineHarness, type EngineHarness } from './session-harness.js';

const brain = new ScriptedBrain((input) => {
  if (input.type !== 'speech') return undefined;
  if (/how can i help/i.test(input.text)) return [{ type: 'say', text: 'Hi, I am calling to confirm a booking.' }];
  return [
    { type: 'say', text: 'Thank you, goodbye.' },
    { type: 'end', goalCompleted: true, reason: 'task_completed' },
  ];
});

describe('a turn', () => {
  let h: EngineHarness;
  beforeAll(async () => {
    h = await engineHarness(brain);
  });
  afterAll(() => h.close());

  it('runs listening → thinking → speaking → listening, and ends on the agent’s verdict after its goodbye was heard', async () => {
    const c = await h.call({ phone_number: '+15550100', task: 'Confirm my booking' });
    expect(c).toMatchObject({ status: 'completed', end_reason: 'task_completed' });
    expect(h.events(c.id)).toEqual([
      'carrier: ringing',
      'carrier: answered',
      'agent: initializing -> listening',
      // The brain's opening turn: it waits for the callee (nothing to say).
      'agent: listening -> thinking',
      'agent: thinking -> listening',
      'transcribed: "Good evening, Bella Cucina, Anna speaking. How can I help you?"',
      'item callee: "Good evening, Bella Cucina, Anna speaking. How can I help you?"',
      'agent: listening -> thinking',
      'speech 1 created (brain)',
      'agent: thinking -> speaking',
      'item agent: "Hi, I am calling to confirm a booking."',
      'speech 1 done: "Hi, I am calling to confirm a booking."',
      'agent: speaking -> thinking',
      'agent: thinking -> listening',
      'transcribed: "Of course. What name is the booking under?"',
      'item callee: "Of course. What name is the booking under?"',
      'agent: listening -> thinking',
      'speech 2 created (brain)',
      'agent: thinking -> speaking',
      'item agent: "Thank you, goodbye."',
      'speech 2 done: "Thank you, goodbye."',
      'agent: speaking -> thinking',
      // Hanging up is part of carrying out `end`: the line is gone before the action reports back.
      'carrier: ended',
      'user: listening -> away',
      'act end true task_completed: ok',
      'agent: thinking -> listening',
      'close: agent (task_completed)',
    ]);
    // The transcript is what entered the conversation, in order.
    expect(c.transcripts.map((x: { role: string; text: string }) => `${x.role}: ${x.text}`)).toEqual([
      'user: Good evening, Bella Cucina, Anna speaking. How can I help you?',
      'assistant: Hi, I am calling to confirm a booking.',
      'user: Of course. What name is the booking under?',
      'assistant: Thank you, goodbye.',
    ]);
  });
});
