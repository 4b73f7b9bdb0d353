/**
 * An answering machine: a greeting, the beep (delivered to the agent as the speech `SIM_BEEP`), then it
 * records whatever the agent says until the agent hangs up or the maximum message length passes.
 */
import type { Party, PartyEnd } from '../line.js';
import type { VoicemailSpec } from '../scenarios.js';

/** The text the agent receives for the recording tone. */
export const SIM_BEEP = '*beep*';

export class VoicemailParty implements Party {
  /** The message left, as recorded. */
  readonly message: string[] = [];
  private recording = false;

  constructor(
    private readonly spec: VoicemailSpec,
    private readonly end: PartyEnd,
  ) {}

  start(): void {
    this.end.run('voicemail greeting', () => this.run());
  }

  hear(text: string): void {
    if (this.recording) this.message.push(text);
  }

  digits(): void {}

  private async run(): Promise<void> {
    if (!(await this.end.speak(this.spec.greeting, { overAgent: true }))) return;
    if (!(await this.end.speak(SIM_BEEP, { overAgent: true }))) return;
    this.recording = true;
    if (!(await this.end.pause(this.spec.maxMessageSeconds * 1000))) return;
    this.recording = false;
    if (this.spec.savedLine) await this.end.speak(this.spec.savedLine, { overAgent: true });
    this.end.hangup();
  }
}
