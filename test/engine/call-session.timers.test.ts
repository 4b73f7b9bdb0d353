/**
 * Timers never swallow errors: when the max-duration goodbye cannot be said (the carrier's speech fails),
 * the failure is logged and reported, and the call is still hung up with reason `max_duration`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import type { Carrier, CarrierEvent, DialRequest, VoiceChannel } from '../../src/carriers/carrier.js';
import { SimCarrier, loadScenarios } from '../../src/carriers/sim/index.js';
import { goodbyeLine } from '../../src/engine/lines.js';
import { VirtualClock } from '../../src/lib/clock.js';
import { createLogger } from '../../src/lib/logger.js';
import { ScriptedBrain, engineHarness, from, type EngineHarness } from './session-harness.js';

/** The simulated network, except that the goodbye line cannot be spoken. */
function goodbyeFails(inner: Carrier): Carrier {
  const wrap = (ch: VoiceChannel): VoiceChannel => ({
    say: (text, signal) => (text === goodbyeLine('en') ? Promise.reject(new Error('speech synthesis failed')) : ch.say(text, signal)),
    sendDigits: (d) => ch.sendDigits(d),
    hangup: () => ch.hangup(),
    onInput: (l) => ch.onInput(l),
  });
  return {
    name: inner.name,
    capabilities: inner.capabilities,
    checkDestination: (to) => inner.checkDestination?.(to) ?? null,
    dial: (req: DialRequest, onEvent: (e: CarrierEvent) => void) =>
      inner.dial(req, (e) => onEvent(e.type === 'answered' && e.mode !== 'audio' ? { ...e, channel: wrap(e.channel) } : e)),
  };
}

describe('max duration when the goodbye fails', () => {
  let h: EngineHarness;
  const logs: string[] = [];
  beforeAll(async () => {
    const clock = new VirtualClock();
    const log = createLogger('info', new Writable({ write: (chunk, _enc, cb) => (logs.push(String(chunk)), cb()) }));
    const sim = new SimCarrier({ scenarios: await loadScenarios('scenarios'), clock, log });
    // A brain that only listens: the timer ends the call.
    h = await engineHarness(new ScriptedBrain(() => undefined), {}, { clock, log, carrier: goodbyeFails(sim) });
  });
  afterAll(() => h.close());

  it('logs the failure and still hangs up with reason max_duration', async () => {
    const c = await h.call({ phone_number: '+15550100', task: 'Confirm my booking', max_duration: 20 });
    expect(c).toMatchObject({ status: 'completed', end_reason: 'max_duration' });
    expect(from(h.events(c.id), 'timer: max_duration')).toEqual([
      'timer: max_duration',
      'speech 1 created (engine)',
      'agent: listening -> speaking',
      'error in speech: speech synthesis failed',
      'speech 1 interrupted: ""',
      'agent: speaking -> listening',
      'carrier: ended',
      'user: listening -> away',
      'close: timer (max_duration)',
    ]);
    expect(logs.join('')).toContain('"msg":"speech failed"');
  });
});
