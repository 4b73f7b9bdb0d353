/** How a call's speech is carried: chooseVoiceMode, the one place that decides it per call. */
import { describe, expect, it } from 'vitest';
import { chooseVoiceMode } from '../../../src/engine/voice/mode.js';
import type { CallSpeech } from '../../../src/engine/voice/speech.js';
import type { CallRequest } from '../../../src/core/calls/request.js';
import type { CarrierCapabilities } from '../../../src/carriers/carrier.js';
import { DEFAULT_TURN_TAKING } from '../../../src/engine/voice/interruptions.js';
import { FrameTts } from './doubles.js';

const req = { language: 'en', voice: { ttsProvider: 'auto', gender: 'male' } } as unknown as CallRequest;
const twilio: CarrierCapabilities = { dtmfOut: true, textMode: true, mediaStream: true, knowsDestinations: false, transfer: true };
const speech = (preferAudio: boolean, withTts = true): CallSpeech => ({
  stt: () => {
    throw new Error('unused');
  },
  tts: withTts ? { espeak: new FrameTts() } : {},
  voiceFor: () => ({ provider: 'espeak', voice: 'en-us' }),
  turnTakingFor: () => DEFAULT_TURN_TAKING,
  preferAudio,
});

describe('chooseVoiceMode', () => {
  it('is audio when the setting asks for it and the carrier and the call’s voice can do it', () => {
    expect(chooseVoiceMode(req, twilio, speech(true))).toBe('audio');
  });
  it('is text by default on a carrier that does speech itself', () => {
    expect(chooseVoiceMode(req, twilio, speech(false))).toBe('text');
  });
  it('is audio on a carrier that only carries audio', () => {
    expect(chooseVoiceMode(req, { ...twilio, textMode: false }, speech(false))).toBe('audio');
  });
  it('is text without speech, without a synthesiser for the call’s voice, or on a carrier with no media streams', () => {
    expect(chooseVoiceMode(req, twilio, undefined)).toBe('text');
    expect(chooseVoiceMode(req, twilio, speech(true, false))).toBe('text');
    expect(chooseVoiceMode(req, { ...twilio, mediaStream: false }, speech(true))).toBe('text');
  });
  it('on a carrier with voices of its own (ConversationRelay): a voice it lacks is audio, the keyless espeak-ng fallback is not', () => {
    const relay: CarrierCapabilities = { ...twilio, textVoices: { elevenlabs: {} } };
    expect(chooseVoiceMode(req, relay, speech(false))).toBe('text');
    const openai: CallSpeech = { ...speech(false), tts: { openai: new FrameTts() }, voiceFor: () => ({ provider: 'openai', voice: 'cedar' }) };
    expect(chooseVoiceMode(req, relay, openai)).toBe('audio');
    const eleven: CallSpeech = { ...speech(false), tts: { elevenlabs: new FrameTts() }, voiceFor: () => ({ provider: 'elevenlabs', voice: 'v1' }) };
    expect(chooseVoiceMode(req, relay, eleven)).toBe('text');
    expect(chooseVoiceMode(req, relay, speech(true))).toBe('audio');
  });
});
