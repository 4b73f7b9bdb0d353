/**
 * A VoiceChannel over one Twilio ConversationRelay WebSocket (protocols.md §5). Twilio does speech
 * recognition and synthesis; this side exchanges text. Out: `text` tokens (the last one `last: true`),
 * `sendDigits`, `end`. In: `prompt` (final ones become `speech`), `interrupt` (`speech_started`, and the
 * say under way resolves with what was heard), `dtmf`, `error`; the socket closing is the far end hanging up.
 */
import type { WebSocket } from 'ws';
import type { CalleeInput, SayResult, VoiceChannel } from '../carrier.js';
import type { Logger } from '../../lib/logger.js';

export interface ConversationRelayOptions {
  socket: WebSocket;
  /** BCP 47 language sent with each text token (`en-US`). */
  lang: string;
  /** Ends the call on Twilio's side (REST hang-up), after `end` was sent. */
  hangupCall: () => Promise<void>;
  /**
   * Speaking pace used to judge when Twilio has finished saying a text (Twilio reports it only when
   * subscribed to `info` events): about 160 words a minute. Tests use a fast pace.
   */
  wordsPerSecond?: number;
  /** Hands the callee over (the carrier's transfer); without it the channel cannot transfer. */
  transfer?: (to: string, opts: { warm: boolean; briefing?: string }) => Promise<void>;
  log: Logger;
}

interface SayUnderway {
  resolve: (r: SayResult) => void;
}

export class ConversationRelayChannel implements VoiceChannel {
  private listener: ((input: CalleeInput) => void) | undefined;
  /** What the callee said before the engine listened (the greeting can beat the engine's state write). */
  private queued: CalleeInput[] = [];
  private current: SayUnderway | undefined;
  private closed = false;
  private hungUp = false;
  /** The call is being redirected elsewhere: the socket closing is Twilio ending the relay, not a hang-up. */
  private handingOver = false;

  constructor(private readonly o: ConversationRelayOptions) {
    o.socket.on('message', (data) => this.onMessage(String(data)));
    o.socket.on('close', () => this.onClose());
    o.socket.on('error', (err) => o.log.warn({ err }, 'conversation relay socket error'));
  }

  get isClosed(): boolean {
    return this.closed;
  }

  onInput(listener: (input: CalleeInput) => void): void {
    this.listener = listener;
    for (const input of this.queued.splice(0)) listener(input);
  }

  async say(text: string, signal?: AbortSignal): Promise<SayResult> {
    if (this.closed) return { done: false, heard: '' };
    this.current?.resolve({ done: false, heard: '' });
    // Tokens streamed as words; the last one closes the turn.
    const words = text.split(/(?<=\s)/).filter((w) => w !== '');
    words.forEach((token, i) => this.send({ type: 'text', token, last: i === words.length - 1, lang: this.o.lang, interruptible: true }));
    const wps = this.o.wordsPerSecond ?? 2.7;
    const ms = Math.max(1, (text.split(/\s+/).filter(Boolean).length / wps) * 1000);
    return new Promise<SayResult>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const mine: SayUnderway = {
        resolve: (r) => {
          if (this.current === mine) this.current = undefined;
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          resolve(r);
        },
      };
      const onAbort = () => mine.resolve({ done: false, heard: '' });
      this.current = mine;
      timer = setTimeout(() => mine.resolve({ done: true }), ms);
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  async sendDigits(digits: string): Promise<void> {
    this.send({ type: 'sendDigits', digits });
  }

  async hangup(): Promise<void> {
    if (this.hungUp) return;
    this.hungUp = true;
    this.send({ type: 'end' });
    this.current?.resolve({ done: false, heard: '' });
    await this.o.hangupCall().catch((err) => this.o.log.warn({ err }, 'twilio hang-up failed'));
  }

  async transfer(to: string, opts: { warm: boolean; briefing?: string }): Promise<void> {
    if (!this.o.transfer) throw new Error('transfer is not available on this call');
    if (this.closed) throw new Error('the call has ended');
    return this.o.transfer(to, opts);
  }

  /**
   * Call before redirecting the call to other TwiML: Twilio then closes the relay socket, which must not
   * count as the far end hanging up. Returns the undo for a redirect that failed (a socket that closed
   * meanwhile is then a hang-up after all).
   */
  beginHandOver(): () => void {
    this.handingOver = true;
    return () => {
      this.handingOver = false;
      if (this.o.socket.readyState !== this.o.socket.OPEN) this.farEndGone();
    };
  }

  /** The call now runs other TwiML: the agent's part is over, and the callee's side is not told of a hang-up. */
  handedOver(): void {
    if (this.closed) return;
    this.closed = true;
    this.current?.resolve({ done: false, heard: '' });
  }

  /** The call ended on Twilio's side: the callee's side is told once. */
  farEndGone(): void {
    if (this.closed) return;
    this.closed = true;
    this.current?.resolve({ done: false, heard: '' });
    this.deliver({ type: 'hangup' });
    if (this.o.socket.readyState === this.o.socket.OPEN) this.o.socket.close(1000);
  }

  private deliver(input: CalleeInput): void {
    if (this.listener) this.listener(input);
    else this.queued.push(input);
  }

  private send(msg: Record<string, unknown>): void {
    if (this.o.socket.readyState !== this.o.socket.OPEN) return;
    this.o.socket.send(JSON.stringify(msg));
  }

  private onClose(): void {
    if (this.handingOver) this.handedOver();
    else this.farEndGone();
  }

  private onMessage(raw: string): void {
    let m: Record<string, unknown>;
    try {
      m = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      return;
    }
    switch (m.type) {
      case 'prompt': {
        const text = typeof m.voicePrompt === 'string' ? m.voicePrompt.trim() : '';
        if (m.last !== false && text) this.deliver({ type: 'speech', text });
        break;
      }
      case 'interrupt': {
        const heard = typeof m.utteranceUntilInterrupt === 'string' ? m.utteranceUntilInterrupt : '';
        this.current?.resolve({ done: false, heard });
        this.deliver({ type: 'speech_started' });
        break;
      }
      case 'dtmf':
        if (typeof m.digit === 'string' && m.digit) this.deliver({ type: 'dtmf', digits: m.digit });
        break;
      case 'error':
        this.o.log.warn({ description: m.description }, 'conversation relay error');
        break;
      default:
        break;
    }
  }
}
