/**
 * Applies an agent's `dtmf_rules` (core/dtmf-rules.ts): when the callee says a rule's words, the agent presses
 * the rule's keys at once and that utterance goes no further — a menu configured by the client is answered
 * the same way on every call, by the engine, not left to the model's reading of it. The words stay in the
 * conversation, so the brain knows what was asked. Each rule fires at most MAX_PER_RULE times a call, so a
 * menu that repeats itself after a wrong key cannot keep the agent pressing forever.
 */
import { keysFor, type DtmfRules } from '../core/dtmf-rules.js';
import type { BrainContext, BrainInput, BrainSession, BrainTurn } from './brain.js';

const MAX_PER_RULE = 3;

export function withDtmfRules(inner: BrainSession, rules: DtmfRules | undefined): BrainSession {
  if (!rules || Object.keys(rules).length === 0) return inner;
  const fired = new Map<string, number>();
  return {
    next(input: BrainInput, ctx: BrainContext): BrainTurn {
      const rule = input.type === 'speech' ? keysFor(rules, input.text) : undefined;
      if (!rule || (fired.get(rule.words) ?? 0) >= MAX_PER_RULE) return inner.next(input, ctx);
      fired.set(rule.words, (fired.get(rule.words) ?? 0) + 1);
      return (async function* () {
        yield { type: 'press', digits: rule.keys };
      })();
    },
  };
}
