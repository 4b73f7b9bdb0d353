import { describe, expect, it, vi } from 'vitest';
import { EventEmitter } from 'node:events';
import type { WebSocket } from 'ws';
import { ConversationRelayChannel, relayDialectOf } from '../../src/carriers/twilio/conversation-relay.js';
import { relayLanguage } from '../../src/carriers/twilio/twilio-carrier.js';
import { ConfigError, loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/lib/logger.js';
import type { CalleeInput } from '../../src/carriers/carrier.js';

/** A stand-in for the relay socket: records what is sent, lets the test play Twilio's messages. */
class FakeSocket extends EventEmitter {
  readonly OPEN = 1;
  readyState = 1;
  sent: Array<Record<string, unknown>> = [];
  send(data: string) {
    this.sent.push(JSON.parse(data));
  }
  close() {
    this.readyState = 3;
    this.emit('close');
  }
  twilio(msg: Record<string, unknown>) {
    this.emit('message', Buffer.from(JSON.stringify(msg)));
  }
}

function channel(wordsPerSecond = 1000) {
  const socket = new FakeSocket();
  let restHangups = 0;
  const ch = new ConversationRelayChannel({
    socket: socket as unknown as WebSocket,
    lang: 'en-US',
    wordsPerSecond,
    log: createLogger('silent'),
    hangupCall: async () => {
      restHangups++;
    },
  });
  const inputs: CalleeInput[] = [];
  ch.onInput((i) => inputs.push(i));
  return { socket, ch, inputs, restHangups: () => restHangups };
}

describe('ConversationRelay channel', () => {

  it('messages of neither shape (JSON null, arrays, fields of the wrong type) are ignored in both dialects; the next good one is heard', async () => {
    const hostile = ['null', '[]', '7', '"prompt"', 'not json', '{"type":null}', '{"type":"prompt","voicePrompt":5}', '{"type":"prompt","voicePrompt":null,"last":true}', '{"type":"dtmf","digit":5}', '{"type":"interrupt","utteranceUntilInterrupt":null}', '{"event":"transcript","transcript":null}', '{"event":"transcript","transcript":"hi"}', '{"event":"transcript","transcript":{"text":5}}', '{"event":"dtmf","dtmf":[]}', '{"event":null}'];
    for (const dialect of ['conversation-relay', 'phony'] as const) {
      const socket = new FakeSocket();
      const ch = new ConversationRelayChannel({ socket: socket as unknown as WebSocket, dialect, lang: 'en-US', wordsPerSecond: 1000, log: createLogger('silent'), hangupCall: async () => undefined });
      const inputs: CalleeInput[] = [];
      ch.onInput((i) => inputs.push(i));
      // An interrupt of nothing under way still says the callee spoke: only the prompt below carries words.
      for (const raw of hostile) socket.emit('message', Buffer.from(raw));
      socket.twilio(dialect === 'phony' ? { event: 'transcript', transcript: { text: 'Hello?', final: true } } : { type: 'prompt', voicePrompt: 'Hello?', last: true });
      expect(inputs.filter((i) => i.type !== 'speech_started'), dialect).toEqual([{ type: 'speech', text: 'Hello?' }]);
      expect(socket.readyState, dialect).toBe(1);
    }
  });

  it('say streams text tokens, the last one with last:true, and resolves done', async () => {
    const { socket, ch } = channel();
    expect(await ch.say('Hello there, John.')).toEqual({ done: true });
    const texts = socket.sent.filter((m) => m.type === 'text');
    expect(texts.map((m) => m.token).join('')).toBe('Hello there, John.');
    expect(texts.map((m) => m.last)).toEqual([false, false, true]);
    expect(texts[0].lang).toBe('en-US');
  });

  it('an interrupt resolves the say under way with what was heard, then signals speech_started', async () => {
    const { socket, ch, inputs } = channel(1);
    const said = ch.say('Your appointment is on Tuesday at nine in the morning.');
    socket.twilio({ type: 'interrupt', utteranceUntilInterrupt: 'Your appointment is on', durationUntilInterruptMs: '460' });
    expect(await said).toEqual({ done: false, heard: 'Your appointment is on' });
    expect(inputs).toEqual([{ type: 'speech_started' }]);
  });

  it('a reply streamed in parts: each is sent as it is prepared, the next starting with a space; endReply closes it once', async () => {
    const { socket, ch } = channel(20);
    const ctl = new AbortController();
    ch.prepareSay!('Sure, Tuesday works.', ctl.signal);
    const first = ch.say('Sure, Tuesday works.', ctl.signal);
    ch.prepareSay!('See you then.', ctl.signal);
    // Preparing what is already prepared and not yet said sends nothing again.
    ch.prepareSay!('See you then.', ctl.signal);
    ch.endReply!();
    ch.endReply!();
    const texts = () => socket.sent.filter((m) => m.type === 'text');
    // Both parts went before the first was said.
    expect(texts().map((m) => m.token).join('')).toBe('Sure, Tuesday works. See you then.');
    expect(texts().map((m) => m.last)).toEqual([false, false, false, false, false, false, true]);
    expect(texts().at(-1)).toMatchObject({ token: '', last: true });
    // Each is said in turn, and the say of a part sent ahead sends nothing more.
    expect(await first).toEqual({ done: true });
    expect(await ch.say('See you then.', ctl.signal)).toEqual({ done: true });
    expect(texts()).toHaveLength(7);
    expect(ch.synthesisedCharacters).toBe('Sure, Tuesday works.'.length + 'See you then.'.length);
    // A say not prepared is a reply of its own, closed by its last word.
    await ch.say('Bye.');
    expect(texts().slice(7)).toMatchObject([{ token: 'Bye.', last: true }]);
  });

  it('an interrupt in a later part: what was heard of it, counted over the whole reply or over the part; the parts not yet said are dropped', async () => {
    for (const [utterance, heard] of [
      ['Sure, Tuesday works. See you', 'See you'],
      ['See you', 'See you'],
      // Twilio was already saying the part after (the pace judged it slower): this part was heard whole.
      ['Sure, Tuesday works. See you then. Good', 'See you then.'],
    ]) {
      const { socket, ch, inputs } = channel(20);
      const ctl = new AbortController();
      ch.prepareSay!('Sure, Tuesday works.', ctl.signal);
      ch.prepareSay!('See you then.', ctl.signal);
      ch.prepareSay!('Goodbye.', ctl.signal);
      // The first part was heard, and the second is being said.
      expect(await ch.say('Sure, Tuesday works.', ctl.signal)).toEqual({ done: true });
      const second = ch.say('See you then.', ctl.signal);
      socket.twilio({ type: 'interrupt', utteranceUntilInterrupt: utterance, durationUntilInterruptMs: '1900' });
      expect(await second).toEqual({ done: false, heard });
      expect(inputs).toEqual([{ type: 'speech_started' }]);
      // Twilio dropped the rest of the reply: the third part is not said, and its say sends nothing.
      const sent = socket.sent.length;
      expect(await ch.say('Goodbye.', ctl.signal)).toEqual({ done: false, heard: '' });
      expect(socket.sent).toHaveLength(sent);
    }
  });

  it('final prompts become speech (partials ignored), dtmf becomes dtmf, error is only logged', () => {
    const { socket, inputs } = channel();
    socket.twilio({ type: 'prompt', voicePrompt: 'I need to', lang: 'en-US', last: false });
    socket.twilio({ type: 'prompt', voicePrompt: 'I need to reschedule', lang: 'en-US', last: true });
    socket.twilio({ type: 'dtmf', digit: '1' });
    socket.twilio({ type: 'error', description: 'Invalid message received' });
    socket.emit('message', Buffer.from('not json'));
    expect(inputs).toEqual([
      { type: 'speech', text: 'I need to reschedule' },
      { type: 'dtmf', digits: '1' },
    ]);
  });

  it('sendDigits and hangup send sendDigits and end (once); Twilio closing the session is the hang-up', async () => {
    const { socket, ch, restHangups } = channel();
    await ch.sendDigits('9www1#');
    const first = ch.hangup();
    await ch.hangup();
    socket.close();
    await first;
    expect(socket.sent).toEqual([{ type: 'sendDigits', digits: '9www1#' }, { type: 'end' }]);
    expect(restHangups()).toBe(0);
  });

  it('hangup falls back to the REST hang-up when Twilio does not close the session after end', async () => {
    vi.useFakeTimers();
    try {
      const { socket, ch, restHangups } = channel();
      const done = ch.hangup();
      await vi.advanceTimersByTimeAsync(4_000);
      expect(restHangups()).toBe(0);
      await vi.advanceTimersByTimeAsync(2_000);
      await done;
      expect(socket.sent).toEqual([{ type: 'end' }]);
      expect(restHangups()).toBe(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it('setLanguage sends `language` with the full tag, and later text tokens carry it', async () => {
    const socket = new FakeSocket();
    const ch = new ConversationRelayChannel({ socket: socket as unknown as WebSocket, lang: 'en-US', languageTag: relayLanguage, wordsPerSecond: 1000, log: createLogger('silent'), hangupCall: async () => {} });
    await ch.say('Hello.');
    await ch.setLanguage('es');
    await ch.say('Hola.');
    expect(socket.sent.map((m) => (m.type === 'text' ? `${m.type}:${m.lang}` : m))).toEqual([
      'text:en-US',
      { type: 'language', ttsLanguage: 'es-ES', transcriptionLanguage: 'es-ES' },
      'text:es-ES',
    ]);
  });

  it("004's event-keyed dialect: transcripts and dtmf in; assistant_reply, dtmf per digit and clear out; no end", async () => {
    const socket = new FakeSocket();
    let rest = 0;
    const ch = new ConversationRelayChannel({ socket: socket as unknown as WebSocket, dialect: 'phony', lang: 'en-US', wordsPerSecond: 0.5, log: createLogger('silent'), hangupCall: async () => void rest++ });
    // Said before anyone listened: kept for the listener.
    socket.twilio({ event: 'transcript', transcript: { text: 'Hello, Bella Cucina.', confidence: 0.98, final: true } });
    const inputs: CalleeInput[] = [];
    ch.onInput((i) => inputs.push(i));
    socket.twilio({ event: 'media', media: { chunk: 'AAAA', timestamp: 1 } });
    socket.twilio({ event: 'dtmf', dtmf: { digit: '5' } });
    const said = ch.say('Hi, I am calling about a booking.');
    socket.twilio({ event: 'transcript', transcript: { text: 'Sorry', final: false } });
    expect(await said).toEqual({ done: false, heard: '' });
    await ch.sendDigits('1w2');
    await ch.hangup();
    expect(inputs).toEqual([
      { type: 'speech', text: 'Hello, Bella Cucina.' },
      { type: 'dtmf', digits: '5' },
      { type: 'speech_started' },
    ]);
    expect(socket.sent).toEqual([
      { event: 'assistant_reply', text: 'Hi, I am calling about a booking.' },
      { event: 'clear' },
      { event: 'dtmf', dtmf: { digit: '1' } },
      { event: 'dtmf', dtmf: { digit: '2' } },
    ]);
    expect(rest).toBe(1);
    expect(relayDialectOf({ type: 'setup' })).toBe('conversation-relay');
    expect(relayDialectOf({ event: 'start' })).toBe('phony');
    expect(relayDialectOf({ hello: 1 })).toBeNull();
  });

  it('the socket closing is the far end hanging up (once); a say under way resolves', async () => {
    const { socket, ch, inputs } = channel(0.1);
    const said = ch.say('A long sentence that takes a while.');
    socket.close();
    socket.close();
    expect(await said).toEqual({ done: false, heard: '' });
    expect(inputs).toEqual([{ type: 'hangup' }]);
    expect(await ch.say('Anyone?')).toEqual({ done: false, heard: '' });
  });

  it('language tags for ConversationRelay', () => {
    expect(relayLanguage('en')).toBe('en-US');
    expect(relayLanguage('sv')).toBe('sv-SE');
    expect(relayLanguage('en-GB')).toBe('en-GB');
  });
});

describe('Twilio configuration', () => {
  it('is the simulated network unless CARRIER=twilio, whatever TWILIO_* says', () => {
    expect(loadConfig({}).carrier).toBe('sim');
    const c = loadConfig({ TWILIO_ACCOUNT_SID: 'nonsense', TWILIO_AUTH_TOKEN: 'x' });
    expect(c.carrier).toBe('sim');
    expect(c.twilio).toBeUndefined();
  });

  it('CARRIER=twilio needs a valid account SID and a token', () => {
    const sid = 'AC' + 'ab'.repeat(16);
    expect(() => loadConfig({ CARRIER: 'twilio' })).toThrow(ConfigError);
    expect(() => loadConfig({ CARRIER: 'twilio', TWILIO_ACCOUNT_SID: 'AC123', TWILIO_AUTH_TOKEN: 't' })).toThrow(/TWILIO_ACCOUNT_SID/);
    expect(() => loadConfig({ CARRIER: 'twilio', TWILIO_ACCOUNT_SID: sid })).toThrow(/TWILIO_AUTH_TOKEN/);
    expect(() => loadConfig({ CARRIER: 'twilio', TWILIO_ACCOUNT_SID: sid, TWILIO_AUTH_TOKEN: 't', TWILIO_FROM_NUMBER: '555' })).toThrow(/TWILIO_FROM_NUMBER/);
    expect(() => loadConfig({ CARRIER: 'telnyx' })).toThrow(/CARRIER/);
    const c = loadConfig({ CARRIER: 'twilio', TWILIO_ACCOUNT_SID: sid, TWILIO_AUTH_TOKEN: 't', TWILIO_FROM_NUMBER: '+15551230000', TWILIO_API_BASE_URL: 'http://127.0.0.1:9/' });
    expect(c.twilio).toEqual({ accountSid: sid, authToken: 't', fromNumber: '+15551230000', apiBaseUrl: 'http://127.0.0.1:9' });
  });
});
