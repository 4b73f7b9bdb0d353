/**
 * An automated phone menu: a welcome, spoken menus answered on the keypad (a key press cuts the prompt
 * short, silence repeats it), keypad-entry steps that collect several digits up to `#`, then a hold queue with periodic hold messages, and finally a person
 * (a `HumanParty`) who picks up. The machine talks over the caller; it ignores speech.
 */
import type { Party, PartyEnd } from '../line.js';
import type { CollectSpec, IvrSpec } from '../scenarios.js';
import { HumanParty } from './human.js';

export class IvrParty implements Party {
  private keys = '';
  private keyWaiter: (() => void) | undefined;
  private cut: AbortController | undefined;
  private person: HumanParty | undefined;
  /** Digits entered at each keypad-entry step, in order (for tests and logs). */
  readonly entered: string[] = [];

  constructor(
    private readonly spec: IvrSpec,
    private readonly end: PartyEnd,
    private readonly language: string,
  ) {}

  start(): void {
    this.end.run('ivr menu', () => this.run());
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
      let next: string | undefined;
      if (typeof target === 'string') next = target;
      else if ('collect' in target) {
        const digits = await this.collect(target.collect);
        if (end.signal.aborted) return;
        if (digits === undefined) {
          await this.announce(spec.noInput);
          return end.hangup();
        }
        this.entered.push(digits);
        if (target.collect.say && !(await this.announce(target.collect.say))) return;
        next = target.collect.then;
      } else {
        if (!(await this.announce(target.say))) return;
        next = target.then;
      }
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

  /**
   * A keypad-entry step: plays the prompt (a key press cuts it short) and collects digits until `#`,
   * `maxDigits`, or a silence after the last digit. Silence with nothing entered, or too few digits,
   * repeats the prompt; returns undefined when the repeats run out.
   */
  private async collect(c: CollectSpec): Promise<string | undefined> {
    const timeoutMs = (c.timeoutSeconds ?? 6) * 1000;
    const times = (c.repeats ?? 2) + 1;
    for (let i = 0; i < times && !this.end.signal.aborted; i++) {
      this.keys = '';
      this.cut = new AbortController();
      await this.end.speak(c.prompt, { overAgent: true, cut: this.cut.signal });
      let got: string | undefined;
      for (;;) {
        const hash = this.keys.indexOf('#');
        if (hash >= 0) got = this.keys.slice(0, hash);
        else if (c.maxDigits !== undefined && this.keys.length >= c.maxDigits) got = this.keys.slice(0, c.maxDigits);
        if (got !== undefined || this.end.signal.aborted) break;
        const before = this.keys.length;
        await this.waitForKey(timeoutMs);
        if (this.end.signal.aborted) return undefined;
        if (this.keys.length === before) {
          if (before > 0) got = this.keys; // silence after some digits: the entry is done
          break;
        }
      }
      this.keys = '';
      if (got === undefined) continue; // silence: the prompt again
      if (got.length === 0 || (c.minDigits !== undefined && got.length < c.minDigits)) {
        if (!(await this.announce(this.spec.invalidChoice))) return undefined;
        continue;
      }
      return got;
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
