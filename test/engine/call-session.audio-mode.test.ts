/**
 * A node with no speech for audio calls (none configured) never asks a carrier for audio, and a call
 * answered in audio mode anyway is hung up and ends `failed` with a reason, not silent. (With speech, audio
 * calls run the cascaded pipeline: call-session.audio.twilio.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../helpers/backends.js';
import { startSwitchboard, until, type TestSwitchboard } from '../helpers/switchboard.js';
import type { AudioChannel, Carrier, CarrierEvent, DialRequest } from '../../src/carriers/carrier.js';

/** A carrier that answers every call with an audio channel (as if audio mode had been asked for). */
class AudioOnlyCarrier implements Carrier {
  readonly name = 'audio-only';
  readonly capabilities = { dtmfOut: true, textMode: false, mediaStream: true, knowsDestinations: false, transfer: false };
  readonly dialled: DialRequest[] = [];
  hangups = 0;

  async dial(req: DialRequest, onEvent: (e: CarrierEvent) => void) {
    this.dialled.push(req);
    const end = () => onEvent({ type: 'ended', status: 'completed' });
    const audio: AudioChannel = {
      frames: () => ({ [Symbol.asyncIterator]: () => ({ next: () => Promise.resolve({ value: undefined, done: true as const }) }) }),
      play: async () => ({ played: false }),
      mark: async () => ({ played: false }),
      clear: () => 0,
      sendDigits: async () => {},
      hangup: async () => {
        this.hangups++;
        setTimeout(end, 5);
      },
      onInput: () => {},
    };
    setTimeout(() => {
      onEvent({ type: 'ringing' });
      onEvent({ type: 'answered', answeredBy: 'human', mode: 'audio', audio });
    }, 5);
    return { hangup: async () => end() };
  }
}

describe('call session: a call answered in audio mode', () => {
  let t: TestSwitchboard;
  const carrier = new AudioOnlyCarrier();
  beforeAll(async () => {
    t = await startSwitchboard(BACKENDS[0], { SHUTDOWN_GRACE_SECONDS: '1' }, { carrier, speech: null });
  });
  afterAll(() => t.close());

  it('is hung up at once and ends failed with voice_mode_unsupported; the engine asked for text', async () => {
    const headers = { authorization: `Bearer ${t.key}` };
    const r = await t.sb.app.inject({ method: 'POST', url: '/v1/start-call', headers, payload: { phone_number: '+15550100', task: 'Confirm my booking', language: 'en' } });
    expect(r.statusCode, r.body).toBe(200);
    const sid = r.json().sid as string;
    const call = await until(async () => {
      const c = (await t.sb.app.inject({ method: 'GET', url: `/v1/calls/${sid}`, headers })).json();
      return c.ended_at ? c : null;
    }, 15_000, 'call to end');
    expect(call.status).toBe('failed');
    expect(call.end_reason).toBe('voice_mode_unsupported');
    expect(call.last_error).toBe('voice_mode_unsupported');
    expect(carrier.hangups).toBe(1);
    expect(carrier.dialled[0].voiceMode ?? 'text').toBe('text');
  });
});
