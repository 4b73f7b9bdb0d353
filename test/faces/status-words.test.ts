/** Every core state through every face's one table of words (FACES.md). */
import { describe, expect, it } from 'vitest';
import { CALL_STATES } from '../../src/core/calls/states.js';
import { STATUS_WORDS as CMC } from '../../src/faces/callmycall/map.js';
import { STATUS_WORDS as AGENTS, coreStates } from '../../src/faces/agents-api/map.js';
import { STATUS_WORDS as TRUEDY, TRUEDY_STATUSES } from '../../src/faces/truedy/map.js';

describe('status words per face', () => {
  it('CallMyCall: Twilio CallStatus words for every state', () => {
    const twilio = ['queued', 'ringing', 'in-progress', 'completed', 'busy', 'no-answer', 'canceled', 'failed'];
    for (const s of CALL_STATES) expect(twilio).toContain(CMC[s]);
    expect(CMC.voicemail).toBe('completed');
  });

  it("agents/tasks: 002's four words for every state", () => {
    const expected: Record<string, string> = {
      queued: 'initiated', ringing: 'initiated', in_progress: 'in_progress', completed: 'completed',
      busy: 'failed', no_answer: 'failed', voicemail: 'failed', failed: 'failed', canceled: 'failed',
    };
    for (const s of CALL_STATES) expect(AGENTS[s]).toBe(expected[s]);
    // The status filter covers every state exactly once.
    const covered = ['initiated', 'in_progress', 'completed', 'failed'].flatMap(coreStates).sort();
    expect(covered).toEqual([...CALL_STATES].sort());
  });

  it("Truedy: 003's words for every state; canceled is failed", () => {
    for (const s of CALL_STATES) expect(TRUEDY_STATUSES).toContain(TRUEDY[s]);
    expect(TRUEDY.canceled).toBe('failed');
    expect(TRUEDY.voicemail).toBe('voicemail');
    expect(TRUEDY.no_answer).toBe('no_answer');
  });
});
