/**
 * What the agent may know about its call. The share policy is applied here, once: a persona field whose
 * `*_voice` flag is false is left out of the brief entirely (so no brain, prompt or tool result can
 * contain it); where its `*_dtmf` flag is true the agent may type it on the keypad without seeing it.
 */
import type { CallRequest } from '../core/calls/request.js';
import type { AgentBrief } from './brain.js';

export function buildBrief(req: CallRequest): AgentBrief {
  const p = req.persona ?? {};
  const s = req.sharePolicy;
  const persona: AgentBrief['persona'] = {};
  if (p.name && s.name_voice) persona.name = p.name;
  if (p.phone && s.phone_voice) persona.phone = p.phone;
  if (p.personal_security_number && s.pnr_voice) persona.personal_security_number = p.personal_security_number;
  if (p.address) persona.address = p.address;
  if (p.role) persona.role = p.role;
  const keypadFields: AgentBrief['keypadFields'] = [];
  if (p.phone && s.phone_dtmf) keypadFields.push('phone');
  if (p.personal_security_number && s.pnr_dtmf) keypadFields.push('personal_security_number');
  return {
    task: req.task,
    additionalPrompt: req.additionalPrompt,
    language: req.language,
    persona,
    keypadFields,
    transferNumber: req.transferNumber,
    ...(req.agent?.systemPrompt ? { agentPrompt: req.agent.systemPrompt } : {}),
    ...(req.agent?.greeting ? { greeting: req.agent.greeting } : {}),
    ...(req.direction === 'inbound' ? { inbound: req.fromNumber ? { from: req.fromNumber } : {} } : {}),
    ...(req.calendar?.enabled && req.calendar.keyId && req.calendar.timeZone
      ? { calendar: { timeZone: req.calendar.timeZone, read: req.calendar.permissions.read, write: req.calendar.permissions.write } }
      : {}),
  };
}

/** The digits Switchboard types for a keypad field (never shown to the brain or written to a transcript). */
export function keypadDigits(req: CallRequest, field: 'phone' | 'personal_security_number'): string | null {
  const allowed = field === 'phone' ? req.sharePolicy.phone_dtmf : req.sharePolicy.pnr_dtmf;
  const value = req.persona?.[field];
  if (!allowed || !value) return null;
  const digits = value.replace(/[^0-9*#]/g, '');
  return digits || null;
}

export const KEYPAD_FIELD_LABEL: Record<'phone' | 'personal_security_number', string> = {
  phone: 'phone number',
  personal_security_number: 'personal identity number',
};
