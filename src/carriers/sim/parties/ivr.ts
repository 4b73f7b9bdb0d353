/**
 * An automated phone menu: a welcome, spoken menus answered on the keypad (a key press cuts the prompt
 * short, silence repeats it), then a hold queue with periodic hold messages, and finally a person
 * (a `HumanParty`) who picks up. The machine talks over the caller; it ignores speech.
 */
import type { Party, PartyEnd } from '../line.js';
import type { IvrSpec } from '../scenarios.js';
import { HumanParty } from './human.js';

export class IvrParty implements Party {
  private keys = '';
  private keyWaiter: (() => void) | undefined;
  private cut: AbortController | undefined;
  private person: HumanParty | undefined;

  constructor(
    private readonly spec: IvrSpec,
    private readonly end: PartyEnd,
    private readonly language: string,
  ) {}

  start(): void {
    void this.run();
  }

  hear(text: string): void {
    this.person?.hear(text);
  }

  digits(digits: string): void {
    if (this.person) return this.person.digits();
    this.keys += digits;
    this.cut?.abort();
    this.keyWaiter?.();
  }

  private async run(): Promise<void> {
    const { spec, end } = this;
    if (!(await this.announce(spec.welcome))) return;
    let menuName = spec.start;
    for (;;) {
      const menu = spec.menus[menuName];
      const key = await this.ask(menu.prompt, (menu.timeoutSeconds ?? 6) * 1000, (menu.repeats ?? 2) + 1);
      if (end.signal.aborted) return;
      if (key === undefined) {
        await this.announce(spec.noInput);
        return end.hangup();
      }
      const target = menu.options[key];
      if (target === undefined) {
        if (!(await this.announce(spec.invalidChoice))) return;
        continue;
      }
      let next = typeof target === 'string' ? target : target.then;
      if (typeof target !== 'string' && !(await this.announce(target.say))) return;
      next ??= 'hangup';
      if (next === 'hangup') return end.hangup();
      if (next === 'queue') return this.queue();
      menuName = next;
    }
  }

  /** Plays `prompt` up to `times` times; returns the key pressed, or undefined after silence. */
  private async ask(prompt: string, timeoutMs: number, times: number): Promise<string | undefined> {
    this.keys = '';
    for (let i = 0; i < times && !this.end.signal.aborted; i++) {
      this.cut = new AbortController();
      await this.end.speak(prompt, { overAgent: true, cut: this.cut.signal });
      if (!this.keys) await this.waitForKey(timeoutMs);
      if (this.keys) {
        const k = this.keys[0];
        this.keys = '';
        return k;
      }
    }
    return undefined;
  }

  private async waitForKey(ms: number): Promise<void> {
    const stop = new AbortController();
    this.keyWaiter = () => stop.abort();
    await this.end.pause(ms, stop.signal);
    this.keyWaiter = undefined;
  }

  private announce(text: string): Promise<boolean> {
    return this.end.speak(text, { overAgent: true });
  }

  private async queue(): Promise<void> {
    const q = this.spec.queue;
    if (!(await this.announce(q.entry))) return;
    let waited = 0;
    for (let i = 0; waited < q.waitSeconds * 1000; i++) {
      const step = Math.min(q.holdEverySeconds * 1000, q.waitSeconds * 1000 - waited);
      if (!(await this.end.pause(step))) return;
      waited += step;
      if (waited >= q.waitSeconds * 1000) break;
      if (!(await this.announce(q.holdMessages[i % q.holdMessages.length]))) return;
    }
    this.person = new HumanParty(this.spec.person, this.end, this.language);
    this.person.start();
  }
}
