import { describe, expect, it } from 'vitest';
import alawmulaw from 'alawmulaw';
import type { AudioChannel, AudioInput, CarrierEvent } from '../../src/carriers/carrier.js';
import { loadScenarios, SimCarrier } from '../../src/carriers/sim/index.js';
import { RealClock } from '../../src/lib/clock.js';
import { createLogger } from '../../src/lib/logger.js';
import { speakMulaw } from '../../src/speech/espeak.js';
import { missingTools } from '../speech/tools.js';

const missing = missingTools('espeak-ng', 'sox', 'pocketsphinx_continuous');

/** Real time, four times faster: the frames are paced, and the recogniser keeps up. */
async function network(opts: { audio?: boolean } = {}) {
  return new SimCarrier({ scenarios: await loadScenarios('scenarios'), clock: new RealClock(4), log: createLogger('silent'), ...opts });
}

/** Dials `to` and resolves with the audio channel once answered; `events` collects everything reported. */
async function answered(carrier: SimCarrier, callId: string, to: string, voiceMode?: 'audio') {
  const events: CarrierEvent[] = [];
  let resolveAudio: (a: AudioChannel) => void = () => {};
  const audio = new Promise<AudioChannel>((r) => (resolveAudio = r));
  let resolveEnded: (e: CarrierEvent) => void = () => {};
  const ended = new Promise<CarrierEvent>((r) => (resolveEnded = r));
  await carrier.dial({ callId, sid: 's', to, language: 'en', record: false, ...(voiceMode ? { voiceMode } : {}) }, (e) => {
    events.push(e);
    if (e.type === 'answered' && e.mode === 'audio') resolveAudio(e.audio);
    if (e.type === 'ended') resolveEnded(e);
  });
  return { audio: await audio, events, ended };
}

/** Reads frames until `enough` of them carried sound; returns the sound (μ-law) heard. */
async function listen(audio: AudioChannel, enough: number): Promise<Uint8Array[]> {
  const loud: Uint8Array[] = [];
  for await (const frame of audio.frames()) {
    if (level(frame) > 200) loud.push(frame);
    if (loud.length >= enough) break;
  }
  return loud;
}

function level(mulaw: Uint8Array): number {
  const pcm = alawmulaw.mulaw.decode(mulaw);
  let sum = 0;
  for (const s of pcm) sum += Math.abs(s);
  return sum / pcm.length;
}

describe.skipIf(missing)('the simulated network in audio mode', () => {
  it('a phone menu speaks its prompts as 20 ms μ-law frames, a key the agent presses picks the option, and its hang-up ends the channel', async () => {
    const carrier = await network();
    const { audio, events, ended } = await answered(carrier, 'menu', '+15550101', 'audio');
    const inputs: AudioInput[] = [];
    audio.onInput((i) => inputs.push(i));
    // A second of the welcome, spoken.
    const heard = await listen(audio, 50);
    expect(heard.every((f) => f.length === 160)).toBe(true);
    // Keys count once the menu is read (after the welcome): the agent keeps reading the line meanwhile.
    const log = carrier.lineLog('menu')!;
    for await (const _ of audio.frames()) if (log.some((l) => /Northside Family Clinic/.test(l.text))) break;
    await audio.sendDigits('3'); // billing: an announcement, then the menu hangs up
    let frames = 0;
    for await (const _ of audio.frames()) frames++; // ends when the far end is gone
    expect(frames).toBeGreaterThan(0);
    const end = await ended;
    expect(end).toMatchObject({ type: 'ended', status: 'completed', reason: 'callee_hung_up' });
    expect(end.type === 'ended' && end.usage?.mediaSeconds).toBeGreaterThan(1);
    expect(events.map((e) => e.type)).toEqual(['ringing', 'answered', 'ended']);
    expect(inputs).toEqual([{ type: 'hangup' }]);
    expect(log.map((l) => l.text)).toContain('[pressed 3]');
    expect(log.some((l) => l.who === 'party' && /billing office/.test(l.text))).toBe(true);
    // Nothing more can be played on a call that is over.
    expect(await audio.play(new Uint8Array(800))).toEqual({ played: false });
  }, 180_000);

  it('a person hears the agent through the offline recogniser and answers; marks resolve once the audio before them is heard; clear drops the rest', async () => {
    const carrier = await network({ audio: true }); // SIM_AUDIO: audio even though the dial does not ask
    const { audio, ended } = await answered(carrier, 'person', '+15550100');
    await listen(audio, 40); // the greeting
    const reading = (async () => {
      for await (const _ of audio.frames()) {
        // The agent keeps reading the line (as the voice pipeline does); the frames are not checked here.
      }
    })();
    const speech = await speakMulaw('Hello, I would like to confirm my booking for tomorrow.', { wordsPerMinute: 150 });
    const played = audio.play(speech);
    const mark = audio.mark('end-of-clause');
    expect(await played).toEqual({ played: true });
    expect(await mark).toEqual({ played: true });

    // The receptionist answers what the recogniser heard (whatever it made of it): a line after the greeting.
    const log = carrier.lineLog('person')!;
    for (let i = 0; i < 600 && !log.some((l, n) => l.who === 'party' && n > 0 && log.slice(0, n).some((a) => a.who === 'agent')); i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    const agentLine = log.find((l) => l.who === 'agent');
    expect(agentLine?.text).toMatch(/\w+/);
    expect(log.filter((l) => l.who === 'party').length).toBeGreaterThanOrEqual(2);

    // Barge-in: a long clause is cleared before it is heard in full.
    const long = audio.play(await speakMulaw('One two three four five six seven eight nine ten eleven twelve thirteen fourteen.', { wordsPerMinute: 120 }));
    const droppedMs = audio.clear();
    expect(droppedMs).toBeGreaterThan(1000);
    expect(await long).toEqual({ played: false });

    await audio.hangup();
    await reading;
    expect(await ended).toMatchObject({ status: 'completed', reason: 'caller_hung_up' });
  }, 180_000);

  it('the agent hands an audio call over: a number not on the network is refused, a known one ends the call transferred, with no hang-up heard', async () => {
    const carrier = await network();
    const { audio, events, ended } = await answered(carrier, 'handover', '+15550100', 'audio');
    const inputs: AudioInput[] = [];
    audio.onInput((i) => inputs.push(i));
    await listen(audio, 20); // the greeting begins
    await expect(audio.transfer!('+15559999999', { warm: false })).rejects.toThrow('not reachable');
    expect(events.map((e) => e.type)).toEqual(['ringing', 'answered']);
    let quiet = 0;
    await audio.transfer!('+15550101', { warm: true, briefing: 'Transferring a call about: a booking', quiet: async () => (quiet++, () => undefined) });
    for await (const _ of audio.frames()) {
      // the frames end with the agent's part of the call
    }
    expect(await ended).toMatchObject({ type: 'ended', status: 'completed', reason: 'transferred' });
    expect(quiet).toBe(1);
    expect(inputs).toEqual([]);
    expect(carrier.lineLog('handover')!.map((l) => l.text)).toContain('[warm transfer: Transferring a call about: a booking]');
  }, 120_000);

  it('the text-mode line is unchanged when audio is not asked for', async () => {
    const carrier = await network();
    const events: CarrierEvent[] = [];
    const handle = await carrier.dial({ callId: 'text', sid: 's', to: '+15550100', language: 'en', record: false }, (e) => events.push(e));
    for (let i = 0; i < 200 && !events.some((e) => e.type === 'answered'); i++) await new Promise((r) => setTimeout(r, 50));
    const answer = events.find((e) => e.type === 'answered');
    expect(answer && 'channel' in answer).toBe(true);
    await handle.hangup();
  }, 60_000);
});
