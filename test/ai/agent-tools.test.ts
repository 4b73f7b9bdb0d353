import { describe, it, expect } from 'vitest';
import { toolSpecs, toolCallToAction, inlineCommandToAction } from '../../src/ai/agent/index.js';
import type { AgentBrief } from '../../src/engine/brain.js';

function brief(over: Partial<AgentBrief> = {}): AgentBrief {
  return { task: 'Book a table', additionalPrompt: '', language: 'en', persona: {}, keypadFields: [], ...over };
}
const call = (name: string, args: unknown) => ({ name, arguments: typeof args === 'string' ? args : JSON.stringify(args) });

describe('agent tools', () => {
  it('offers keypad entry and transfer only when the brief allows them', () => {
    expect(toolSpecs(brief()).map((t) => t.name)).toEqual(['press_keys', 'end_call', 'ask_operator', 'wait', 'mark_human_answered', 'switch_language']);
    const all = toolSpecs(brief({ keypadFields: ['phone'], transferNumber: '+46855500000' }));
    expect(all.map((t) => t.name)).toEqual(['press_keys', 'enter_on_keypad', 'transfer_call', 'end_call', 'ask_operator', 'wait', 'mark_human_answered', 'switch_language']);
    expect(JSON.stringify(all.find((t) => t.name === 'enter_on_keypad'))).toContain('"enum":["phone"]');
  });

  it('maps tool calls to actions', () => {
    const b = brief({ keypadFields: ['personal_security_number'], transferNumber: '+46855500000' });
    expect(toolCallToAction(call('press_keys', { digits: '1#' }), b)).toEqual({ ok: true, action: { type: 'press', digits: '1#' } });
    expect(toolCallToAction(call('enter_on_keypad', { field: 'personal_security_number' }), b)).toEqual({
      ok: true,
      action: { type: 'press_field', field: 'personal_security_number' },
    });
    expect(toolCallToAction(call('transfer_call', {}), b)).toEqual({ ok: true, action: { type: 'transfer', to: '+46855500000', warm: false } });
    expect(toolCallToAction(call('transfer_call', { to: '+46 8 555 000 00', warm: true }), b)).toEqual({
      ok: true,
      action: { type: 'transfer', to: '+46855500000', warm: true },
    });
    expect(toolCallToAction(call('end_call', { goal_completed: true, reason: 'Task completed' }), b)).toEqual({
      ok: true,
      action: { type: 'end', goalCompleted: true, reason: 'task_completed' },
    });
    expect(toolCallToAction(call('ask_operator', { question: 'Which day?' }), b)).toEqual({ ok: true, action: { type: 'ask_operator', question: 'Which day?' } });
    expect(toolCallToAction(call('wait', ''), b)).toEqual({ ok: true, action: { type: 'wait' } });
    expect(toolCallToAction(call('mark_human_answered', {}), b)).toEqual({ ok: true, action: { type: 'human_answered' } });
    expect(toolCallToAction(call('switch_language', { language: 'es-ES' }), b)).toEqual({ ok: true, action: { type: 'switch_language', language: 'es' } });
    expect(toolCallToAction(call('switch_language', { language: 'Swedish' }), b)).toEqual({ ok: true, action: { type: 'switch_language', language: 'sv' } });
    expect(toolCallToAction(call('switch_language', { language: 'klingon!' }), b)).toMatchObject({ ok: false, error: expect.stringMatching(/language must be/) });
    expect(toolCallToAction(call('switch_language', {}), b)).toMatchObject({ ok: false });
  });

  it('turns bad arguments into errors for the model', () => {
    const b = brief();
    const bad = [
      call('press_keys', '{"digits": 12'),
      call('press_keys', { digits: 12 }),
      call('press_keys', { digits: '1-2' }),
      call('press_keys', { digits: '1'.repeat(33) }),
      call('press_keys', '[1]'),
      call('enter_on_keypad', { field: 'phone' }),
      call('transfer_call', {}),
      call('end_call', { goal_completed: 'yes', reason: 'x' }),
      call('ask_operator', { question: '' }),
      call('launch_rocket', {}),
    ];
    for (const c of bad) {
      const r = toolCallToAction(c, b);
      expect(r.ok, c.name + c.arguments).toBe(false);
      if (!r.ok) expect(r.error).toBeTruthy();
    }
  });

  it('refuses a transfer destination other than the allowed one', () => {
    const r = toolCallToAction(call('transfer_call', { to: '+15551234567' }), brief({ transferNumber: '+46855500000' }));
    expect(r).toEqual({ ok: false, error: 'the only allowed transfer destination is +46855500000' });
  });

  it('maps inline commands through the same checks', () => {
    const b = brief({ transferNumber: '+46855500000' });
    expect(inlineCommandToAction({ name: 'press', param: '1 2 3' }, b)).toEqual({ ok: true, action: { type: 'press', digits: '123' } });
    expect(inlineCommandToAction({ name: 'end_call' }, b)).toEqual({ ok: true, action: { type: 'end', goalCompleted: false, reason: 'agent_ended' } });
    expect(inlineCommandToAction({ name: 'end_call', param: 'completed' }, b)).toEqual({
      ok: true,
      action: { type: 'end', goalCompleted: true, reason: 'task_completed' },
    });
    expect(inlineCommandToAction({ name: 'request_user', param: 'What is the account number?' }, b)).toEqual({
      ok: true,
      action: { type: 'ask_operator', question: 'What is the account number?' },
    });
    expect(inlineCommandToAction({ name: 'transfer', param: '+15551234567' }, b).ok).toBe(false);
    expect(inlineCommandToAction({ name: 'keypad', param: 'phone' }, b).ok).toBe(false);
    expect(inlineCommandToAction({ name: 'press', param: 'abc' }, b).ok).toBe(false);
  });
});
