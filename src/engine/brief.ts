/**
 * What the agent may know about its call. The share policy is applied here, once: a persona field whose
 * `*_voice` flag is false is left out of the brief entirely (so no brain, prompt or tool result can
 * contain it); where its `*_dtmf` flag is true the agent may type it on the keypad without seeing it.
 */
import type { CallRequest } from '../core/calls/request.js';
import { isTaskKeypadField, protectTaskText, taskFieldLabel, type ProtectedText } from '../core/privacy/index.js';
import type { AgentBrief, KeypadField } from './brain.js';

/** The task text of a call with the personal data written into it taken out (see core/privacy/task-text.ts). */
export function protectedTask(req: CallRequest): ProtectedText {
  return protectTaskText({
    task: req.task,
    additionalPrompt: req.additionalPrompt,
    sharePolicy: req.sharePolicy,
    ownNumbers: [req.to, ...(req.transferNumber ? [req.transferNumber] : [])],
  });
}

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
  const text = protectedTask(req);
  for (const d of text.details) if (d.keypad) keypadFields.push(d.field);
  return {
    task: text.task,
    additionalPrompt: text.additionalPrompt,
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
export function keypadDigits(req: CallRequest, field: KeypadField): string | null {
  if (isTaskKeypadField(field)) {
    const detail = protectedTask(req).details.find((d) => d.field === field);
    return detail?.keypad ? detail.digits : null;
  }
  const allowed = field === 'phone' ? req.sharePolicy.phone_dtmf : req.sharePolicy.pnr_dtmf;
  const value = req.persona?.[field];
  if (!allowed || !value) return null;
  const digits = value.replace(/[^0-9*#]/g, '');
  return digits || null;
}

const PERSONA_FIELD_LABEL: Record<'phone' | 'personal_security_number', string> = {
  phone: 'phone number',
  personal_security_number: 'personal identity number',
};

/** How a keypad field is named in the transcript ("[entered phone number by keypad]"). */
export function keypadFieldLabel(field: KeypadField): string {
  return isTaskKeypadField(field) ? taskFieldLabel(field) : PERSONA_FIELD_LABEL[field];
}

/** The mark that stands for a protected digit wherever key presses are shown. */
export const MASKED_DIGIT = '•';

/**
 * Keys as they may be shown in the transcript stream, the call's record and the CLI: a run of digits that
 * is a value the share policy protects (a persona field not to be said, a number withheld from the task)
 * is masked, digit by digit; menu choices and other keys stay readable.
 */
export function shownKeys(req: CallRequest, keys: string): string {
  const p = req.persona ?? {};
  const s = req.sharePolicy;
  const secrets = [
    ...(p.phone && !s.phone_voice ? [p.phone] : []),
    ...(p.personal_security_number && !s.pnr_voice ? [p.personal_security_number] : []),
    ...protectedTask(req).details.map((d) => d.digits),
  ]
    .flatMap((v) => {
      const digits = v.replace(/\D/g, '');
      // Also the forms a menu might be given: without the century, or without the country code.
      return [digits, digits.length === 12 ? digits.slice(2) : '', digits.replace(/^(46|1|44)/, '0')];
    })
    .filter((d) => d.length >= 6)
    .sort((a, b) => b.length - a.length);
  let shown = keys;
  for (const secret of secrets) shown = shown.split(secret).join(MASKED_DIGIT.repeat(secret.length));
  return shown;
}
