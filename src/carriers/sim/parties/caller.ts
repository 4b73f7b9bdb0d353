/**
 * A scripted person who calls in (scenario kind `caller`). They wait for the agent's greeting (saying
 * "Hello?" when none comes), say what they want, answer the agent's questions from their facts, and say
 * goodbye and hang up once the agent has taken care of it (its words match `done`) or says goodbye. Like
 * the receptionist, they never talk over the agent and pause briefly before answering.
 */
import type { Party, PartyEnd } from '../line.js';
import type { CallerSpec } from '../scenarios.js';
import { norm, wordsFor } from '../language.js';

export class CallerParty implements Party {
  private readonly w;
  /** Whether the request has been said. */
  private asked = false;
  private buffer: string[] = [];
  private replyGen = 0;
  private silenceGen = 0;
  private prompts = 0;
  private pardons = 0;
  private leaving = false;

  constructor(
    private readonly spec: CallerSpec,
    private readonly end: PartyEnd,
    language: string,
  ) {
    this.w = wordsFor(language);
  }

  start(): void {
    // The one who answers speaks first; a caller who hears nothing says hello, then what they want.
    const g = this.silenceGen;
    void this.end.pause((this.spec.greetingWaitSeconds ?? 5) * 1000).then(async (ok) => {
      if (!ok || g !== this.silenceGen || this.asked || this.end.agentSpeaking()) return;
      await this.end.speak(this.spec.lines.hello);
      await this.sayRequest();
    });
  }

  hear(text: string): void {
    if (this.leaving) return;
    this.buffer.push(text);
    this.silenceGen++;
    this.prompts = 0;
    const g = ++this.replyGen;
    void this.end.pause((this.spec.replyDelaySeconds ?? 0.8) * 1000).then((ok) => {
      if (!ok || g !== this.replyGen || this.end.agentSpeaking() || this.leaving) return;
      const said = this.buffer.join(' ');
      this.buffer = [];
      void this.respond(said);
    });
  }

  digits(): void {
    // Keypad tones mean nothing to a caller.
  }

  private async respond(text: string): Promise<void> {
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

  private async say(text: string): Promise<void> {
    await this.end.speak(text);
    this.armSilence();
  }

  private async leave(text: string): Promise<void> {
    this.leaving = true;
    await this.end.speak(text);
    await this.end.pause(1500);
    this.end.hangup();
  }

  /** After a long silence: "are you still there?", then goodbye. */
  private armSilence(): void {
    const g = ++this.silenceGen;
    void this.end.pause((this.spec.silenceSeconds ?? 15) * 1000).then((ok) => {
      if (!ok || g !== this.silenceGen || this.end.agentSpeaking() || this.leaving) return;
      if (this.prompts++ === 0) void this.say(this.spec.lines.stillThere);
      else void this.leave(this.spec.lines.goodbye);
    });
  }
}
