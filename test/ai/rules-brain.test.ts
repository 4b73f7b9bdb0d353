import { describe, it, expect } from 'vitest';
import { RulesBrain } from '../../src/ai/rules/index.js';
import type { AgentAction, AgentBrief, BrainInput, BrainSession } from '../../src/engine/brain.js';
import { VirtualClock } from '../../src/lib/clock.js';

function brief(over: Partial<AgentBrief> = {}): AgentBrief {
  return { task: 'Confirm my booking for Tuesday at 7 pm', additionalPrompt: '', language: 'en', persona: {}, keypadFields: [], ...over };
}

async function turn(s: BrainSession, b: AgentBrief, input: BrainInput, signal = new AbortController().signal): Promise<AgentAction[]> {
  const out: AgentAction[] = [];
  for await (const a of s.next(input, { brief: b, history: [], signal })) out.push(a);
  return out;
}
const speech = (text: string): BrainInput => ({ type: 'speech', text });

describe('rules brain', () => {
  it('waits for the callee to speak, then greets and states the task', async () => {
    const b = brief({ persona: { name: 'John Smith' } });
    const s = new RulesBrain({ clock: new VirtualClock() }).startCall(b);
    const ctl = new AbortController();
    const answered = turn(s, b, { type: 'answered', answeredBy: 'human' }, ctl.signal);
    ctl.abort(); // the callee spoke first
    expect(await answered).toEqual([]);
    expect(await turn(s, b, speech('Hello, Bella Cucina, how can I help?'))).toEqual([
      { type: 'human_answered' },
      { type: 'say', text: "Hi, this is an assistant calling on behalf of John Smith. I'm calling to confirm the booking for Tuesday at 7 pm." },
    ]);
  });

  it('speaks first to a callee who stays silent', async () => {
    const b = brief();
    const s = new RulesBrain({ clock: new VirtualClock(), greetAfterMs: 3000 }).startCall(b);
    const acts = await turn(s, b, { type: 'answered', answeredBy: 'human' });
    expect(acts[0]).toMatchObject({ type: 'say', text: expect.stringMatching(/calling to confirm the booking/) });
  });

  it('answers from the persona and the task, and will not share what it lacks', async () => {
    const b = brief({ task: 'Confirm my booking, reference QR-552, on Friday at 8 pm', persona: { name: 'Ann', address: '1 Main St' } });
    const s = new RulesBrain().startCall(b);
    expect(await turn(s, b, speech('What name is it under?'))).toEqual([{ type: 'say', text: "It's Ann." }]);
    expect(await turn(s, b, speech('And the booking reference?'))).toEqual([{ type: 'say', text: 'The booking reference is QR-552.' }]);
    expect(await turn(s, b, speech('What time was the booking for?'))).toEqual([{ type: 'say', text: "It's on Friday at 8 pm." }]);
    expect(await turn(s, b, speech("What's your address?"))).toEqual([{ type: 'say', text: "It's 1 Main St." }]);
    expect(await turn(s, b, speech('Could I have a phone number to reach you?'))).toEqual([
      { type: 'say', text: "I'm sorry, I'm not able to share that." },
    ]);
    expect(await turn(s, b, speech("What's your date of birth?"))).toEqual([{ type: 'say', text: "I'm sorry, I don't have that information." }]);
  });

  it('answers "are you still there?", asking again for words it did not catch', async () => {
    const b = brief();
    const s = new RulesBrain().startCall(b);
    await turn(s, b, speech('Good evening, Bella Cucina, how can I help you?'));
    // Misheard by a recogniser: no question the brain can place, so it had nothing to say.
    expect(await turn(s, b, speech("i'm floor what to the"))).toEqual([{ type: 'wait' }]);
    expect(await turn(s, b, speech('hello are you still there'))).toEqual([
      { type: 'say', text: "Yes, I'm still here. Sorry, I didn't catch that. Could you say it again?" },
    ]);
    // Nothing was missed this time ("let me check" needs no answer).
    expect(await turn(s, b, speech('Let me check the book.'))).toEqual([{ type: 'wait' }]);
    expect(await turn(s, b, speech('Are you still there?'))).toEqual([{ type: 'say', text: "Yes, I'm still here." }]);
    // A callee who keeps asking (a recording waiting for keys, a recogniser mishearing everything): after two
    // answers the agent explains itself, then gives up politely, so the call ends.
    const next = [];
    for (let i = 0; i < 3; i++) next.push(...(await turn(s, b, speech('hello are you still there'))));
    expect(next).toEqual([
      { type: 'say', text: "Sorry, let me explain. I'm calling to confirm the booking for Tuesday at 7 pm." },
      { type: 'say', text: "Sorry, let me explain. I'm calling to confirm the booking for Tuesday at 7 pm." },
      { type: 'say', text: "I'm sorry, I don't think I can get any further today. Thank you for your time. Goodbye!" },
      { type: 'end', goalCompleted: false, reason: 'not_understood' },
    ]);
  });

  it('takes a recogniser\'s unpunctuated, run-together words as the question they are', async () => {
    const b = brief({ task: 'Confirm my booking, reference QR-552' });
    const s = new RulesBrain().startCall(b);
    await turn(s, b, speech('Good evening, Bella Cucina, how can I help you?'));
    expect(await turn(s, b, speech('thank you and do you have the booking reference two letters and three numbers'))).toEqual([
      { type: 'say', text: 'The booking reference is QR-552.' },
    ]);
    expect(await turn(s, b, speech("sorry i didn't catch that could you read me the booking reference again"))).toEqual([
      { type: 'say', text: 'The booking reference is QR-552.' },
    ]);
    expect(await turn(s, b, speech("sorry i'm not quite sure what you mean are you calling about a booking"))).toEqual([
      { type: 'say', text: "Sorry, let me explain. I'm calling to confirm the booking, reference QR-552." },
    ]);
    // "What name is the booking under?" with "what name" lost: what is left still asks for the name.
    expect(await turn(s, b, speech("i'm floor what to the booking under"))).toEqual([{ type: 'say', text: "I'm sorry, I'm not able to share that." }]);
    // A statement is still not a question.
    expect(await turn(s, b, speech('thank you the booking is under the name smith'))).toEqual([{ type: 'wait' }]);
  });

  it('types keypad-only fields on the keypad, never aloud', async () => {
    const b = brief({ keypadFields: ['personal_security_number'] });
    const s = new RulesBrain().startCall(b);
    expect(await turn(s, b, speech('Please enter your personal identity number on the keypad.'))).toEqual([
      { type: 'press_field', field: 'personal_security_number' },
    ]);
    expect(await turn(s, b, speech('What is your personal identity number?'))).toEqual([
      { type: 'say', text: "I can't say that aloud, but I can type it on the keypad if that helps." },
    ]);
    expect(await turn(s, b, speech('Yes, please do.'))).toEqual([{ type: 'press_field', field: 'personal_security_number' }]);
  });

  it('presses the best menu option and keeps quiet on hold', async () => {
    const b = brief({ task: 'Reschedule my appointment to Monday' });
    const s = new RulesBrain().startCall(b);
    expect(await turn(s, b, speech('Thank you for calling the clinic.'))).toEqual([{ type: 'wait' }]);
    expect(await turn(s, b, speech('For billing, press 1. For appointments, press 2.'))).toEqual([{ type: 'press', digits: '2' }]);
    expect(await turn(s, b, speech('All our staff are busy, please hold.'))).toEqual([{ type: 'wait' }]);
  });

  it('ends with the goal completed, refused, or on the callee’s goodbye', async () => {
    const b = brief();
    const done = new RulesBrain().startCall(b);
    await turn(done, b, speech('Hello, how can I help?'));
    // A recogniser lost "that's all confirmed", but the question that closes an errand is left.
    const heard = new RulesBrain().startCall(b);
    await turn(heard, b, speech('Hello, how can I help?'));
    expect(await turn(heard, b, speech("let me see yes i have it here a table for two on to the at one pm that's all can anything else i can help with"))).toEqual([
      { type: 'say', text: 'Wonderful, thank you so much for your help. Goodbye!' },
      { type: 'end', goalCompleted: true, reason: 'task_completed' },
    ]);
    expect(await turn(done, b, speech("Yes, that's confirmed. Anything else?"))).toEqual([
      { type: 'say', text: 'Wonderful, thank you so much for your help. Goodbye!' },
      { type: 'end', goalCompleted: true, reason: 'task_completed' },
    ]);
    // Anything after goodbye just ends the call again with the same outcome.
    expect(await turn(done, b, speech('Bye!'))).toEqual([{ type: 'end', goalCompleted: true, reason: 'task_completed' }]);

    const refused = new RulesBrain().startCall(b);
    await turn(refused, b, speech('Hello, how can I help?'));
    expect((await turn(refused, b, speech("Unfortunately we're fully booked on Tuesday.")))?.at(-1)).toEqual({
      type: 'end',
      goalCompleted: false,
      reason: 'task_refused',
    });

    const bye = new RulesBrain().startCall(b);
    expect((await turn(bye, b, speech('Sorry, wrong number. Goodbye.'))).at(-1)).toMatchObject({ type: 'end', goalCompleted: false });
  });

  it('leaves voicemail after the beep', async () => {
    const b = brief({ task: 'Remind Maria about the meeting on Monday', language: 'sv' });
    const s = new RulesBrain().startCall(b);
    expect(await turn(s, b, { type: 'answered', answeredBy: 'machine' })).toEqual([{ type: 'wait' }]);
    expect(await turn(s, b, speech('Hej, du har kommit till Maria. Lämna ett meddelande efter tonen.'))).toEqual([{ type: 'wait' }]);
    const acts = await turn(s, b, speech('*beep*'));
    expect(acts[0]).toMatchObject({ type: 'say', text: expect.stringMatching(/^Hej, det här är ett meddelande/) });
    expect(acts[1]).toEqual({ type: 'end', goalCompleted: false, reason: 'voicemail' });
  });

  it('falls back to English for languages without a phrase table', async () => {
    const b = brief({ language: 'de' });
    const s = new RulesBrain().startCall(b);
    expect((await turn(s, b, speech('Hallo, wie kann ich helfen?'))).find((a) => a.type === 'say')).toMatchObject({ text: expect.stringMatching(/^Hi, this is/) });
  });
});
