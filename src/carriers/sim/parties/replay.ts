/**
 * A recorded callee, replayed (scenario kind `replay`). Its turns are said in order, each when the agent
 * does what it did before that turn in the recording: the call is answered, the agent speaks, or the agent
 * presses the recorded keys. Keys that are not the recorded ones are answered with `lines.pardon` (and the
 * turn still waits for the right ones), so a changed agent shows in what it pressed and what it heard.
 * After the last turn the callee hangs up if it did in the recording, or else waits like any person.
 */
import type { PartyEnd } from '../line.js';
import type { ReplaySpec } from '../scenarios.js';
import { Talker } from './talker.js';

export class ReplayParty extends Talker {
  private next = 0;
  private pressed = '';

  constructor(
    private readonly spec: ReplaySpec,
    end: PartyEnd,
  ) {
    super(spec, end);
  }

  start(): void {
    if (this.spec.turns[0]?.after === 'answer') this.end.run('replay greeting', () => this.play());
  }

  protected async respond(): Promise<void> {
    const turn = this.spec.turns[this.next];
    if (turn?.after === 'speech') return this.play();
    if (!turn && this.spec.hangup) return;
    // Waiting for keys, or past the script: the agent's words get no new line; silence is handled as usual.
    if (!turn) return this.say(this.spec.lines.pardon);
    this.armSilence();
  }

  override digits(d: string): void {
    const turn = this.spec.turns[this.next];
    if (turn?.after !== 'digits' || !turn.digits) return;
    this.pressed += d;
    if (this.pressed === turn.digits) {
      this.pressed = '';
      this.end.run('replay after digits', () => this.play());
    } else if (!turn.digits.startsWith(this.pressed)) {
      this.pressed = '';
      this.end.run('replay wrong digits', () => this.say(this.spec.lines.pardon));
    }
  }

  /** Says the next turn's lines; hangs up after the last one when the recording did. */
  private async play(): Promise<void> {
    const turn = this.spec.turns[this.next++];
    if (!turn) return;
    const last = this.next >= this.spec.turns.length;
    for (let i = 0; i < turn.say.length; i++) {
      if (last && this.spec.hangup && i === turn.say.length - 1) return this.leave(turn.say[i]);
      await this.end.speak(turn.say[i]);
    }
    this.armSilence();
  }
}
