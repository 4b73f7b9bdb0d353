import { describe, it, expect } from 'vitest';
import { buildSystemPrompt, renderTemplate, languageName } from '../../src/ai/agent/index.js';
import { canonicalStartCall, type StartCallFields } from '../../src/core/calls/request.js';
import { buildBrief } from '../../src/engine/brief.js';

const PHONE = '+46701234567';
const PNR = '19800101-1234';

function brief(over: Partial<StartCallFields> = {}) {
  return buildBrief(
    canonicalStartCall({
      phone_number: '+46700000001',
      task: 'Confirm my booking for Tuesday at 7 pm',
      persona: { name: 'Ann Berg', phone: PHONE, personal_security_number: PNR, address: 'Storgatan 1' },
      ...over,
    }),
  );
}

describe('system prompt', () => {
  it('tells an agent taking over a user-on-call room what was said there, by whom, in order; nothing without it', () => {
    const roomTranscript = [
      { speaker: 'callee' as const, text: 'City Clinic, Maria speaking.' },
      { speaker: 'user' as const, text: 'Hi, I would like to book a check-up.' },
    ];
    const p = buildSystemPrompt({ ...brief(), roomTranscript }, { inlineCommands: false });
    expect(p).toContain('## Before you took over');
    expect(p).toContain('- The callee: City Clinic, Maria speaking.\n- Your client: Hi, I would like to book a check-up.');
    expect(p).toMatch(/do not start the conversation again/);
    expect(buildSystemPrompt(brief(), { inlineCommands: false })).not.toContain('Before you took over');
  });

  it('states the task, the additional prompt and the language (Swedish by default)', () => {
    const p = buildSystemPrompt(brief({ additional_prompt: 'Be brief.' }), { inlineCommands: false });
    expect(p).toContain('Confirm my booking for Tuesday at 7 pm');
    expect(p).toContain('Be brief.');
    expect(p).toMatch(/Speak only Swedish/);
    expect(buildSystemPrompt(brief({ language: 'en' }), { inlineCommands: false })).toMatch(/Speak only English/);
    expect(p).toMatch(/placing a phone call on behalf of Ann Berg/);
  });

  it('names the allowed persona fields and leaves out the ones whose voice flag is false', () => {
    const b = brief({ share_policy: { name_voice: true, phone_voice: false, pnr_voice: false } });
    expect(b.persona.phone).toBeUndefined();
    const p = buildSystemPrompt(b, { inlineCommands: false });
    expect(p).toContain('Ann Berg');
    expect(p).toContain('Storgatan 1');
    expect(p).not.toContain(PHONE);
    expect(p).not.toContain('701234567');
    expect(p).not.toContain(PNR);
    const open = buildSystemPrompt(brief({ share_policy: { phone_voice: true } }), { inlineCommands: false });
    expect(open).toContain(PHONE);
  });

  it('leaves out the name when name_voice is false', () => {
    const p = buildSystemPrompt(brief({ share_policy: { name_voice: false } }), { inlineCommands: false });
    expect(p).not.toContain('Ann Berg');
  });

  it('mentions keypad fields by name only, never their digits', () => {
    const b = brief({ share_policy: { phone_dtmf: true, pnr_dtmf: true } });
    expect(b.keypadFields).toEqual(['phone', 'personal_security_number']);
    const p = buildSystemPrompt(b, { inlineCommands: false });
    expect(p).toContain("You can enter the caller's phone number on the keypad with the enter_on_keypad tool.");
    expect(p).toContain("the caller's personal identity number");
    expect(p).not.toMatch(/701234567|19800101/);
    expect(buildSystemPrompt(brief(), { inlineCommands: false })).not.toContain('enter_on_keypad');
  });

  it('gives the transfer number only when there is one', () => {
    expect(buildSystemPrompt(brief({ transfer_number: '+46855500000' }), { inlineCommands: false })).toContain('+46855500000');
    expect(buildSystemPrompt(brief(), { inlineCommands: false })).not.toMatch(/## Transfer/);
  });

  it('describes phone etiquette and, in inline mode, the 004 command protocol instead of tools', () => {
    const tools = buildSystemPrompt(brief(), { inlineCommands: false });
    expect(tools).toMatch(/no markdown|Never use markdown/i);
    expect(tools).toMatch(/wait tool/);
    expect(tools).toMatch(/press_keys/);
    expect(tools).toMatch(/mark_human_answered/);
    expect(tools).toMatch(/goodbye/);
    expect(tools).not.toContain('[[press');
    const inline = buildSystemPrompt(brief({ transfer_number: '+46855500000', share_policy: { phone_dtmf: true } }), { inlineCommands: true });
    for (const c of ['[[press:123]]', '[[transfer:+46855500000]]', '[[end_call]]', '[[request_user:', '[[wait]]', '[[keypad:phone]]']) {
      expect(inline).toContain(c);
    }
    expect(inline).not.toMatch(/press_keys|enter_on_keypad/);
  });

  it('includes the agent name and the date', () => {
    const p = buildSystemPrompt(brief(), { inlineCommands: false, agentName: 'Maja', now: new Date(Date.UTC(2026, 0, 6, 14, 5)) });
    expect(p).toContain('Maja');
    expect(p).toContain('Tuesday, 6 January 2026, 14:05 UTC');
  });

  it('names languages from their codes', () => {
    expect(languageName('sv')).toBe('Swedish');
    expect(languageName('de')).toBe('German');
    expect(languageName('')).toBe('Swedish');
    expect(languageName('xx')).toBe('xx');
  });
});

describe('renderTemplate', () => {
  it('replaces variables, coercing values to strings', () => {
    expect(renderTemplate('Hi {{name}}, {{ count }} items, paid: {{paid}}, {{obj}}', { name: 'Ann', count: 3, paid: false, obj: { a: 1 } })).toEqual({
      text: 'Hi Ann, 3 items, paid: false, {"a":1}',
      missing: [],
    });
  });

  it('renders a missing variable empty and lists it once', () => {
    expect(renderTemplate('Call {{who}} about {{what}} and {{who}} again {{nothing}}', { what: 'x', nothing: null })).toEqual({
      text: 'Call  about x and  again ',
      missing: ['who', 'nothing'],
    });
  });

  it('leaves text without variables alone', () => {
    expect(renderTemplate('No {braces} here {{', {})).toEqual({ text: 'No {braces} here {{', missing: [] });
  });
});
