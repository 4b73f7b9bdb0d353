/**
 * The call's voice on Twilio ConversationRelay: an ElevenLabs voice (the ones ConversationRelay offers) goes
 * on `<ConversationRelay>` as `ttsProvider` and `voice`, its model and an agent's settings inside the voice
 * string; with no voice Twilio's default speaks. Which voices need audio mode instead is `needsAudioMode`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../helpers/backends.js';
import { FakeTwilio } from '../fakes/twilio/fake-twilio.js';
import { startTwilioSwitchboard, v1Calls, type TwilioSwitchboard } from './twilio-harness.js';
import { needsAudioMode } from '../../src/engine/voice-choice.js';
import { RELAY_TEXT_VOICES, relayOffers, relayVoiceAttributes } from '../../src/carriers/twilio/relay-voice.js';

const ACCOUNT = 'AC' + '0123456789abcdef'.repeat(2);
const TOKEN = 'test-auth-token-voice-0123';
const CALLEE = '+15551260001';

function relayAttributes(twiml: string): Record<string, string> {
  const tag = /<ConversationRelay\s([^>]*?)\/?>/.exec(twiml)?.[1] ?? '';
  return Object.fromEntries([...tag.matchAll(/(\w+)="([^"]*)"/g)].map((a) => [a[1], a[2]]));
}

describe('the call’s voice on Twilio ConversationRelay', () => {
  let fake: FakeTwilio;
  let s: TwilioSwitchboard;
  const { start, ended } = v1Calls(() => s.t);

  beforeAll(async () => {
    fake = new FakeTwilio(ACCOUNT, TOKEN, {
      [CALLEE]: { outcome: 'answer', greeting: 'Hej, det är Anna.', reply: () => null },
    });
    await fake.start();
    // ElevenLabs configured: its voices are Twilio's to speak (nothing is sent to ElevenLabs in text mode).
    s = await startTwilioSwitchboard(fake, BACKENDS[0], { ELEVENLABS_API_KEY: 'xi-unused' });
  }, 30_000);
  afterAll(async () => {
    await s?.t.close();
    await fake?.close();
  });


  it('a Swedish call with a chosen ElevenLabs voice and model: ttsProvider="ElevenLabs" and the voice string', async () => {
    const before = new Set(fake.calls.keys());
    const sid = await start(CALLEE, { task: 'Confirm the booking', language: 'sv', '11labsVoice': 'myClonedVoice01', elevenLabsModel: 'eleven_turbo_v2_5' });
    const call = await ended(sid);
    const fc = [...fake.calls.values()].find((c) => !before.has(c.sid))!;
    expect(relayAttributes(fc.twimls[0])).toMatchObject({ ttsProvider: 'ElevenLabs', voice: 'myClonedVoice01-turbo_v2_5', language: 'sv-SE' });
    expect(call.status).toBe('completed');
  }, 30_000);

  it('a Swedish call with no voice: ElevenLabs’ default for the gender', async () => {
    const before = new Set(fake.calls.keys());
    const sid = await start(CALLEE, { task: 'Confirm the booking', language: 'sv', voice_gender: 'female' });
    await ended(sid);
    const fc = [...fake.calls.values()].find((c) => !before.has(c.sid))!;
    expect(relayAttributes(fc.twimls[0])).toMatchObject({ ttsProvider: 'ElevenLabs', voice: 'EXAVITQu4vr4xnSDxMaL' });
  }, 30_000);
});

describe('ConversationRelay voice strings and audio mode', () => {
  const twilio = { dtmfOut: true, textMode: true, mediaStream: true, knowsDestinations: false, transfer: true, textVoices: { elevenlabs: { models: ['eleven_flash_v2_5', 'eleven_turbo_v2_5'], settings: ['speed', 'stability', 'similarityBoost'] as const } } };
  const sim = { dtmfOut: true, textMode: true, mediaStream: false, knowsDestinations: true, transfer: true };

  it('carries an agent’s voice_settings in the voice string, with ElevenLabs’ defaults for what it left out', () => {
    expect(relayVoiceAttributes({ provider: 'elevenlabs', voice: 'abc', settings: { stability: 0.4, similarityBoost: 0.8 } })).toEqual({ ttsProvider: 'ElevenLabs', voice: 'abc-flash_v2_5-1.0_0.4_0.8' });
    expect(relayVoiceAttributes({ provider: 'elevenlabs', voice: 'abc' })).toEqual({ ttsProvider: 'ElevenLabs', voice: 'abc' });
    expect(relayVoiceAttributes({ provider: 'openai', voice: 'marin' })).toEqual({});
  });

  it.each([
    [{ provider: 'openai', voice: 'marin' }, true],
    [{ provider: 'azure', voice: 'sv-SE-SofieNeural', style: 'cheerful' }, true],
    [{ provider: 'elevenlabs', voice: 'abc' }, false],
    [{ provider: 'elevenlabs', voice: 'abc', model: 'eleven_turbo_v2_5', settings: { stability: 0.2 } }, false],
    [{ provider: 'elevenlabs', voice: 'abc', model: 'eleven_multilingual_v2' }, true],
    [{ provider: 'elevenlabs', voice: 'abc', settings: { useSpeakerBoost: true } }, true],
  ] as const)('on Twilio, %j needs audio mode: %s', (choice, audio) => {
    expect(needsAudioMode(choice as any, twilio)).toBe(audio);
  });

  it.each([
    [{ provider: 'openai', voice: 'marin' }],
    [{ provider: 'elevenlabs', voice: 'abc' }],
    [{ provider: 'elevenlabs', voice: 'abc', model: 'eleven_multilingual_v2' }],
    [{ provider: 'elevenlabs', voice: 'abc', settings: { useSpeakerBoost: true } }],
    [{ provider: 'constructor', voice: 'abc' }],
  ] as const)('a warm transfer’s destination hears %j on ConversationRelay exactly when a call with it stays in text mode', (choice) => {
    const caps = { ...twilio, textVoices: RELAY_TEXT_VOICES };
    expect(relayOffers(choice as any)).toBe(!needsAudioMode(choice as any, caps));
  });

  it('the simulated network’s text is not heard as audio: no voice needs audio mode there', () => {
    expect(needsAudioMode({ provider: 'openai', voice: 'marin' }, sim)).toBe(false);
  });
});
