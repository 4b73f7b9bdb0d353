import { describe, it, expect } from 'vitest';
import { LlmBrain, type LlmBrainOptions } from '../../src/ai/agent/index.js';
import { LlmError } from '../../src/ai/llm/llm.js';
import { OK, type ActionResult, type AgentAction, type AgentBrief, type BrainInput, type BrainSession, type Turn } from '../../src/engine/brain.js';
import { buildBrief } from '../../src/engine/brief.js';
import { SentenceSplitter, speakable } from '../../src/ai/agent/sentences.js';
import { canonicalStartCall } from '../../src/core/calls/request.js';
import { VirtualClock } from '../../src/lib/clock.js';
import { TextStream } from '../../src/lib/text-stream.js';
import { ScriptedLlm, reply, text, toolCall, type Reply } from './helpers/scripted-llm.js';

function brief(over: Partial<AgentBrief> = {}): AgentBrief {
  return { task: 'Book a table for two on Friday at 7 pm', additionalPrompt: '', language: 'en', persona: { name: 'Ann' }, keypadFields: [], ...over };
}

/**
 * Drives a brain session the way the call session does: callee speech goes into the history before the
 * input, each action is carried out before the next is asked for, and what was said is recorded.
 */
class Driver {
  readonly history: Turn[] = [];
  readonly session: BrainSession;
  constructor(
    readonly llm: ScriptedLlm,
    public brief: AgentBrief,
    opts: Partial<LlmBrainOptions> = {},
  ) {
    this.session = new LlmBrain({ llm, mode: 'tools', clock: new VirtualClock(Date.UTC(2026, 0, 1), Infinity), greetAfterMs: 0, machineSilenceMs: 0, ...opts }).startCall(brief);
  }
  async input(input: BrainInput, signal = new AbortController().signal, onAction?: (a: AgentAction) => void): Promise<AgentAction[]> {
    if (input.type === 'speech') this.history.push({ role: 'callee', text: input.text });
    const out: AgentAction[] = [];
    const said = (text: string) => {
      const a: AgentAction = { type: 'say', text };
      out.push(a);
      onAction?.(a);
      this.history.push({ role: 'agent', text });
    };
    // Speech streams: its clauses are taken while the brain goes on (as the engine does); other actions wait for it.
    let speaking: Promise<void> = Promise.resolve();
    const turn = this.session.next(input, { brief: this.brief, history: this.history, signal });
    let result: ActionResult | undefined;
    for (;;) {
      const step = await turn.next(result);
      if (step.done || signal.aborted) break;
      const a = step.value;
      result = OK;
      if (a.type === 'say') {
        const text = a.text;
        speaking = speaking.then(async () => {
          if (typeof text === 'string') return said(text);
          const splitter = new SentenceSplitter();
          for await (const delta of text) for (const s of splitter.push(delta)) if (speakable(s)) said(speakable(s));
          // As the engine's clause stream: a reply broken off mid-clause ends with its last whole clause.
          if (text instanceof TextStream && text.isBrokenOff) return;
          for (const s of splitter.flush()) if (speakable(s)) said(speakable(s));
        });
        result = { ok: true, playout: speaking.then(() => ({ heard: '', interrupted: false })) };
        continue;
      }
      await speaking;
      out.push(a);
      onAction?.(a);
      // The engine's result for a transfer on a line that cannot transfer.
      if (a.type === 'transfer') result = { ok: false, error: 'unavailable', message: 'Transfer is not available on this call.' };
      if (a.type === 'end') break;
    }
    await speaking;
    return out;
  }
  speech(text: string): Promise<AgentAction[]> {
    return this.input({ type: 'speech', text });
  }
  /** As if the agent had already introduced itself. */
  opened(): this {
    this.history.push({ role: 'agent', text: 'Hi, this is an assistant calling for Ann.' });
    return this;
  }
}

const driver = (script: Reply[], b = brief(), opts: Partial<LlmBrainOptions> = {}) => new Driver(new ScriptedLlm(script), b, opts);

describe('LLM brain (tools)', () => {
  it('is named after its model', () => {
    expect(new LlmBrain({ llm: new ScriptedLlm(), mode: 'tools' }).name).toBe('scripted:test');
  });

  it('presses a phone menu option through press_keys, and waits for the menu to answer', async () => {
    const d = driver([reply(toolCall('press_keys', { digits: '2' }))]);
    expect(await d.speech('Welcome to Bella Cucina. For opening hours press 1. For bookings press 2.')).toEqual([{ type: 'press', digits: '2' }]);
    expect(d.llm.requests).toHaveLength(1);
    const req = d.llm.requests[0];
    expect(req.tools!.map((t) => t.name)).toContain('press_keys');
    expect(req.tools!.map((t) => t.name)).not.toContain('enter_on_keypad');
    expect(req.messages[0]).toMatchObject({ role: 'system', content: expect.stringContaining('Book a table for two') });
    expect(req.messages[1]).toEqual({ role: 'user', content: 'Welcome to Bella Cucina. For opening hours press 1. For bookings press 2.' });
  });

  it('enters a keypad field by name; the digits never reach the model', async () => {
    const b = buildBrief(
      canonicalStartCall({
        phone_number: '+46700000001',
        task: 'Check my parcel',
        language: 'en',
        persona: { name: 'Ann', phone: '+46701234567' },
        share_policy: { phone_voice: false, phone_dtmf: true },
      }),
    );
    const d = driver([reply(toolCall('enter_on_keypad', { field: 'phone' })), text('Thank you.')], b);
    expect(await d.speech('Please enter your phone number followed by the hash key.')).toEqual([{ type: 'press_field', field: 'phone' }]);
    expect(await d.speech('Thank you. One moment.')).toEqual([{ type: 'say', text: 'Thank you.' }]);
    const second = d.llm.requests[1].messages;
    // The keypad note the engine wrote is folded into the tool result; the conversation stays well formed.
    expect(second.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'tool', 'user']);
    expect(second[3]).toMatchObject({ role: 'tool', content: '{"ok":true}' });
    expect(d.llm.requests[0].tools!.find((t) => t.name === 'enter_on_keypad')).toBeDefined();
    const all = JSON.stringify(d.llm.requests);
    expect(all).not.toContain('701234567');
    expect(all).not.toContain('70 123');
  });

  it('says goodbye and ends the call with end_call', async () => {
    const d = driver([reply('Wonderful, thank you. Goodbye!', toolCall('end_call', { goal_completed: true, reason: 'task_completed' }))]);
    expect(await d.speech("Yes, that's booked for Friday at seven.")).toEqual([
      { type: 'say', text: 'Wonderful, thank you.' },
      { type: 'say', text: 'Goodbye!' },
      { type: 'end', goalCompleted: true, reason: 'task_completed' },
    ]);
    expect(d.llm.requests).toHaveLength(1);
    // The call is over: nothing more comes out.
    expect(await d.speech('Bye!')).toEqual([]);
  });

  it('speaks each sentence as soon as it is complete, in order', async () => {
    const chunks = ['Hi, this is an assi', 'stant calling for Ann. I would', ' like to book a table at 7.', '30 on Friday. Is that', ' possible?'];
    const d = driver([text(...chunks)]);
    let sentAtFirstSay = -1;
    const acts = await d.input({ type: 'speech', text: 'Hello, Bella Cucina.' }, undefined, (a) => {
      if (sentAtFirstSay < 0 && a.type === 'say') sentAtFirstSay = d.llm.chunksSent;
    });
    expect(acts).toEqual([
      { type: 'say', text: 'Hi, this is an assistant calling for Ann.' },
      { type: 'say', text: 'I would like to book a table at 7.30 on Friday.' },
      { type: 'say', text: 'Is that possible?' },
    ]);
    expect(sentAtFirstSay).toBeLessThan(chunks.length);
  });

  it('tells the model about bad tool arguments and lets it try again', async () => {
    const d = driver([reply(toolCall('press_keys', '{"digits": 2')), reply(toolCall('press_keys', { digits: '2' }))]);
    expect(await d.speech('For bookings press 2.')).toEqual([{ type: 'press', digits: '2' }]);
    expect(d.llm.requests).toHaveLength(2);
    const last = d.llm.requests[1].messages.at(-1)!;
    expect(last.role).toBe('tool');
    expect(JSON.parse((last as { content: string }).content)).toEqual({ ok: false, error: 'the arguments are not valid JSON' });
  });

  it('stops calling the model after maxToolRounds', async () => {
    const bad = () => reply(toolCall('press_keys', { digits: 'x' }));
    const d = driver([bad(), bad(), bad(), bad()], brief(), { maxToolRounds: 2 }).opened();
    const acts = await d.speech('Press something.');
    expect(d.llm.requests).toHaveLength(3);
    // Nothing was done: the callee hears the fallback rather than silence.
    expect(acts).toEqual([{ type: 'say', text: 'Sorry, could you repeat that?' }]);
  });

  it('waits silently with the wait tool', async () => {
    const d = driver([reply(toolCall('wait'))]);
    expect(await d.speech('Your call is important to us. Please hold.')).toEqual([{ type: 'wait' }]);
    expect(d.llm.requests).toHaveLength(1);
  });

  it('marks a human and then speaks when the model said nothing with the tool call', async () => {
    const d = driver([reply(toolCall('mark_human_answered')), text('Hi, I am calling to book a table.')]);
    expect(await d.speech('Hello, this is Maria speaking.')).toEqual([
      { type: 'human_answered' },
      { type: 'say', text: 'Hi, I am calling to book a table.' },
    ]);
  });

  it('asks the operator, tells the model to wait for the answer, and feeds the answer back', async () => {
    const d = driver([
      reply(toolCall('ask_operator', { question: 'Is 8 pm fine instead?' })),
      text('Let me check that, one moment.'),
      text('Yes, 8 pm works. Please book it.'),
    ]);
    expect(await d.speech('We only have 8 pm.')).toEqual([
      { type: 'ask_operator', question: 'Is 8 pm fine instead?' },
      { type: 'say', text: 'Let me check that, one moment.' },
    ]);
    const toolMsg = d.llm.requests[1].messages.find((m) => m.role === 'tool') as { content: string };
    expect(JSON.parse(toolMsg.content)).toMatchObject({ ok: true, status: 'sent' });
    expect(await d.input({ type: 'operator_answer', question: 'Is 8 pm fine instead?', answer: 'Yes' })).toEqual([
      { type: 'say', text: 'Yes, 8 pm works.' },
      { type: 'say', text: 'Please book it.' },
    ]);
    expect(d.llm.requests[2].messages.at(-1)).toEqual({ role: 'user', content: '[Your client answered your question "Is 8 pm fine instead?": Yes]' });
  });

  it('tells the model when the engine could not carry out a transfer', async () => {
    const d = driver([reply(toolCall('transfer_call', {})), text('I am sorry, I cannot transfer you.')], brief({ transferNumber: '+46855500000' }));
    expect(await d.speech('Can you put me through to Ann?')).toEqual([
      { type: 'transfer', to: '+46855500000', warm: false },
      { type: 'say', text: 'I am sorry, I cannot transfer you.' },
    ]);
    const toolMsg = d.llm.requests[1].messages.find((m) => m.role === 'tool') as { content: string };
    expect(JSON.parse(toolMsg.content)).toEqual({ ok: false, error: 'Transfer is not available on this call.' });
  });

  it('remembers only what the callee actually heard', async () => {
    const d = driver([text('I would like to book a table for two. On Friday at seven. Under the name Ann.'), text('Great.')]);
    await d.speech('Hello?');
    // Barge-in: the engine keeps only the heard part of the last sentence.
    d.history.splice(1, d.history.length - 1, { role: 'agent', text: 'I would like to book a table for two.' });
    await d.speech('Sorry, for when?');
    const msgs = d.llm.requests[1].messages;
    expect(msgs.slice(1)).toEqual([
      { role: 'user', content: 'Hello?' },
      { role: 'assistant', content: 'I would like to book a table for two.' },
      { role: 'user', content: 'Sorry, for when?' },
    ]);
  });

  it('rebuilds the system prompt from the live brief every turn', async () => {
    const d = driver([text('Hello.'), text('Okay.')]);
    await d.speech('Hello?');
    d.brief = { ...d.brief, task: 'Cancel the booking instead', additionalPrompt: 'Be very polite.' };
    await d.speech('What can I do for you?');
    expect(d.llm.requests[0].messages[0].content).toContain('Book a table for two');
    expect(d.llm.requests[1].messages[0].content).toContain('Cancel the booking instead');
    expect(d.llm.requests[1].messages[0].content).toContain('Be very polite.');
  });

  it('opens the call when a person answers and nobody speaks', async () => {
    const d = driver([text('Hi, this is an assistant calling for Ann.')]);
    expect(await d.input({ type: 'answered', answeredBy: 'human' })).toEqual([{ type: 'say', text: 'Hi, this is an assistant calling for Ann.' }]);
    expect(d.llm.requests[0].messages[1]).toMatchObject({ role: 'user', content: expect.stringContaining('answered') });
  });

  it('leaves a voicemail after the beep and ends with reason voicemail', async () => {
    const d = driver([text('Hi, this is a message for Bella Cucina on behalf of Ann. Please call back. Goodbye.')]);
    expect(await d.input({ type: 'answered', answeredBy: 'machine' }, AbortSignal.abort())).toEqual([]);
    expect(await d.speech('*beep*')).toEqual([
      { type: 'say', text: 'Hi, this is a message for Bella Cucina on behalf of Ann.' },
      { type: 'say', text: 'Please call back.' },
      { type: 'say', text: 'Goodbye.' },
      { type: 'end', goalCompleted: false, reason: 'voicemail' },
    ]);
    expect(d.llm.requests[0].tools).toBeUndefined();
  });

  it('leaves a template voicemail when the model fails', async () => {
    const d = driver([new LlmError('server', 'upstream failed', true)]);
    const acts = await d.input({ type: 'answered', answeredBy: 'machine' });
    expect(acts).toEqual([
      { type: 'say', text: expect.stringMatching(/^Hello, this is a message from an assistant calling on behalf of Ann\..*Book a table/) },
      { type: 'end', goalCompleted: false, reason: 'voicemail' },
    ]);
  });

  it('stops the turn when the signal aborts', async () => {
    const d = driver([text('First sentence. ', 'Second sentence. ', 'Third sentence.')]);
    const ctl = new AbortController();
    const acts = await d.input({ type: 'speech', text: 'Hello?' }, ctl.signal, (a) => {
      if (a.type === 'say') ctl.abort(); // the callee barges in during the first sentence
    });
    expect(acts).toEqual([{ type: 'say', text: 'First sentence.' }]);
    expect(d.llm.requests[0].aborted).toBe(true);
    // An input that arrives already aborted does nothing.
    expect(await d.input({ type: 'speech', text: 'Hi' }, AbortSignal.abort())).toEqual([]);
    expect(d.llm.requests).toHaveLength(1);
  });

  it('aborts the model request with the turn', async () => {
    const d = driver(['hang']);
    const ctl = new AbortController();
    const turn = d.input({ type: 'speech', text: 'Hello?' }, ctl.signal);
    await new Promise((r) => setImmediate(r));
    ctl.abort();
    expect(await turn).toEqual([]);
    expect(d.llm.requests[0].aborted).toBe(true);
  });

  it('falls back when the model fails, and ends the call after three failed turns', async () => {
    const err = () => new LlmError('server', 'upstream failed', true, undefined, 503);
    const d = driver([err(), text(''), err()]).opened();
    expect(await d.speech('Hello?')).toEqual([{ type: 'say', text: 'Sorry, could you repeat that?' }]);
    // An empty answer is a failure too.
    expect(await d.speech('Hello??')).toEqual([{ type: 'say', text: "Sorry, I didn't quite catch that. Could you say it again?" }]);
    expect(await d.speech('Can you hear me?')).toEqual([
      { type: 'say', text: "I'm sorry, I'm having technical problems and have to end the call. Goodbye." },
      { type: 'end', goalCompleted: false, reason: 'llm_error' },
    ]);
  });

  it('counts only consecutive failures', async () => {
    const err = () => new LlmError('rate_limit', 'rate limited', true);
    const d = driver([err(), err(), text('Sure.'), err(), err()]).opened();
    await d.speech('1');
    await d.speech('2');
    expect(await d.speech('3')).toEqual([{ type: 'say', text: 'Sure.' }]);
    expect(await d.speech('4')).toEqual([{ type: 'say', text: 'Sorry, could you repeat that?' }]);
    expect((await d.speech('5')).map((a) => a.type)).toEqual(['say']);
  });

  it('greets as a fallback when nothing has been said yet', async () => {
    const d = driver([new LlmError('server', 'upstream failed', true)]);
    expect(await d.speech('Hello, Bella Cucina.')).toEqual([{ type: 'say', text: 'Hi, this is an assistant calling on behalf of Ann.' }]);
  });

  it('falls back in the call language', async () => {
    const d = driver([new LlmError('connectivity', 'down', true)], brief({ language: 'sv' })).opened();
    expect(await d.speech('Hallå?')).toEqual([{ type: 'say', text: 'Förlåt, kan du upprepa det?' }]);
  });

  it('gives up on a model that produces nothing in time', async () => {
    const clock = new VirtualClock(Date.UTC(2026, 0, 1), Infinity);
    const d = driver(['hang'], brief(), { clock, firstOutputTimeoutMs: 5000 }).opened();
    const turn = d.speech('Hello?');
    await new Promise((r) => setImmediate(r));
    clock.advance(5000);
    expect(await turn).toEqual([{ type: 'say', text: 'Sorry, could you repeat that?' }]);
    expect(d.llm.requests[0].aborted).toBe(true);
  });
});

describe('LLM brain: a model that stalls in its reply', () => {
  const stalled = (after: Reply, opts: Partial<LlmBrainOptions> = {}) => {
    const clock = new VirtualClock(Date.UTC(2026, 0, 1), Infinity);
    return { clock, d: driver([after, text('Yes, Friday at seven works.')], brief(), { clock, stallTimeoutMs: 5000, ...opts }).opened() };
  };

  it('ends the reply with what was said once the stream has been silent too long, and answers the next words', async () => {
    // The stream's connection stays open (the model's client would wait 30 s): the line must not stay silent.
    const { clock, d } = stalled([...text('Sure, let me check that for you. I'), 'hang']);
    const turn = d.speech('Can you hold on a second?');
    await new Promise((r) => setImmediate(r));
    clock.advance(4999);
    await new Promise((r) => setImmediate(r));
    expect(d.llm.requests[0].aborted).toBe(false);
    clock.advance(1);
    // What was said stays, not the fragment after it; no "could you repeat that?": the model did answer, it stopped short.
    expect(await turn).toEqual([{ type: 'say', text: 'Sure, let me check that for you.' }]);
    expect(d.llm.requests[0].aborted).toBe(true);
    expect(await d.speech('Is Friday at seven free?')).toEqual([{ type: 'say', text: 'Yes, Friday at seven works.' }]);
  }, 10_000);

  it('breaks the reply off the same when the stalled stream ends quietly on the abort instead of failing', async () => {
    const clock = new VirtualClock(Date.UTC(2026, 0, 1), Infinity);
    const llm = new ScriptedLlm();
    // An adapter whose stream, once aborted, just ends (no error): what it wrote of its last clause is not said either.
    llm.stream = async function* (req) {
      yield { type: 'text', text: 'Sure, let me check that for you. I' };
      await new Promise<void>((r) => req.signal?.addEventListener('abort', () => r(), { once: true }));
    };
    const d = new Driver(llm, brief(), { clock, stallTimeoutMs: 5000 }).opened();
    const turn = d.speech('Can you hold on a second?');
    await new Promise((r) => setImmediate(r));
    clock.advance(5000);
    expect(await turn).toEqual([{ type: 'say', text: 'Sure, let me check that for you.' }]);
  }, 10_000);

  it('does not count the time an action of the reply takes (a key press, a transfer ringing) as the model\'s', async () => {
    const { clock, d } = stalled(reply('One moment.', toolCall('press_keys', { digits: '2' }), 'I pressed two.'));
    const acts = await d.input({ type: 'speech', text: 'For bookings press 2.' }, new AbortController().signal, (a) => {
      if (a.type === 'press') clock.advance(60_000); // the engine takes a minute over the action
    });
    expect(acts).toEqual([{ type: 'say', text: 'One moment.' }, { type: 'press', digits: '2' }, { type: 'say', text: 'I pressed two.' }]);
    expect(d.llm.requests[0].aborted).toBe(false);
  });

  it('keeps waiting when the stall timeout is off (0)', async () => {
    const { clock, d } = stalled([...text('Sure.'), 'hang'], { stallTimeoutMs: 0 });
    let settled = false;
    const hangUp = new AbortController();
    const turn = d.input({ type: 'speech', text: 'Hello?' }, hangUp.signal).finally(() => (settled = true));
    await new Promise((r) => setImmediate(r));
    clock.advance(600_000);
    await new Promise((r) => setImmediate(r));
    expect(settled).toBe(false);
    expect(d.llm.requests[0].aborted).toBe(false);
    hangUp.abort(); // the call ends: the turn with it
    await turn;
    expect(d.llm.requests[0].aborted).toBe(true);
  });
});

describe('LLM brain (inline commands)', () => {
  const inline = (script: Reply[], b = brief()) => driver(script, b, { mode: 'inline' });

  it('yields the same press action from [[press:1]] and sends no tools', async () => {
    const d = inline([text('[[pre', 'ss:1]]')]);
    const tools = driver([reply(toolCall('press_keys', { digits: '1' }))]);
    const menu = 'For bookings press 1.';
    const a = await d.speech(menu);
    expect(a).toEqual(await tools.speech(menu));
    expect(a).toEqual([{ type: 'press', digits: '1' }]);
    expect(d.llm.requests[0].tools).toBeUndefined();
    expect(d.llm.requests[0].messages[0].content).toContain('[[press:123]]');
  });

  it('speaks the text around commands, in order, and never a command', async () => {
    const d = inline([text('Sure, one moment. [[pr', 'ess:2', '3]] I have pressed it [[wa', 'it]] and [[bogus]] [[end_call:completed]] never said')]);
    const acts = await d.speech('Press 23 please.');
    expect(acts).toEqual([
      { type: 'say', text: 'Sure, one moment.' },
      { type: 'press', digits: '23' },
      { type: 'say', text: 'I have pressed it' },
      { type: 'wait' },
      { type: 'say', text: 'and' },
      { type: 'end', goalCompleted: true, reason: 'task_completed' },
    ]);
    for (const a of acts) if (a.type === 'say') expect(a.text).not.toContain('[[');
  });

  it('maps request_user to ask_operator and shows the model its own commands next turn', async () => {
    const d = inline([text('Let me check. [[request_user:Is 8 pm fine?]]'), text('Okay.')]);
    expect(await d.speech('Only 8 pm is free.')).toEqual([
      { type: 'say', text: 'Let me check.' },
      { type: 'ask_operator', question: 'Is 8 pm fine?' },
    ]);
    await d.input({ type: 'operator_answer', question: 'Is 8 pm fine?', answer: null });
    const msgs = d.llm.requests.at(-1)!.messages;
    expect(msgs[2]).toEqual({ role: 'assistant', content: 'Let me check. [[request_user:Is 8 pm fine?]]' });
    expect(msgs[3].content).toContain('did not answer');
  });

  it('reports a refused command to the model and asks again', async () => {
    const d = inline([text('[[transfer:+15551234567]]'), text('I cannot transfer you, sorry.')], brief({ transferNumber: '+46855500000' }));
    expect(await d.speech('Transfer me to +15551234567.')).toEqual([{ type: 'say', text: 'I cannot transfer you, sorry.' }]);
    expect(d.llm.requests[1].messages.at(-1)!.content).toContain('not carried out: the only allowed transfer destination');
  });
});
