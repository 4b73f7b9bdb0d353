/**
 * What the simulated people (the person who answers, the person who calls in) have in common: they never
 * talk over the agent, answer after a short pause (more words from the agent meanwhile reschedule the
 * answer), say goodbye and put the phone down a moment later, and after a long silence ask whether anyone is
 * there, then give up. Each kind of person decides only what to answer (`respond`).
 */
import type { Party, PartyEnd } from '../line.js';

/** The pace and the two stock lines every talking party's scenario gives. */
export interface TalkerSpec {
  replyDelaySeconds?: number;
  silenceSeconds?: number;
  lines: { stillThere: string; goodbye: string };
}

export abstract class Talker implements Party {
  /** Saying goodbye: nothing more is heard or said. */
  protected leaving = false;
  /** Bumped whenever the agent speaks: a pending silence timer from before is void. */
  protected silenceGen = 0;
  private buffer: string[] = [];
  private replyGen = 0;
  private prompts = 0;

  constructor(
    private readonly talk: TalkerSpec,
    protected readonly end: PartyEnd,
  ) {}

  abstract start(): void;

  /** Answers what the agent said (its words since the last answer, joined). */
  protected abstract respond(text: string): Promise<void>;

  /** Every utterance of the agent, as heard (before the answer is scheduled). */
  protected heard(_text: string): void {}

  hear(text: string): void {
    if (this.leaving) return;
    this.buffer.push(text);
    this.heard(text);
    this.silenceGen++;
    this.prompts = 0;
    const g = ++this.replyGen;
    // A moment to think; if the agent goes on talking, the next `hear` reschedules the reply.
    this.end.run('reply', async () => {
      const ok = await this.end.pause((this.talk.replyDelaySeconds ?? 0.8) * 1000);
      if (!ok || g !== this.replyGen || this.end.agentSpeaking() || this.leaving) return;
      const said = this.buffer.join(' ');
      this.buffer = [];
      await this.respond(said);
    });
  }

  digits(_digits?: string): void {
    // People ignore keypad tones.
  }

  protected async say(text: string): Promise<void> {
    await this.end.speak(text);
    this.armSilence();
  }

  protected async leave(text: string): Promise<void> {
    this.leaving = true;
    await this.end.speak(text);
    // People say goodbye, then put the phone down a moment later.
    await this.end.pause(1500);
    this.end.hangup();
  }

  /** After a long silence: "are you still there?", then goodbye. */
  protected armSilence(): void {
    const g = ++this.silenceGen;
    this.end.run('silence', async () => {
      const ok = await this.end.pause((this.talk.silenceSeconds ?? 15) * 1000);
      if (!ok || g !== this.silenceGen || this.end.agentSpeaking() || this.leaving) return;
      if (this.prompts++ === 0) await this.say(this.talk.lines.stillThere);
      else await this.leave(this.talk.lines.goodbye);
    });
  }
}
