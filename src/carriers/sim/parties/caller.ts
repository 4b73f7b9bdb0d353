/**
 * A scripted person who calls in (scenario kind `caller`). They wait for the agent's greeting (saying
 * "Hello?" when none comes), say what they want, answer the agent's questions from their facts, and say
 * goodbye and hang up once the agent has taken care of it (its words match `done`) or says goodbye. Like
 * the receptionist, they never talk over the agent and pause briefly before answering.
 */
import type { PartyEnd } from '../line.js';
import type { CallerSpec } from '../scenarios.js';
import { norm, wordsFor } from '../language.js';
import { Talker } from './talker.js';

export class CallerParty extends Talker {
  private readonly w;
  /** Whether the request has been said. */
  private asked = false;
  private pardons = 0;

  constructor(
    private readonly spec: CallerSpec,
    end: PartyEnd,
    language: string,
  ) {
    super(spec, end);
    this.w = wordsFor(language);
  }

  start(): void {
    // The one who answers speaks first; a caller who hears nothing says hello, then what they want.
    const g = this.silenceGen;
    this.end.run('caller greeting', async () => {
      const ok = await this.end.pause((this.spec.greetingWaitSeconds ?? 5) * 1000);
      if (!ok || g !== this.silenceGen || this.asked || this.end.agentSpeaking()) return;
      await this.end.speak(this.spec.lines.hello);
      await this.sayRequest();
    });
  }

  protected async respond(text: string): Promise<void> {
    const t = norm(text);
    const { lines } = this.spec;
    if (!this.asked) return this.sayRequest();
    if (this.w.goodbye.test(t)) return this.leave(lines.goodbye);
    const fact = this.spec.facts?.find((f) => f.keywords.some((k) => t.includes(norm(k))));
    if (fact) return this.say(fact.answer);
    if (this.spec.done.some((d) => t.includes(norm(d)))) return this.leave(lines.goodbye);
    if (/\?\s*$/.test(text.trim())) {
      // A question with no answer in the facts: the caller says so (twice), then gives up.
      if (this.pardons++ >= 2) return this.leave(lines.goodbye);
      return this.say(lines.pardon);
    }
    // A statement ("let me check"): wait for more.
    this.armSilence();
  }

  private async sayRequest(): Promise<void> {
    this.asked = true;
    await this.say(this.spec.request);
  }
}
