/**
 * The agent transcribes the user-on-call room before it takes over (issue 10 §8), against the fake Twilio
 * (its media fork of the target's leg plays the target's and the user's audio fixtures) and the fake
 * Deepgram: what the target and the user said is in the call's transcript with their roles, and the model
 * that takes over is told it.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until, type TestSwitchboard } from '../helpers/switchboard.js';
import { BACKENDS } from '../helpers/backends.js';
import { startTwilioSwitchboard } from './twilio-harness.js';
import { FakeTwilio } from '../fakes/twilio/fake-twilio.js';
import { startFakeDeepgram, type FakeDeepgram } from '../fakes/deepgram/fake-deepgram.js';
import { startOpenAiChatFake, type OpenAiChatFake } from '../fakes/openai-chat.js';

const ACCOUNT = 'AC' + 'cd'.repeat(16);
const TOKEN = 'test-auth-token-user-on-call-room1';
const OPERATOR = '+15551270400';
const TARGET = '+15551270500';
const fixture = (name: string) => readFileSync(new URL(`../fixtures/audio/${name}`, import.meta.url));
const TARGET_SAYS = 'Good evening, Bella Cucina, Anna speaking.';
const USER_SAYS = 'For bookings, press 2.';

describe('a user-on-call room transcribed before the takeover (fake Twilio, fake Deepgram)', () => {
  let t: TestSwitchboard;
  let fake: FakeTwilio;
  let deepgram: FakeDeepgram;
  let llm: OpenAiChatFake;
  beforeAll(async () => {
    const targetAudio = fixture('greeting.ulaw');
    const userAudio = fixture('menu.ulaw');
    // Each track has its own stream: the fake recognises each utterance by its sound, whatever the order.
    deepgram = await startFakeDeepgram({ recogniseByAudio: true, phrases: [{ text: TARGET_SAYS, audio: targetAudio }, { text: USER_SAYS, audio: userAudio }] });
    llm = await startOpenAiChatFake();
    fake = new FakeTwilio(ACCOUNT, TOKEN, {
      // The fork's `outbound` track is the others in the target's room: the user is there first.
      [OPERATOR]: { outcome: 'answer', audio: { greeting: userAudio } },
      [TARGET]: { outcome: 'answer', greeting: 'Hello?', reply: () => 'One moment please.', audio: { greeting: targetAudio }, answerWhen: () => operatorInRoom() },
    });
    const operatorInRoom = () => [...fake.rooms.values()].some((r) => [...r.members.keys()].some((sid) => fake.calls.get(sid)?.to === OPERATOR));
    // The legs go on after their lines: long enough a silence for the speech-to-text to end each utterance.
    fake.forkSilenceMs = 1500;
    await fake.start();
    ({ t } = await startTwilioSwitchboard(fake, BACKENDS[0], {
      STT_PROVIDER: 'deepgram',
      DEEPGRAM_API_KEY: 'dg-test-key',
      DEEPGRAM_BASE_URL: deepgram.url,
      LLM_PROVIDER: 'openai',
      LLM_MODE: 'tools',
      LLM_MODEL: 'gpt-fake',
      LLM_BASE_URL: llm.url,
      LLM_API_KEY: 'sk-test',
    }));
  }, 30_000);
  afterAll(async () => {
    await t?.close();
    await fake?.close();
    await deepgram?.close();
    await llm?.close();
  });

  const req = (method: 'GET' | 'POST', url: string, payload?: unknown) =>
    t.sb.app.inject({ method, url, headers: { authorization: `Bearer ${t.key}` }, ...(payload !== undefined ? { payload: payload as any } : {}) });
  const call = async (sid: string) => (await req('GET', `/v1/calls/${sid}`)).json();
  const status = async (sid: string) => (await req('GET', `/v1/calls/${sid}/conference-status`)).json();
  const lines = async (sid: string) => ((await call(sid)).transcripts as Array<{ role: string; text: string }>).map((x) => ({ role: x.role, text: x.text }));

  it('stores what the target and the user said with their roles, and the agent that takes over is told it', async () => {
    const r = await req('POST', '/v1/start-call', { phone_number: TARGET, task: 'Book a table for two', language: 'en', userOnCall: true, userPhone: OPERATOR });
    expect(r.statusCode, r.body).toBe(200);
    const sid = r.json().sid as string;
    await until(async () => ((await status(sid)).state === 'connected' ? true : null), 15_000, 'the room connected');

    // Before the takeover: one speech-to-text stream per track, and each line under its speaker's role (the
    // API's `user` is the callee, as on any call; `operator` is the user in the room).
    const heard = await until(async () => {
      const l = await lines(sid);
      return l.length >= 2 ? l : null;
    }, 20_000, 'the room transcribed');
    expect(heard).toEqual(expect.arrayContaining([{ role: 'user', text: TARGET_SAYS }, { role: 'operator', text: USER_SAYS }]));
    expect(heard).toHaveLength(2);
    expect(deepgram.connections).toHaveLength(2);
    expect(llm.requests).toHaveLength(0);

    llm.script([{ text: 'Thank you Anna, I would like to book a table for two.' }]);
    const act = await req('POST', `/v1/calls/${sid}/activate`, {});
    expect(act.statusCode, act.body).toBe(200);
    // Listening stopped at the takeover: the room's streams are closed.
    await until(async () => (deepgram.connections.every((c) => c.closed) ? true : null), 15_000, 'the room streams closed');

    // The model's first request after the takeover carries what was said in the room, by whom.
    const first = await until(async () => llm.requests[0] ?? null, 20_000, 'the model asked');
    const system = String(first.body.messages.find((m: any) => m.role === 'system')?.content ?? '');
    expect(system).toContain(`The callee: ${TARGET_SAYS}`);
    expect(system).toContain(`Your client: ${USER_SAYS}`);

    await req('POST', '/v1/end-call', { callSid: sid });
    await until(async () => ((await call(sid)).ended_at ? true : null), 15_000, 'the end');
    // The room's lines stay in the transcript once, in their roles.
    const after = await lines(sid);
    expect(after.filter((x) => x.text === TARGET_SAYS)).toEqual([{ role: 'user', text: TARGET_SAYS }]);
    expect(after.filter((x) => x.text === USER_SAYS)).toEqual([{ role: 'operator', text: USER_SAYS }]);
  }, 90_000);
});
