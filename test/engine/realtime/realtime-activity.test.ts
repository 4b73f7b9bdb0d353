/**
 * The speech-to-speech activity against the fake OpenAI Realtime server, over an AudioChannel double:
 * the exact event sequence of a turn, the session it configures, barge-in (clear, truncate with the heard
 * milliseconds, the transcript cut to what was heard), function calls carried out after the speech before
 * them, lines said word for word, keypad digits given to the model, usage reported.
 */
import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import { FakeOpenAIRealtime, tone } from '../../fakes/openai-realtime/fake-openai-realtime.js';
import { BRIEF, realtimeRig, utter, waitFor, type RealtimeRig } from './realtime-harness.js';

const WORDS = 'one two three four five six seven eight nine ten';

describe('realtime activity (OpenAI Realtime over an audio channel)', () => {
  const fake = new FakeOpenAIRealtime({ apiKey: 'sk-test' });
  let rig: RealtimeRig | undefined;
  beforeAll(() => fake.start());
  afterAll(() => fake.close());
  afterEach(() => {
    rig?.activity.close();
    rig = undefined;
  });

  const sent = () => rig!.sent();

  it('a turn: the callee speaks, the model answers; exact events, and the session it asked for', async () => {
    fake.transcripts = ['Hello, who is this?'];
    fake.script = (t) => (t.heard ? { say: 'Hi, I am calling about a booking.' } : undefined);
    const r = (rig = realtimeRig(fake));
    r.activity.start('human');
    r.channel.speak(utter(400));
    await waitFor(() => r.events.some((e) => e.type === 'speech_done'), 'the reply to be heard');
    await r.activity.settle();
    // The callee's line is transcribed while the answer is being made: where it falls is the server's timing.
    const callee = ['transcribed: "Hello, who is this?"', 'item callee: "Hello, who is this?"'];
    expect(r.lines().filter((l) => l.includes('Hello, who is this?'))).toEqual(callee);
    expect(r.lines().indexOf(callee[1])).toBeLessThan(r.lines().indexOf('item agent: "Hi, I am calling about a booking."'));
    expect(r.lines().filter((l) => !callee.includes(l))).toEqual([
      'agent: initializing -> listening',
      'user: listening -> speaking',
      'user: speaking -> listening',
      'agent: listening -> thinking',
      'speech 1 created (brain)',
      'agent: thinking -> speaking',
      'item agent: "Hi, I am calling about a booking."',
      'speech 1 done: "Hi, I am calling about a booking."',
      'agent: speaking -> listening',
    ]);
    expect(r.activity.history).toEqual([
      { role: 'callee', text: 'Hello, who is this?' },
      { role: 'agent', text: 'Hi, I am calling about a booking.' },
    ]);
    // The model's audio went to the channel as it came: μ-law passed through, not transcoded.
    expect(r.channel.heard.length).toBe(rig!.conn()!.sent.filter((e) => e.type === 'response.output_audio.delta').reduce((n, e) => n + e.bytes, 0));
    const c = rig!.conn()!;
    expect(c.headers.authorization).toBe('Bearer sk-test');
    expect(c.headers['openai-beta']).toBeUndefined();
    expect(new URL(c.url).searchParams.get('model')).toBe('gpt-realtime');
    // The server answers nothing by itself: the activity asks for the answer once the callee stopped.
    expect(sent().map((e) => e.type)).toEqual(['session.update', 'response.create']);
    const session = sent()[0].session;
    expect(session.audio.input.format).toEqual({ type: 'audio/pcmu' });
    expect(session.audio.output).toEqual({ format: { type: 'audio/pcmu' }, voice: 'cedar' });
    expect(session.audio.input.turn_detection).toMatchObject({ type: 'server_vad', threshold: 0.5, silence_duration_ms: 500, interrupt_response: false, create_response: false });
    expect(session.audio.input.transcription).toMatchObject({ model: 'gpt-4o-mini-transcribe', language: 'en' });
    expect(session.instructions).toContain('Confirm the dental appointment on Friday at 10.');
    expect(session.tools.map((t: { name: string }) => t.name)).toEqual(expect.arrayContaining(['press_keys', 'end_call', 'ask_operator']));
    // Usage for billing: the model's tokens, the transcribed seconds.
    expect(r.usage.total().llmOutputTokens).toBeGreaterThan(0);
    expect(r.usage.total().sttSeconds).toBeGreaterThan(0.4);
  });

  // A channel that sends with no report per frame (Twilio's) counts what a cut dropped; one that reports each
  // frame's play counts what was heard as it goes: the model and the transcript hear the same either way.
  for (const sends of [true, false]) {
    it(`barge-in (${sends ? 'send, a mark at the end' : 'play, a report per frame'}): the channel is cleared at once, the model told the heard ms, the transcript keeps what was heard`, async () => {
      fake.transcripts = ['Hello?', 'Sorry, wait'];
      fake.script = (t) => (t.n === 0 ? { say: WORDS, audio: tone(1000), pauseAfterDeltas: 4 } : undefined);
      const r = (rig = realtimeRig(fake, { hold: true, sends }));
      r.activity.start('human');
      r.channel.speak(utter(300));
      // Four 100 ms deltas reached the line; the callee has heard two of them when they speak over the agent
      // (long enough, and with words: an interruption).
      await waitFor(() => r.channel.queuedBytes === 3200, 'four deltas queued on the line');
      r.channel.playOut(10);
      await waitFor(() => r.channel.heard.length === 1600, 'two deltas heard');
      r.channel.speak(utter(800));
      await waitFor(() => r.events.some((e) => e.type === 'speech_done'), 'the reply to be cut');
      expect(r.channel.clears).toBe(1);
      const truncate = await waitFor(() => sent().find((e) => e.type === 'conversation.item.truncate'), 'truncate');
      expect(truncate).toMatchObject({ content_index: 0, audio_end_ms: 200 });
      expect(truncate.item_id).toMatch(/^item_a/);
      await waitFor(() => rig!.conn()!.sent.some((e) => e.type === 'conversation.item.truncated'), 'the fake accepted the truncate');
      // The activity cancels the reply being generated and truncates it, then asks for the answer.
      await waitFor(() => sent().filter((e) => e.type === 'response.create').length === 2, 'the answer to the interruption');
      expect(sent().map((e) => e.type)).toEqual(['session.update', 'response.create', 'response.cancel', 'conversation.item.truncate', 'response.create']);
      // Four words had been sent with four deltas; half of that audio was heard.
      expect(r.lines()).toContain('speech 1 interrupted: "one two"');
      expect(r.lines()).toContain('item agent: "one two"');
      expect(r.activity.history.filter((t) => t.role === 'agent')).toEqual([{ role: 'agent', text: 'one two' }]);
      await waitFor(() => r.activity.history.some((t) => t.text === 'Sorry, wait'), 'the second utterance');
    });
  }

  it('a function call is carried out once the speech before it was heard; its output goes back; end stops the turn', async () => {
    fake.transcripts = ['Yes, the booking is confirmed.'];
    fake.script = (t) => (t.heard ? { say: 'Thank you, goodbye.', calls: [{ name: 'end_call', arguments: { goal_completed: true, reason: 'task_completed' } }] } : undefined);
    const r = (rig = realtimeRig(fake, { hold: true }));
    r.activity.start('human');
    r.channel.speak(utter(300));
    // The activity has read the whole response (its usage is counted) while the goodbye is still on the line.
    await waitFor(() => r.channel.queued > 0 && r.usage.total().llmOutputTokens > 0, 'the reply read');
    await new Promise((res) => setImmediate(res));
    expect(r.host.actions).toEqual([]);
    // The line plays the goodbye as its frames come (paced), then the action is carried out.
    await waitFor(() => {
      r.channel.playOut();
      return r.host.actions.length === 1;
    }, 'the end action');
    expect(r.host.actions[0]).toEqual({ type: 'end', goalCompleted: true, reason: 'task_completed' });
    const output = await waitFor(() => sent().find((e) => e.type === 'conversation.item.create' && e.item.type === 'function_call_output'), 'function output');
    expect(JSON.parse(output.item.output)).toEqual({ ok: true });
    await r.activity.settle();
    const lines = r.lines();
    expect(lines.slice(lines.indexOf('speech 1 created (brain)'))).toEqual([
      'speech 1 created (brain)',
      'agent: thinking -> speaking',
      'item agent: "Thank you, goodbye."',
      'speech 1 done: "Thank you, goodbye."',
      'agent: speaking -> listening',
      'act end true task_completed: ok',
    ]);
    // The call is closing: the model is not asked to go on (the one response.create answered the callee).
    expect(sent().filter((e) => e.type === 'response.create')).toHaveLength(1);
  });

  it('speech cut by the callee drops the action after it: the model learns it was not carried out', async () => {
    fake.transcripts = ['Which option?', 'No wait'];
    fake.script = (t) => (t.n === 0 ? { say: 'I will press two now.', calls: [{ name: 'press_keys', arguments: { digits: '2' } }] } : undefined);
    const r = (rig = realtimeRig(fake, { hold: true }));
    r.activity.start('human');
    r.channel.speak(utter(300));
    await waitFor(() => r.channel.queued > 0 && r.usage.total().llmOutputTokens > 0, 'the reply read');
    r.channel.speak(utter(800)); // over the agent, before any of it was heard
    const output = await waitFor(() => sent().find((e) => e.type === 'conversation.item.create' && e.item.type === 'function_call_output'), 'function output');
    expect(JSON.parse(output.item.output)).toEqual({ ok: false, error: 'interrupted', message: 'not carried out: the callee spoke over it' });
    expect(sent().find((e) => e.type === 'conversation.item.truncate')).toMatchObject({ audio_end_ms: 0 });
    expect(r.host.actions).toEqual([]);
    expect(r.channel.digits).toEqual([]);
    expect(r.lines()).toContain('speech 1 interrupted: ""');
    expect(r.activity.history.filter((t) => t.role === 'agent')).toEqual([]);
  });

  it('a refused tool call goes back to the model as an error it can answer', async () => {
    fake.transcripts = ['Please press the number.'];
    fake.script = (t) => (t.n === 0 ? { calls: [{ name: 'press_keys', arguments: { digits: 'abc' } }] } : { say: 'Sorry.' });
    const r = (rig = realtimeRig(fake));
    r.activity.start('human');
    r.channel.speak(utter(300));
    const output = await waitFor(() => sent().find((e) => e.type === 'conversation.item.create' && e.item.type === 'function_call_output'), 'function output');
    expect(JSON.parse(output.item.output)).toEqual({ ok: false, error: 'digits must be 1 to 32 of 0-9, *, # and w' });
    await waitFor(() => r.activity.history.some((t) => t.text === 'Sorry.'), 'the model answering the refusal');
    expect(r.host.actions).toEqual([]);
  });

  it('a supervisor line is said word for word and enters the conversation as the supervisor\'s', async () => {
    fake.transcripts = [];
    fake.script = (t) => (t.trigger === 'response.create' && t.instructions ? { say: JSON.parse(t.instructions.slice(t.instructions.indexOf('"'))) as string } : undefined);
    const r = (rig = realtimeRig(fake));
    r.activity.start('human');
    await waitFor(() => rig!.conn()?.received.some((e) => e.type === 'session.update'), 'session');
    const h = r.activity.speak('Please hold for a moment.', 'supervisor');
    expect(await h.waitForPlayout()).toEqual({ heard: 'Please hold for a moment.', interrupted: false });
    const create = sent().find((e) => e.type === 'response.create')!;
    expect(create.response.tool_choice).toBe('none');
    expect(create.response.instructions).toContain('"Please hold for a moment."');
    expect(r.lines()).toEqual(expect.arrayContaining(['speech 1 created (supervisor)', 'item agent: "Please hold for a moment."', 'speech 1 done: "Please hold for a moment."']));
    expect(r.events.find((e) => e.type === 'conversation_item_added')).toMatchObject({ source: 'supervisor' });
  });

  it('keypad digits from the callee reach the model as a note, and it answers', async () => {
    fake.transcripts = [];
    fake.script = (t) => (t.trigger === 'response.create' ? { say: 'You pressed four.' } : undefined);
    const r = (rig = realtimeRig(fake));
    r.activity.start('human');
    await waitFor(() => rig!.conn()?.received.some((e) => e.type === 'session.update'), 'session');
    r.channel.press('4');
    await waitFor(() => r.activity.history.some((t) => t.text === 'You pressed four.'), 'the answer');
    expect(r.lines()[1]).toBe('dtmf: 4');
    const note = sent().find((e) => e.type === 'conversation.item.create')!;
    expect(note.item).toEqual({ type: 'message', role: 'user', content: [{ type: 'input_text', text: '[The other side pressed the keys 4.]' }] });
  });

  it('opening: an inbound call starts with the agent\'s greeting word for word; a silent callee is greeted', async () => {
    fake.transcripts = [];
    fake.script = (t) => (t.trigger === 'response.create' ? { say: t.instructions ? 'Smile Dental, this is Sam.' : 'Hello, this is an assistant calling for Alex Smith.' } : undefined);
    const inbound = (rig = realtimeRig(fake, { brief: { ...BRIEF, inbound: { from: '+15550100' }, greeting: 'Smile Dental, this is Sam.' } }));
    inbound.activity.start('human');
    await waitFor(() => inbound.activity.history.length === 1, 'the greeting');
    expect(inbound.activity.history).toEqual([{ role: 'agent', text: 'Smile Dental, this is Sam.' }]);
    expect(inbound.sent().find((e) => e.type === 'response.create')!.response.instructions).toContain('"Smile Dental, this is Sam."');
    inbound.activity.close();

    const outbound = (rig = realtimeRig(fake, { greetAfterMs: 20 }));
    outbound.activity.start('human');
    await waitFor(() => outbound.activity.history.length === 1, 'the greeting of a silent callee');
    expect(outbound.sent().find((e) => e.type === 'conversation.item.create')!.item.content[0].text).toBe(
      '[The call has been answered and nobody has said anything yet. Greet them and say why you are calling.]',
    );
    expect(outbound.activity.history).toEqual([{ role: 'agent', text: 'Hello, this is an assistant calling for Alex Smith.' }]);
  });

  it('a rejected API key ends the call: the error is reported and the call ended as llm_error', async () => {
    const bad = new FakeOpenAIRealtime({ apiKey: 'sk-other' });
    await bad.start();
    try {
      const r = (rig = realtimeRig(bad));
      r.activity.start('human');
      await waitFor(() => r.host.actions.length === 1, 'the call to be ended');
      expect(r.host.actions[0]).toEqual({ type: 'end', goalCompleted: false, reason: 'llm_error' });
      expect(r.lines()).toContain('error in realtime: model provider rejected the credentials');
    } finally {
      await bad.close();
    }
  });

  it('text fields of another type (a transcript of null, a delta of a number) are ignored: a cut reply keeps the words the deltas gave', async () => {
    fake.transcripts = ['Hello?', 'Sorry, wait'];
    fake.script = (t) => (t.n === 0 ? { say: WORDS, audio: tone(1000), pauseAfterDeltas: 4 } : undefined);
    const r = (rig = realtimeRig(fake, { hold: true, sends: true }));
    r.activity.start('human');
    r.channel.speak(utter(300));
    await waitFor(() => r.channel.queuedBytes === 3200, 'four deltas queued on the line');
    const delta = r.conn()!.sent.find((e) => e.type === 'response.output_audio_transcript.delta')!;
    const ids = { response_id: delta.response_id, item_id: delta.item_id, output_index: 0, content_index: 0 };
    fake.sendRaw(JSON.stringify({ type: 'response.output_audio_transcript.delta', ...ids, delta: 5 }));
    // A transcription with no text in it is read as no words (as `…failed` is), not as the end of the call.
    fake.sendRaw(JSON.stringify({ type: 'conversation.item.input_audio_transcription.completed', item_id: 'item_unknown', content_index: 0, transcript: null }));
    fake.sendRaw(JSON.stringify({ type: 'response.output_audio_transcript.done', ...ids, transcript: null }));
    r.channel.playOut(10);
    await waitFor(() => r.channel.heard.length === 1600, 'two deltas heard');
    r.channel.speak(utter(800));
    await waitFor(() => r.events.some((e) => e.type === 'speech_done'), 'the reply to be cut');
    expect(r.lines()).toContain('item agent: "one two"');
    await waitFor(() => r.activity.history.some((t) => t.text === 'Sorry, wait'), 'the second utterance');
    expect(r.host.actions).toEqual([]);
  });

  it('a function call whose arguments are not text (null) is refused to the model, which hears why; the call goes on', async () => {
    fake.transcripts = ['Hello?'];
    fake.script = (t) => (t.n === 0 ? { say: WORDS, audio: tone(1000), pauseAfterDeltas: 2 } : undefined);
    const r = (rig = realtimeRig(fake));
    r.activity.start('human');
    r.channel.speak(utter(300));
    await waitFor(() => r.conn()?.sent.some((e) => e.type === 'response.output_audio_transcript.delta'), 'the reply under way');
    const delta = r.conn()!.sent.find((e) => e.type === 'response.output_audio_transcript.delta')!;
    fake.sendRaw(JSON.stringify({ type: 'response.function_call_arguments.done', response_id: delta.response_id, item_id: 'item_fc', output_index: 1, call_id: 'call_odd', name: 'press_keys', arguments: null }));
    fake.resume();
    const out = await waitFor(() => r.conn()!.received.find((e) => e.type === 'conversation.item.create' && e.item?.call_id === 'call_odd'), 'the call\'s output');
    expect(JSON.parse(out.item.output)).toEqual({ ok: false, error: 'the arguments must be a JSON object' });
    expect(r.host.actions).toEqual([]);
  });

  it('a server event the engine cannot read (a field missing, or of another type) ends the call as llm_error, not the process', async () => {
    const odd = new FakeOpenAIRealtime({ apiKey: 'sk-test' });
    await odd.start();
    try {
      for (const event of [
        { type: 'response.created' },
        { type: 'response.output_audio.delta', response_id: 'resp_x', item_id: 'item_x', delta: 5 },
        { type: 'response.done' },
        { type: 'error', error: null },
      ]) {
        const r = (rig = realtimeRig(odd));
        r.activity.start('human');
        await waitFor(() => r.conn()?.received.some((e) => e.type === 'session.update'), 'the session');
        odd.sendRaw(JSON.stringify(event));
        await waitFor(() => r.host.actions.length === 1, `the call to be ended after ${event.type}`);
        expect(r.host.actions[0]).toEqual({ type: 'end', goalCompleted: false, reason: 'llm_error' });
        expect(r.lines()).toContain('error in realtime: model provider sent an unreadable response');
        r.activity.close();
        rig = undefined;
      }
    } finally {
      await odd.close();
    }
  });

  it('a transfer asked while a reply is being heard waits for its end (no clear), and no reply plays after it', async () => {
    fake.transcripts = ['Hello, who is this?', 'Hello?'];
    fake.script = (t) => (t.heard ? { say: WORDS } : undefined);
    const steps: string[] = [];
    const r = (rig = realtimeRig(fake, {
      hold: true,
      transfer: async (_to, opts) => {
        await opts.quiet!();
        steps.push(`redirect with ${r.channel.queued} plays unheard`);
      },
    }));
    r.activity.start('human');
    r.channel.speak(utter(400));
    await waitFor(() => r.channel.queued > 0, 'the reply on the line');
    let transferred = false;
    const transfer = r.activity.line.transfer!('+15550100', { warm: false }).then(() => (transferred = true));
    // The line plays the reply at its pace; the redirect waits for the last of it.
    await waitFor(() => r.events.some((e) => e.type === 'speech_done') || (r.channel.playOut(1), false), 'the reply heard');
    await transfer;
    expect(transferred).toBe(true);
    expect(steps).toEqual(['redirect with 0 plays unheard']);
    expect(r.channel.clears).toBe(0);
    expect(r.activity.history.at(-1)).toEqual({ role: 'agent', text: WORDS });
    // The callee speaks while the leg is handed over: no answer is asked for (it waits), nothing is played.
    const heard = r.channel.heard.length;
    const asked = sent().filter((e) => e.type === 'response.create').length;
    r.channel.speak(utter(400));
    await waitFor(() => r.activity.history.some((t) => t.text === 'Hello?'), 'the callee heard');
    r.channel.playOut();
    expect(sent().filter((e) => e.type === 'response.create')).toHaveLength(asked);
    expect(r.channel.heard.length).toBe(heard);
  });
});
