/**
 * What a scenario's party can say: every spoken string of its file (greetings, questions, replies, menu
 * prompts, hold messages), once each. The offline recogniser's domain language model is built from these
 * (src/speech/language-model.ts), and bench/offline-wer.ts speaks and scores them: one walk for both, so the
 * bench measures the lines the model was made for.
 */
import type { Scenario } from './scenarios.js';

/** Keys whose strings are not speech (matching rules, names of menus, descriptions). */
const NOT_SPOKEN = new Set(['number', 'name', 'kind', 'language', 'description', 'keywords', 'expect', 'key', 'intent', 'outcome', 'start', 'then', 'calls', 'whenDefault', 'digits', 'file', 'after']);

/** What a reply's `{when}` says when neither the reply nor a parent sets `whenDefault` (as the parties do). */
const DEFAULT_WHEN = 'Tuesday at 7 pm';

/**
 * Every line `scenario`'s party can say, once each, in file order, with `{when}` as the nearest
 * `whenDefault`. A string without a space is a value (a key, a name), not a line. `asUser` (what the
 * scenario tests say as the user) is not the party's.
 */
export function linesOf(scenario: Scenario): string[] {
  const lines = new Set<string>();
  const walk = (v: unknown, key: string, when: string): void => {
    if (typeof v === 'string') {
      if (!NOT_SPOKEN.has(key) && /\s/.test(v.trim())) lines.add(v.replace(/\{when\}/g, when));
    } else if (Array.isArray(v)) v.forEach((x) => walk(x, key, when));
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      const w = typeof o.whenDefault === 'string' ? o.whenDefault : when;
      for (const [k, x] of Object.entries(o)) if (k !== 'asUser') walk(x, k, w);
    }
  };
  walk(scenario, '', DEFAULT_WHEN);
  return [...lines];
}

/**
 * The words `scenario`'s party listens for (every `keywords` entry: intents, facts, menu options), once
 * each. What the agent says reaches the party through the recogniser, so the model it hears with must hold
 * these, or the party could never match them.
 */
export function keywordsOf(scenario: Scenario): string[] {
  const found = new Set<string>();
  const walk = (v: unknown, key: string): void => {
    if (typeof v === 'string') {
      if (key === 'keywords') found.add(v);
    } else if (Array.isArray(v)) v.forEach((x) => walk(x, key));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v as Record<string, unknown>)) walk(x, k);
  };
  walk(scenario, '');
  return [...found];
}
