/**
 * Prompt assembly for the LLM brain, in one place. The brief has already had the share policy applied
 * (src/engine/brief.ts): a persona field that may not be said is absent, so nothing here can leak it. Keypad
 * fields are named, never shown: Switchboard types the digits itself.
 */
import type { AgentBrief, KeypadField } from '../../engine/brain.js';
import { isTaskKeypadField, taskFieldLabel } from '../../core/privacy/index.js';
import { own } from '../../lib/own.js';
import { formatInZone } from '../../core/calendar/time-zone.js';

export interface SystemPromptOptions {
  /** A name for the agent to introduce itself with; without one it is "an assistant". */
  agentName?: string;
  /** The current time, for "tomorrow" and "next Tuesday". Default: now. */
  now?: Date;
  /** Describe the `[[command:param]]` protocol instead of tools (models without tool calling). */
  inlineCommands: boolean;
}

const LANGUAGE_NAMES: Record<string, string> = {
  sv: 'Swedish', en: 'English', de: 'German', fr: 'French', es: 'Spanish', no: 'Norwegian', nb: 'Norwegian Bokmål',
  nn: 'Norwegian Nynorsk', da: 'Danish', fi: 'Finnish', nl: 'Dutch', it: 'Italian', pt: 'Portuguese', pl: 'Polish',
  ar: 'Arabic', tr: 'Turkish', ja: 'Japanese', zh: 'Chinese', hi: 'Hindi', ru: 'Russian', uk: 'Ukrainian',
  el: 'Greek', cs: 'Czech', hu: 'Hungarian', ro: 'Romanian', is: 'Icelandic', et: 'Estonian', lv: 'Latvian',
  lt: 'Lithuanian', ko: 'Korean', th: 'Thai', vi: 'Vietnamese', id: 'Indonesian', he: 'Hebrew', fa: 'Persian',
};

/** The English name of a language code (`sv` → `Swedish`); the code itself when unknown; Swedish when empty. */
export function languageName(code: string | undefined): string {
  const c = (code ?? '').trim().toLowerCase() || 'sv';
  return own(LANGUAGE_NAMES, c) ?? own(LANGUAGE_NAMES, c.slice(0, 2)) ?? c;
}

/** How a persona keypad field is named to the model. */
export const KEYPAD_FIELD_NAMES: Record<'phone' | 'personal_security_number', string> = {
  phone: "the caller's phone number",
  personal_security_number: "the caller's personal identity number",
};

/** How any keypad field is named to the model: a persona field, or a number taken out of the task. */
export function keypadFieldName(field: KeypadField): string {
  return isTaskKeypadField(field) ? taskFieldLabel(field) : KEYPAD_FIELD_NAMES[field];
}

/** `{{variables}}` in prompts and greetings (one implementation, shared with the core). */
export { renderTemplate } from '../../lib/template.js';

/** One formatter for every prompt: `toLocaleDateString` with options builds a new one on each call. */
const DAY = new Intl.DateTimeFormat('en-GB', { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' });
/** The last minute described, and how: every call's turns within one minute share it. */
let described = { minute: NaN, text: '' };

function describeNow(now: Date): string {
  const minute = Math.floor(now.getTime() / 60_000);
  if (minute !== described.minute) described = { minute, text: `${DAY.format(now)}, ${now.toISOString().slice(11, 16)} UTC` };
  return described.text;
}

/**
 * User-on-call: the client's operator talked with the callee before handing the call over; the agent goes on
 * from there instead of starting the conversation again.
 */
function roomSection(lines: NonNullable<AgentBrief['roomTranscript']>): string {
  const said = lines.map((l) => `- ${l.speaker === 'user' ? 'Your client' : 'The callee'}: ${l.text}`);
  return (
    '## Before you took over\nYour client was on this call with the callee and has handed it over to you. What was said so far:\n' +
    `${said.join('\n')}\n` +
    'Go on from there: do not start the conversation again, and do not ask for what was already answered.'
  );
}

/** The system prompt for one turn, built from the brief as it is now (a live change applies at the next turn). */
export function buildSystemPrompt(brief: AgentBrief, opts: SystemPromptOptions): string {
  const lang = languageName(brief.language);
  const p = brief.persona;
  const who = opts.agentName ? `${opts.agentName}, an assistant` : 'an assistant';
  const parts: string[] = [];

  parts.push(
    brief.inbound
      ? `You are ${who} answering an incoming phone call${brief.inbound.from ? ` from ${brief.inbound.from}` : ''}. The person who called ` +
          'is "the callee" in what follows. Everything you write is spoken aloud to them by a text-to-speech voice.'
      : `You are ${who} placing a phone call on behalf of ${p.name ?? 'a client'}. You are the caller: the person ` +
          'or phone system that answers is the callee. Everything you write is spoken aloud to them by a text-to-speech voice.',
  );
  if (brief.agentPrompt?.trim()) parts.push(`## Who you are\n${brief.agentPrompt.trim()}`);
  parts.push(`## Your task\n${brief.task.trim()}`);
  if (/\[(personal identity number|card number|phone number) \d+\]/.test(`${brief.task} ${brief.additionalPrompt}`)) {
    // Placeholders stand where the client wrote personal data (core/privacy/task-text.ts).
    parts.push(
      '## Withheld details\nDetails in square brackets such as [card number 1] were withheld from you for privacy. You do not ' +
        'know them: never guess, invent or read them out. If one is needed, type it on the keypad when that is offered below; ' +
        'otherwise say you cannot give it.',
    );
  }
  if (brief.greeting?.trim()) {
    // Answering, the opening line is said before the model's first turn (llm-brain.ts); calling out, the model opens with it.
    const opening = brief.inbound ? 'You opened the call with' : 'Open the call with';
    parts.push(`## Opening line\n${opening}: "${brief.greeting.trim()}"`);
  }
  if (brief.additionalPrompt.trim()) parts.push(`## Additional instructions\n${brief.additionalPrompt.trim()}`);
  if (brief.roomTranscript?.length) parts.push(roomSection(brief.roomTranscript));

  parts.push(
    `## Language\nThe call is in ${lang}. Speak only ${lang}, even if the callee switches language, unless they ` +
      `clearly cannot understand ${lang}.`,
  );

  const facts: string[] = [];
  if (p.name) facts.push(`- You are calling on behalf of: ${p.name}`);
  if (p.role) facts.push(`- Your role: ${p.role}`);
  if (p.phone) facts.push(`- The caller's phone number (you may say it): ${p.phone}`);
  if (p.personal_security_number) facts.push(`- The caller's personal identity number (you may say it): ${p.personal_security_number}`);
  if (p.address) facts.push(`- The caller's address: ${p.address}`);
  parts.push(
    `## What you may share\n${facts.length ? `${facts.join('\n')}\n` : ''}` +
      'Share nothing personal beyond this. If you are asked for something you do not have, say politely that you ' +
      'cannot share it or do not have it. Never invent names, numbers, dates or references.',
  );

  if (brief.keypadFields.length) {
    const how = opts.inlineCommands
      ? (f: string) => `[[keypad:${f}]]`
      : () => 'the enter_on_keypad tool';
    const lines = brief.keypadFields.map((f) => `- You can enter ${keypadFieldName(f)} on the keypad with ${how(f)}.`);
    parts.push(
      `## Keypad\n${lines.join('\n')}\nYou do not know these digits and cannot say them aloud: when asked for them, ` +
        'offer to type them on the keypad, or type them when a menu asks for them.',
    );
  }

  if (brief.transferNumber) {
    parts.push(`## Transfer\nIf the task requires it, you may transfer the call to ${brief.transferNumber}.`);
  }

  if (brief.calendar && !opts.inlineCommands) {
    const c = brief.calendar;
    parts.push(
      `## Calendar\nYou can see your client's calendar, in ${c.timeZone} time. Before you accept or suggest a time, check it with ` +
        'find_free_slots; never agree to a time your client is busy. ' +
        (c.write
          ? 'Once the callee has agreed a time, put it in the calendar with book_appointment, and tell them it is booked.'
          : 'You may not book: tell the callee your client will confirm.'),
    );
  }

  const etiquette = [
    'Speak in short, natural spoken sentences, one or two at a time, then let the callee answer.',
    'Never use markdown, lists, headings, emojis or abbreviations that do not read aloud well. Write numbers, times and dates the way they are spoken.',
    'Greet the person and say briefly why you are calling. Say you are an assistant calling on behalf of someone if asked.',
    opts.inlineCommands
      ? 'When you hear hold music, a recording or a phone menu announcement that needs no answer, stay silent by replying with only [[wait]].'
      : 'When you hear hold music, a recording or a phone menu announcement that needs no answer, stay silent: call the wait tool and say nothing.',
    opts.inlineCommands
      ? 'In a phone menu, choose the option that fits the task and press it with [[press:digits]].'
      : 'In a phone menu, choose the option that fits the task and press it with the press_keys tool.',
    opts.inlineCommands
      ? 'When a real person (not a menu or a recording) picks up, include [[human]] in your reply.'
      : 'When a real person (not a menu or a recording) picks up, call mark_human_answered.',
    'When the task is done, or cannot be done, thank the callee and say goodbye before you end the call.',
    'If you need information from your client that you do not have, ask them (they answer later) and meanwhile tell the callee you are checking.',
  ];
  parts.push(`## Phone etiquette\n${etiquette.map((l) => `- ${l}`).join('\n')}`);

  if (opts.inlineCommands) {
    const cmds = [
      '[[press:123]] sends the digits 0-9, * and # as keypad tones (w is a half-second pause).',
      ...brief.keypadFields.map((f) => `[[keypad:${f}]] types ${keypadFieldName(f)} on the keypad.`),
      ...(brief.transferNumber ? [`[[transfer:${brief.transferNumber}]] transfers the call.`] : []),
      '[[end_call:completed]] or [[end_call:not_completed]] ends the call (after you have said goodbye); [[end_call]] alone counts as not completed.',
      '[[request_user:your question]] asks your client a question; the answer arrives later as a note.',
      '[[wait]] says nothing and waits for the callee.',
      '[[human]] marks that a real person is on the line.',
    ];
    parts.push(
      '## Commands\nYou act by writing commands in double square brackets inside your reply. They are carried out in ' +
        'order and are never spoken. Use only these:\n' +
        cmds.map((c) => `- ${c}`).join('\n'),
    );
  } else {
    parts.push('## Tools\nUse your tools to act (keypad, ending the call, asking your client). Never describe a tool call aloud.');
  }

  const now = opts.now ?? new Date();
  parts.push(`## Now\nIt is ${describeNow(now)}.${brief.calendar ? ` In ${brief.calendar.timeZone} it is ${formatInZone(now.getTime(), brief.calendar.timeZone).slice(0, 16).replace('T', ' ')}.` : ''}`);
  return parts.join('\n\n');
}
