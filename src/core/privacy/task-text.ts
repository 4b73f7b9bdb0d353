/**
 * Personal data the client wrote into a call's task text, kept from the model like a protected persona
 * field. Each number found is replaced by a placeholder (`[personal identity number 1]`) in the text the
 * agent sees; where the share policy allows keypad entry, the agent gets a keypad field for it and
 * Switchboard types the digits without the model ever seeing them.
 *
 * Identity and card numbers are kept from the model whatever the `*_voice` flags say: written into free
 * text they cannot be limited to a live listener (a voicemail records what is said). Phone numbers other
 * than the call's own (destination, transfer number) follow the persona phone: said only with
 * `phone_voice`, typed only with `phone_dtmf`. Identity and card numbers are typed only with `pnr_dtmf`.
 */
import type { SharePolicy } from '../calls/persona.js';
import { findPersonalData, type PersonalDataKind } from './personal-data.js';

/** A keypad field for a number found in the task: `task_identity_number_1`, `task_card_number_2`, … */
export type TaskKeypadField = `task_${PersonalDataKind}_${number}`;

export interface TaskDetail {
  field: TaskKeypadField;
  kind: PersonalDataKind;
  /** How the text the agent sees names it, e.g. `[card number 1]`. */
  placeholder: string;
  digits: string;
  /** Whether the share policy lets the agent type it. */
  keypad: boolean;
}

export interface ProtectedText {
  task: string;
  additionalPrompt: string;
  details: TaskDetail[];
}

export const DETAIL_NAMES: Record<PersonalDataKind, string> = {
  identity_number: 'personal identity number',
  card_number: 'card number',
  phone_number: 'phone number',
};

/** What a call says about itself that the protection needs. */
export interface TaskTextSource {
  task: string;
  additionalPrompt: string;
  sharePolicy: SharePolicy;
  /** The call's own numbers (destination, transfer number): not personal data of the client's. */
  ownNumbers: string[];
}

function isProtected(kind: PersonalDataKind, s: SharePolicy): boolean {
  return kind !== 'phone_number' || !s.phone_voice;
}

function mayType(kind: PersonalDataKind, s: SharePolicy): boolean {
  return kind === 'phone_number' ? s.phone_dtmf : s.pnr_dtmf;
}

/**
 * The task and additional instructions as the agent may see them, and the details taken out. The same
 * number written twice gets one placeholder; numbering is per kind, in reading order, task first.
 */
export function protectTaskText(src: TaskTextSource): ProtectedText {
  const details: TaskDetail[] = [];
  const replace = (text: string): string => {
    let out = '';
    let at = 0;
    for (const m of findPersonalData(text, { ownNumbers: src.ownNumbers })) {
      if (!isProtected(m.kind, src.sharePolicy)) continue;
      let detail = details.find((d) => d.kind === m.kind && d.digits === m.digits);
      if (!detail) {
        const n = details.filter((d) => d.kind === m.kind).length + 1;
        detail = {
          field: `task_${m.kind}_${n}`,
          kind: m.kind,
          placeholder: `[${DETAIL_NAMES[m.kind]} ${n}]`,
          digits: m.digits,
          keypad: mayType(m.kind, src.sharePolicy),
        };
        details.push(detail);
      }
      out += text.slice(at, m.start) + detail.placeholder;
      at = m.end;
    }
    return out + text.slice(at);
  };
  return { task: replace(src.task), additionalPrompt: replace(src.additionalPrompt), details };
}

export function isTaskKeypadField(field: string): field is TaskKeypadField {
  return /^task_(identity_number|card_number|phone_number)_\d+$/.test(field);
}

/** How a task keypad field is named to the model and in the transcript: "the card number written in the task as [card number 1]". */
export function taskFieldLabel(field: TaskKeypadField): string {
  const m = /^task_(identity_number|card_number|phone_number)_(\d+)$/.exec(field)!;
  const kind = m[1] as PersonalDataKind;
  return `the ${DETAIL_NAMES[kind]} written in the task as [${DETAIL_NAMES[kind]} ${m[2]}]`;
}
