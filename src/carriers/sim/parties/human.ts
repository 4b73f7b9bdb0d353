/**
 * A scripted person (a receptionist, the clinic's staff after the queue). They greet, work out what the
 * caller wants from the scenario's intent keywords, ask for the details they need one at a time, answer
 * questions from their facts, and say goodbye when the caller does, when the caller cannot give a detail,
 * or after a long silence. They never talk over the caller, and they pause briefly before answering.
 */
import type { PartyEnd } from '../line.js';
import type { PersonSpec } from '../scenarios.js';
import { lastWhen, norm, wordsFor } from '../language.js';
import { Talker } from './talker.js';

type IntentSpec = PersonSpec['intents'][number];

export class HumanParty extends Talker {
  private readonly w;
  private intent: IntentSpec | undefined;
  private replied = false;
  private asking: number | undefined;
  private retried = false;
  private readonly collected = new Set<string>();
  /** Everything the agent has said, for `{when}` and details already given. */
  private heardAll = '';
  /** What the caller said when their intent was recognised (the source of `{when}`). */
  private intentText = '';

  constructor(
    private readonly spec: PersonSpec,
    end: PartyEnd,
    private readonly language: string,
  ) {
    super(spec, end);
    this.w = wordsFor(language);
  }

  start(): void {
    this.end.run('human greeting', () => this.say(this.spec.greeting));
  }

  protected override heard(text: string): void {
    this.heardAll += ' ' + text;
  }

  protected async respond(text: string): Promise<void> {
    const t = norm(text);
    const { lines } = this.spec;
    if (this.w.goodbye.test(t)) return this.leave(lines.goodbye);
    if (this.asking !== undefined) {
      const d = this.spec.details![this.asking];
      if (this.w.cannot.test(t)) return this.leave(lines.cannotHelp);
      if (d.expect && !new RegExp(d.expect, 'i').test(text)) {
        if (this.retried) return this.leave(lines.cannotHelp);
        this.retried = true;
        return this.say(d.retry ?? d.question);
      }
      this.collected.add(d.key);
      this.asking = undefined;
      this.retried = false;
      return this.advance();
    }
    const intent = this.spec.intents.find((i) => i.keywords.some((k) => t.includes(norm(k))));
    if (intent && (intent !== this.intent || !this.replied)) {
      this.intent = intent;
      this.intentText = text;
      this.replied = false;
      return this.advance();
    }
    const fact = this.spec.facts?.find((f) => f.keywords.some((k) => t.includes(norm(k))));
    if (fact) return this.say(fact.answer);
    if (this.replied && this.w.thanks.test(t)) return this.leave(lines.goodbye);
    return this.say(lines.pardon);
  }

  /** Asks for the next missing detail, or gives the intent's reply once all are known. */
  private advance(): Promise<void> {
    const details = this.spec.details ?? [];
    const next = details.findIndex(
      (d) => !this.collected.has(d.key) && !(d.expect && new RegExp(d.expect, 'i').test(this.heardAll)),
    );
    if (next >= 0) {
      this.asking = next;
      return this.say(details[next].question);
    }
    const intent = this.intent!;
    this.replied = true;
    const when = lastWhen(this.intentText, this.language) ?? intent.whenDefault ?? '';
    return this.say(intent.reply.replace(/\{when\}/g, when));
  }
}
