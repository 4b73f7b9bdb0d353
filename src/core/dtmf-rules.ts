/**
 * An agent's `dtmf_rules` (002: "DTMF input rules configuration"): keys the agent presses when the other
 * side says certain words — phone menus answered the same way on every call without asking the model.
 * Shape: `{ "<words the callee says>": "<keys>" }`, e.g. `{ "for bookings press 2": "2", "your account
 * number": "w1234#" }`. Keys are `0-9 * #` and `w` (a half-second pause), as for every other key press.
 * Anything else is refused with a 400 naming the rule (`dtmf_rules.<words>`); nothing is stored then.
 */
import { validationError } from './errors.js';

export type DtmfRules = Record<string, string>;

export const DTMF_RULES_MAX = 50;
const WORDS_MAX = 200;
const KEYS_RE = /^[0-9*#w]{1,32}$/;

/** Lower case, punctuation gone, single spaces: how the callee's words and a rule's words are compared. */
export function normalizeWords(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^\p{L}\p{N}*#]+/gu, ' ')
    .trim();
}

/** The rules as stored, or a validation error naming the field of the first bad one. */
export function parseDtmfRules(value: unknown, field = 'dtmf_rules'): DtmfRules {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw validationError(field, `${field} must be an object of "words the callee says": "keys to press"`);
  }
  const entries = Object.entries(value);
  if (entries.length > DTMF_RULES_MAX) throw validationError(field, `${field} may hold at most ${DTMF_RULES_MAX} rules`);
  for (const [words, keys] of entries) {
    // Too long to be named in the answer: the field is the rules as a whole then.
    if (words.length > WORDS_MAX) throw validationError(field, `${field}: each rule's words must be at most ${WORDS_MAX} characters`);
    const name = `${field}.${words}`;
    if (!normalizeWords(words)) throw validationError(name, `${name}: a rule's words need a letter or digit`);
    if (typeof keys !== 'string' || !KEYS_RE.test(keys)) throw validationError(name, `${name} must be keys to press: 1 to 32 of 0-9 * # and w (a pause)`);
  }
  // fromEntries defines own properties: a rule named `__proto__` stays a rule, never a prototype.
  return Object.fromEntries(entries) as DtmfRules;
}

/** The keys of the first rule whose words the callee said (in order of the rules), if any. */
export function keysFor(rules: DtmfRules, heard: string): { words: string; keys: string } | undefined {
  const said = ` ${normalizeWords(heard)} `;
  for (const [words, keys] of Object.entries(rules)) {
    if (said.includes(` ${normalizeWords(words)} `)) return { words, keys };
  }
  return undefined;
}
