/**
 * `AgentIO` over a text-mode `VoiceChannel`: the carrier (the simulated network, Twilio ConversationRelay)
 * recognises and synthesises speech and exchanges text. Its callee inputs become user events; a clause is
 * one `say`. Where the carrier takes a reply as streamed text (ConversationRelay), each clause is sent as soon
 * as it is written — the reply's first clause before its sentence is complete, the next one while this one is
 * said — and the reply is closed when its text ends.
 */
import type { CalleeInput, VoiceChannel } from '../../carriers/carrier.js';
import type { AgentIO, IOCapabilities, PlayoutResult, UserInput } from './io.js';

export class TextIO implements AgentIO {
  readonly capabilities: IOCapabilities;
  readonly transfer?: AgentIO['transfer'];
  readonly setLanguage?: AgentIO['setLanguage'];
  readonly prepareClause?: AgentIO['prepareClause'];
  readonly endReply?: AgentIO['endReply'];

  constructor(private readonly channel: VoiceChannel) {
    const streams = !!(channel.prepareSay && channel.endReply);
    this.capabilities = { interimTranscripts: false, earlyFirstClause: streams };
    if (streams) {
      this.prepareClause = (text, signal) => channel.prepareSay!(text, signal);
      this.endReply = () => channel.endReply!();
    }
    if (channel.transfer) this.transfer = (to, opts) => channel.transfer!(to, opts);
    if (channel.setLanguage) this.setLanguage = (language) => channel.setLanguage!(language);
  }

  onInput(listener: (input: UserInput) => void): void {
    this.channel.onInput((input) => listener(toUserInput(input)));
  }

  playClause(text: string, signal: AbortSignal): Promise<PlayoutResult> {
    // A streamed reply's clause goes as part of it (sent already when it was prepared), not as a reply of its own.
    this.channel.prepareSay?.(text, signal);
    return this.channel.say(text, signal);
  }

  sendDigits(digits: string): Promise<void> {
    return this.channel.sendDigits(digits);
  }

  hangup(): Promise<void> {
    return this.channel.hangup();
  }
}

/** A carrier's callee input as a user event: a finished utterance is a final transcript. */
export function toUserInput(input: CalleeInput): UserInput {
  switch (input.type) {
    case 'speech':
      return { type: 'transcript', text: input.text, final: true };
    case 'speech_started':
      return { type: 'speech_started' };
    case 'dtmf':
      return { type: 'dtmf', digits: input.digits };
    case 'hangup':
      return { type: 'hangup' };
  }
}
