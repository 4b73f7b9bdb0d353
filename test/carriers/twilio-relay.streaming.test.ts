/**
 * ConversationRelay takes a reply as streamed text (protocols.md §5): a model's reply of two sentences goes to
 * Twilio as one reply — its first clause as soon as the model has written it, the second sentence while the
 * first is still being said, `last: true` once, at its end — instead of a reply per whole sentence, each sent
 * only once the one before was judged heard (a pause of Twilio's synthesis between them, and a "turn" per
 * sentence on Twilio's side).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTwilioSwitchboard, v1Calls, type TwilioSwitchboard } from './twilio-harness.js';
import { FakeTwilio } from '../fakes/twilio/fake-twilio.js';
import { ScriptedBrain } from '../engine/session-harness.js';
import { TextStream } from '../../src/lib/text-stream.js';

const ACCOUNT = 'AC' + 'fedcba9876543210'.repeat(2);
const TOKEN = 'test-auth-token-streaming';
const CALLEE = '+15551230101';
const FIRST = 'Sure thing, this is Alex calling about my booking.';
const REST = 'Is it still on for Tuesday?';

let fake: FakeTwilio;
/** The words Twilio has received of the agent's replies so far. */
const textSent = () =>
  [...fake.calls.values()].flatMap((c) => c.relayIn).filter((m) => m.type === 'text').map((m) => String(m.token)).join('');
/** Whether Twilio had the first clause before the model wrote the rest of its sentence. */
let firstClauseEarly = false;

const brain = new ScriptedBrain((input) => {
  if (input.type !== 'speech') return undefined;
  if (/how can i help/i.test(input.text)) {
    return (async function* () {
      const text = new TextStream();
      yield { type: 'say', text } as const;
      // The model writes its first clause, and (for up to 2 s) nothing more until Twilio has it.
      text.push('Sure thing, ');
      for (let waited = 0; waited < 2000 && !textSent().includes('Sure thing,'); waited += 10) await sleep(10);
      firstClauseEarly = textSent() === 'Sure thing,';
      text.push('this is Alex calling about my booking. Is it');
      text.push(' still on for Tuesday?');
      text.end();
    })();
  }
  return [{ type: 'end', goalCompleted: true, reason: 'task_completed' }];
});

describe('ConversationRelay: a reply streamed as one', () => {
  let s: TwilioSwitchboard;
  /** What Twilio had received of the reply when the session counted its first sentence as heard. */
  let sentWhenFirstHeard: string | undefined;

  beforeAll(async () => {
    fake = new FakeTwilio(ACCOUNT, TOKEN, {
      [CALLEE]: { outcome: 'answer', greeting: 'Bella Cucina, how can I help you?', reply: (_turn, n) => (n === 0 ? 'Yes, it is.' : null) },
    });
    await fake.start();
    s = await startTwilioSwitchboard(fake, undefined, {}, {
      brain,
      sessionObserver: (_callId, e) => {
        if (e.type === 'conversation_item_added' && e.role === 'agent' && e.text === FIRST) sentWhenFirstHeard ??= textSent();
      },
    });
    // Twilio's speech at 20 words a second: the first sentence takes ≈ 0.4 s to say.
    s.carrier.opts.wordsPerSecond = 20;
  }, 30_000);
  afterAll(async () => {
    await s?.t.close();
    await fake?.close();
  });

  it('sends the first clause at once and the second sentence while the first is said, and closes the reply once with last: true', async () => {
    const { start, ended } = v1Calls(() => s.t);
    const c = await ended(await start(CALLEE, { task: 'Confirm my booking' }));
    expect(c.status).toBe('completed');
    expect(firstClauseEarly).toBe(true);
    // Twilio had the whole reply before the first sentence was over.
    expect(sentWhenFirstHeard).toBe(`${FIRST} ${REST}`);
    const call = [...fake.calls.values()].find((x) => x.to === CALLEE)!;
    const texts = call.relayIn.filter((m) => m.type === 'text');
    // One reply: every token but the closing one is `last: false`; the closing one is empty.
    expect(texts.filter((m) => m.last === true)).toEqual([{ type: 'text', token: '', last: true, lang: 'en-US', interruptible: true }]);
    expect(texts.at(-1)!.last).toBe(true);
    expect(call.agentTurns).toEqual([`${FIRST} ${REST}`]);
    // Both sentences were heard, each a line of the transcript.
    expect(c.transcripts.filter((x: { role: string }) => x.role === 'assistant').map((x: { text: string }) => x.text)).toEqual([FIRST, REST]);
  });
});
