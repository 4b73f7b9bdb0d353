/**
 * The brief a turn sees: the session keeps the one it made from the call's request (making it scans the task
 * for personal data) and makes it again when the request changes — a PATCH of the task or a language switch —
 * so the next turn sees the change and every turn before it the request as it was.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/lib/clock.js';
import { advanceUntil } from '../helpers/switchboard.js';
import { ScriptedBrain, engineHarness, type EngineHarness } from './session-harness.js';

/** What each turn's brief said: the task and the language. */
const seen: Array<{ task: string; language: string }> = [];

const brain = new ScriptedBrain((input, ctx) => {
  if (input.type !== 'speech') return undefined;
  seen.push({ task: ctx.brief.task, language: ctx.brief.language });
  // The second turn switches the language: the turn after it sees the new one.
  if (seen.length === 2) return [{ type: 'switch_language', language: 'es' }, { type: 'say', text: 'Hola, sigo aquí.' }];
  return [{ type: 'say', text: 'Thank you, one more thing please.' }];
});

describe('the brief each turn sees', () => {
  let h: EngineHarness;
  let clock: VirtualClock;
  beforeAll(async () => {
    clock = new VirtualClock(undefined, Infinity);
    h = await engineHarness(brain, {}, { clock });
  });
  afterAll(() => h.close());

  it('is the request as it stands: a PATCHed task and a switched language reach the next turn', async () => {
    const { t, headers } = h;
    const start = await t.sb.app.inject({ method: 'POST', url: '/v1/start-call', headers, payload: { phone_number: '+15550100', task: 'Book a table for two, call me on +46701234567', language: 'en' } });
    expect(start.statusCode, start.body).toBe(200);
    const { sid } = start.json();
    await advanceUntil(clock, async () => seen.length >= 1, 200, 60_000);
    // The personal number in the task is kept out of the brief, in every turn (the kept brief is the protected one).
    expect(seen[0].task).toContain('Book a table for two');
    expect(seen[0].task).not.toContain('46701234567');

    const patched = await t.sb.app.inject({ method: 'PATCH', url: `/v1/calls/${sid}`, headers, payload: { task: 'Cancel the booking for Friday' } });
    expect(patched.statusCode, patched.body).toBe(200);
    await advanceUntil(clock, async () => seen.length >= 3, 200, 60_000);
    await t.sb.app.inject({ method: 'POST', url: '/v1/end-call', headers, payload: { callSid: sid } });
    await advanceUntil(clock, async () => (await t.sb.app.inject({ method: 'GET', url: `/v1/calls/${sid}`, headers })).json().ended_at, 200, 60_000);

    expect(seen[1]).toEqual({ task: 'Cancel the booking for Friday', language: 'en' });
    expect(seen[2]).toEqual({ task: 'Cancel the booking for Friday', language: 'es' });
  });
});
