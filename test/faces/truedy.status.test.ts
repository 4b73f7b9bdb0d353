/** Every core state through Truedy's one table (map.ts): 003's words, and `canceled` → `failed` + last_error. */
import { describe, expect, it } from 'vitest';
import { CALL_STATES, LIVE_STATES } from '../../src/core/calls/states.js';
import { STATUS_WORDS, TRUEDY_STATUSES, callView, coreStates, statusWord } from '../../src/faces/truedy/map.js';
import type { CallRow } from '../../src/store/index.js';

function row(status: string, extra: Partial<CallRow> = {}): CallRow {
  return {
    id: '44ec8f61-6d9a-4553-a6ca-777f5f5ef95b', sid: 'CA1', org_id: 'o', direction: 'outbound', from_number: '+15557770001', to_number: '+14155550123',
    status, request: { face: 'truedy', to: '+14155550123', task: 'x', metadata: {}, context: { a: 1 } }, carrier: 'sim', brain: null,
    answered_by: null, outcome: null, end_reason: null, last_error: null, goal_completed: null, summary: null, extracted: null, duration_seconds: null,
    credits_charged: null, cost_usd: null, owner_node: null, answered_at: null, ended_at: null, agent_id: null, task_id: null, next_seq: 1,
    created_at: new Date(), updated_at: new Date(), ...extra,
  } as unknown as CallRow;
}

const EXPECTED: Record<string, string> = {
  queued: 'queued',
  ringing: 'ringing',
  in_progress: 'in_progress',
  completed: 'completed',
  busy: 'busy',
  no_answer: 'no_answer',
  voicemail: 'voicemail',
  failed: 'failed',
  canceled: 'failed',
};

describe('Truedy status words', () => {
  it('maps every core state to one of 003\'s statuses', () => {
    for (const s of CALL_STATES) {
      expect(TRUEDY_STATUSES).toContain(STATUS_WORDS[s]);
      expect(statusWord(s)).toBe(EXPECTED[s]);
      expect(callView(row(s)).status).toBe(EXPECTED[s]);
    }
    // Every Truedy status is reachable.
    for (const w of TRUEDY_STATUSES) expect(coreStates(w).length).toBeGreaterThan(0);
    expect(coreStates('failed').sort()).toEqual(['canceled', 'failed']);
  });

  it('003\'s active statuses are exactly the core\'s live states (delete refuses them)', () => {
    expect([...LIVE_STATES].map(statusWord).sort()).toEqual(['in_progress', 'queued', 'ringing']);
  });

  it('failed and canceled calls carry context.last_error; others do not', () => {
    expect(callView(row('canceled', { end_reason: 'ended_by_api' })).context).toEqual({ a: 1, last_error: 'canceled' });
    expect(callView(row('failed', { last_error: 'dial_failed: 503' })).context).toEqual({ a: 1, last_error: 'dial_failed: 503' });
    expect(callView(row('failed', { end_reason: 'invalid_number' })).context.last_error).toBe('invalid_number');
    for (const s of ['queued', 'ringing', 'in_progress', 'completed', 'busy', 'no_answer', 'voicemail']) {
      expect(callView(row(s)).context).not.toHaveProperty('last_error');
    }
  });

  it('cost_usd is the billed cost kept with the call; null until billed', () => {
    expect(callView(row('in_progress')).cost_usd).toBeNull();
    expect(callView(row('completed', { credits_charged: 3, cost_usd: 0.15 })).cost_usd).toBe(0.15);
  });
});
