import { describe, it, expect } from 'vitest';
import { SIM_BEEP } from '../../src/carriers/sim/index.js';
import { brief, runCall } from './sim-harness.js';

const said = (r: { transcript: Array<{ role: string; text: string }> }, role: string) =>
  r.transcript.filter((t) => t.role === role).map((t) => t.text);

describe('sim carrier with the rules brain', () => {
  it('+15550100: the receptionist asks for the name and reference, then confirms the booking', async () => {
    const r = await runCall(
      '+15550100',
      brief({
        task: 'Confirm my dinner booking for Tuesday at 7 pm',
        additionalPrompt: 'The booking reference is AB123.',
        persona: { name: 'John Smith' },
      }),
    );
    expect(r.events).toEqual(['ringing', 'answered', 'ended']);
    expect(r.answeredBy).toBe('human');
    expect(r.status).toBe('completed');
    expect(r.outcome).toEqual({ goalCompleted: true, reason: 'task_completed' });
    const callee = said(r, 'callee');
    const agent = said(r, 'agent');
    expect(callee[0]).toMatch(/Bella Cucina/);
    expect(agent[0]).toMatch(/on behalf of John Smith.*confirm the dinner booking for Tuesday at 7 pm/);
    expect(callee.some((t) => /What name is the booking under/.test(t))).toBe(true);
    expect(agent).toContain("It's John Smith.");
    expect(agent).toContain('The booking reference is AB123.');
    expect(callee.some((t) => /on Tuesday at 7 pm\. That's all confirmed/.test(t))).toBe(true);
    expect(r.actions.at(-1)).toEqual({ type: 'end', goalCompleted: true, reason: 'task_completed' });
  });

  it('+15550100: moving a booking uses the time the agent asked for', async () => {
    const r = await runCall(
      '+15550100',
      brief({ task: 'Move my booking on Tuesday to Friday at 8 pm, booking reference XY789', persona: { name: 'Ann Lee' } }),
    );
    expect(r.outcome?.goalCompleted).toBe(true);
    // The reference was in the opening, so the receptionist does not ask for it.
    expect(said(r, 'callee').some((t) => /booking reference\?/.test(t))).toBe(false);
    expect(said(r, 'callee').some((t) => /moved your booking to Friday at 8 pm/.test(t))).toBe(true);
  });

  it('+15550100: without a name to give, the receptionist cannot help and the task is not done', async () => {
    const r = await runCall('+15550100', brief({ task: 'Confirm my booking for Tuesday at 7 pm' }));
    expect(r.status).toBe('completed');
    expect(said(r, 'agent')).toContain("I'm sorry, I'm not able to share that.");
    expect(r.outcome).toEqual({ goalCompleted: false, reason: 'task_refused' });
  });

  it('+46701740605: the Swedish receptionist and the agent speak Swedish', async () => {
    const r = await runCall(
      '+46701740605',
      brief({
        task: 'Bekräfta min bokning på tisdag klockan 10',
        additionalPrompt: 'Bokningsnummer KL456.',
        language: 'sv',
        persona: { name: 'Johan Svensson' },
      }),
    );
    expect(r.outcome).toEqual({ goalCompleted: true, reason: 'task_completed' });
    const agent = said(r, 'agent');
    const callee = said(r, 'callee');
    expect(callee[0]).toMatch(/Salong Lugn/);
    expect(agent[0]).toMatch(/^Hej, det här är en assistent som ringer för Johan Svenssons räkning\. Jag ringer för att bekräfta bokningen på tisdag klockan 10\.$/);
    expect(callee.some((t) => /Vilket namn/.test(t))).toBe(true);
    expect(agent).toContain('Det är Johan Svensson.');
    expect(agent).toContain('Bokningsnumret är KL456.');
    expect(callee.some((t) => /bekräftad/.test(t))).toBe(true);
    expect(agent.at(-1)).toMatch(/Hej då!$/);
    for (const t of agent) expect(t).not.toMatch(/\b(the|calling|booking|thank)\b/i);
  });

  it('+15550101: presses through the clinic menu, stays quiet on hold, and moves the appointment with a person', async () => {
    const r = await runCall(
      '+15550101',
      brief({ task: 'Move my appointment on Tuesday at 9 am to Thursday at 10 am', persona: { name: 'Maria Garcia' } }),
    );
    const presses = r.actions.filter((a) => a.type === 'press').map((a) => (a as { digits: string }).digits);
    expect(presses).toEqual(['1', '2']);
    const callee = said(r, 'callee');
    const holdAt = callee.findIndex((t) => /All our staff are currently busy/.test(t));
    const personAt = callee.findIndex((t) => /this is Sam/.test(t));
    expect(holdAt).toBeGreaterThan(0);
    expect(personAt).toBeGreaterThan(holdAt);
    // Nothing said between the menu and the person picking up: silent on hold.
    const entryAt = r.transcript.findIndex((t) => /Please hold while we connect you/.test(t.text));
    const samAt = r.transcript.findIndex((t) => /this is Sam/.test(t.text));
    expect(r.transcript.slice(entryAt, samAt).every((t) => t.role === 'callee')).toBe(true);
    expect(r.transcript.slice(samAt + 1).some((t) => t.role === 'agent' && /calling to move the appointment/.test(t.text))).toBe(true);
    expect(callee.some((t) => /moved the appointment/.test(t) && /Thursday at 10 am/.test(t))).toBe(true);
    expect(r.outcome).toEqual({ goalCompleted: true, reason: 'task_completed' });
  });

  it('+15550102 is busy', async () => {
    const r = await runCall('+15550102', brief());
    expect(r.events).toEqual(['ringing', 'ended']);
    expect(r.status).toBe('busy');
  });

  it('+15550103 rings out as no answer, sooner with a shorter ring timeout', async () => {
    const r = await runCall('+15550103', brief());
    expect(r.events).toEqual(['ringing', 'ended']);
    expect(r.status).toBe('no_answer');
    const short = await runCall('+15550100', brief(), { ringTimeoutSeconds: 2 });
    expect(short.status).toBe('no_answer');
  });

  it('+15550104: the answering machine takes a message after the beep', async () => {
    const r = await runCall('+15550104', brief({ task: 'Ask Maria to call back about the invoice', persona: { name: 'Tom' } }));
    expect(r.answeredBy).toBe('machine');
    expect(r.events).toEqual(['ringing', 'answered', 'ended']);
    const beepAt = r.transcript.findIndex((t) => t.role === 'callee' && t.text === SIM_BEEP);
    expect(beepAt).toBeGreaterThan(0);
    const message = r.transcript.slice(beepAt + 1).find((t) => t.role === 'agent');
    expect(message?.text).toMatch(/on behalf of Tom.*ask Maria to call back about the invoice/);
    expect(r.line.some((l) => l.who === 'agent' && l.text === message?.text)).toBe(true);
    expect(r.outcome).toEqual({ goalCompleted: false, reason: 'voicemail' });
    expect(r.status).toBe('completed');
  });

  it('an invalid number fails with invalid_number', async () => {
    for (const to of ['+15550199', '+15559999']) {
      const r = await runCall(to, brief());
      expect(r.events).toEqual(['ended']);
      expect(r.status).toBe('failed');
      expect(r.reason).toBe('invalid_number');
    }
  });

  it('hanging up while ringing cancels the call, and nothing follows', async () => {
    const r = await runCall('+15550100', brief(), { hangupAfterRinging: true });
    expect(r.events).toEqual(['ringing', 'ended']);
    expect(r.status).toBe('canceled');
  });
});
