/**
 * A VoiceChannel over one Twilio ConversationRelay WebSocket (protocols.md §5). Twilio does speech
 * recognition and synthesis; this side exchanges text. Out: `text` tokens (a reply streamed a clause at a time
 * as the model writes it, `last: true` at its end), `sendDigits`, `end`. In: `prompt` (final ones become `speech`), `interrupt` (`speech_started`, and the
 * say under way resolves with what was heard), `dtmf`, `error`; the socket closing is the far end hanging up.
 *
 * The same path also speaks 004's own dialect (FACES.md: told apart by the key, `event` instead of `type`),
 * for test clients written against 004: in `start`, `transcript` (final → `speech`, partial → barge-in),
 * `dtmf`, `media` (audio needs a speech pipeline: ignored), `stop`; out `assistant_reply` with the agent's
 * text (004 names no text message; this is the name 004's event stream uses), `dtmf` one digit each,
 * `clear` on barge-in. No JSON ping on this socket in either dialect.
 */
import type { WebSocket } from 'ws';
import type { CalleeInput, SayResult, TransferOptions, VoiceChannel } from '../carrier.js';
import type { HandOverChannel } from './transfers.js';
import type { Logger } from '../../lib/logger.js';

/** Twilio's ConversationRelay (`type`-keyed) or 004's own (`event`-keyed) messages. */
export type RelayDialect = 'conversation-relay' | 'phony';

/** Which dialect a message is in: by its key, `type` (Twilio) or `event` (004); null for neither. */
export function relayDialectOf(m: Record<string, unknown>): RelayDialect | null {
  if (typeof m.type === 'string') return 'conversation-relay';
  if (typeof m.event === 'string') return 'phony';
  return null;
}

export interface ConversationRelayOptions {
  socket: WebSocket;
  /** Default `conversation-relay`. */
  dialect?: RelayDialect;
  /** BCP 47 language sent with each text token (`en-US`). */
  lang: string;
  /** The full tag Twilio wants for one of our language codes (`es` → `es-ES`), for `setLanguage`. */
  languageTag?: (language: string) => string;
  /** Ends the call on Twilio's side (REST hang-up), after `end` was sent. */
  hangupCall: () => Promise<void>;
  /**
   * Speaking pace used to judge when Twilio has finished saying a text (Twilio reports it only when
   * subscribed to `info` events): about 160 words a minute. Tests use a fast pace.
   */
  wordsPerSecond?: number;
  /** Hands the callee over (the carrier's transfer); without it the channel cannot transfer. */
  transfer?: (to: string, opts: TransferOptions) => Promise<void>;
  log: Logger;
}

/** How long after `end` Twilio has to close the session before the call is hung up over REST. */
const END_GRACE_MS = 5_000;

/** A part of a reply sent to Twilio, and when (by the speaking pace) Twilio says it. */
interface Piece {
  text: string;
  /** The words of its reply sent before it. */
  before: string;
  endsAt: number;
  /** Twilio dropped it unsaid: the callee interrupted the reply before it. */
  dropped: boolean;
}

interface SayUnderway {
  piece: Piece;
  resolve: (r: SayResult) => void;
}

/** Text as Twilio reports it back: words and single spaces. */
const words = (text: string) => text.replace(/\s+/g, ' ').trim();

export class ConversationRelayChannel implements VoiceChannel, HandOverChannel {
  private listener: ((input: CalleeInput) => void) | undefined;
  private current: SayUnderway | undefined;
  private closed = false;
  /** Characters sent to Twilio to be spoken (its synthesis is billed on them; see CarrierUsage). */
  synthesisedCharacters = 0;
  private hungUp = false;
  /** The call is being redirected elsewhere: the socket closing is Twilio ending the relay, not a hang-up. */
  private handingOver = false;

  /** The language sent with text tokens (`setLanguage` changes it). */
  private lang: string;

  constructor(private readonly o: ConversationRelayOptions) {
    this.lang = o.lang;
    if (o.dialect !== 'phony') {
      this.prepareSay = (text, signal) => {
        if (!this.closed && !signal.aborted && !this.unsaid(text)) this.speak(text, false);
      };
      this.endReply = () => {
        if (!this.replyOpen) return;
        this.replyOpen = false;
        this.send({ type: 'text', token: '', last: true, lang: this.lang, interruptible: true });
      };
    }
    o.socket.on('message', (data) => this.onMessage(String(data)));
    o.socket.on('close', () => this.onClose());
    o.socket.on('error', (err) => o.log.warn({ err }, 'conversation relay socket error'));
  }

  private get phony(): boolean {
    return this.o.dialect === 'phony';
  }

  get isClosed(): boolean {
    return this.closed;
  }

  onInput(listener: (input: CalleeInput) => void): void {
    this.listener = listener;
    // What the callee said before the session listened (a fast client speaks right after setup) is kept.
    for (const input of this.early.splice(0)) listener(input);
  }

  /** Inputs that arrived before `onInput`. */
  private early: CalleeInput[] = [];

  private input(input: CalleeInput): void {
    if (this.listener) this.listener(input);
    else this.early.push(input);
  }

  /**
   * Says `text`: the part `prepareSay` sent ahead, or else a whole reply of its own (a reply still open is closed
   * first). Resolves once Twilio has said it by the speaking pace, or with what was heard when the callee
   * interrupted.
   */
  async say(text: string, signal?: AbortSignal): Promise<SayResult> {
    if (this.closed) return { done: false, heard: '' };
    this.current?.resolve({ done: false, heard: '' });
    let piece = this.unsaid(text);
    if (piece) {
      this.pieces.splice(this.pieces.indexOf(piece), 1);
    } else {
      this.endReply?.();
      piece = this.speak(text, true);
    }
    if (piece.dropped) return { done: false, heard: '' };
    const mine = piece;
    return new Promise<SayResult>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const underway: SayUnderway = {
        piece: mine,
        resolve: (r) => {
          if (this.current === underway) this.current = undefined;
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          resolve(r);
        },
      };
      const onAbort = () => underway.resolve({ done: false, heard: '' });
      this.current = underway;
      timer = setTimeout(() => underway.resolve({ done: true }), Math.max(0, mine.endsAt - performance.now()));
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * ConversationRelay takes a reply as streamed tokens, said as they come, with `last: true` at its end
   * (protocols.md §5): the next part goes now, so Twilio says it right after the one before instead of once
   * that one was judged heard (a gap of its synthesis at every sentence). Preparing a text already prepared
   * and not yet said does nothing. 004's dialect sends a whole reply a message (`say` alone).
   */
  readonly prepareSay?: (text: string, signal: AbortSignal) => void;
  /** Closes the reply being streamed: an empty token with `last: true`, as Twilio's own samples end one. */
  readonly endReply?: () => void;

  /** Parts of the open reply sent ahead whose `say` has not come yet, in order. */
  private pieces: Piece[] = [];
  private replyOpen = false;
  /** The words of the open reply sent so far. */
  private replyText = '';
  /** When Twilio will have said everything sent so far, by the speaking pace (performance.now()). */
  private speakingUntil = 0;

  /** The part sent ahead with this text whose `say` has not come yet. */
  private unsaid(text: string): Piece | undefined {
    return this.pieces.find((p) => p.text === text);
  }

  /** Sends `text` as the next part of the reply (`closes`: its last part) and times when it will have been said. */
  private speak(text: string, closes: boolean): Piece {
    // A new reply: parts of earlier ones still waiting for a `say` will not get one (dropped, or let go).
    if (!this.replyOpen) {
      this.replyText = '';
      this.pieces = [];
    }
    const before = this.replyText;
    this.synthesisedCharacters += text.length;
    if (this.phony) this.send({ event: 'assistant_reply', text });
    else {
      // Tokens streamed as words; a part after another starts with a space, so its first word is not run on.
      const tokens = text.split(/(?<=\s)/).filter((w) => w !== '');
      if (before && tokens.length) tokens[0] = ` ${tokens[0]}`;
      tokens.forEach((token, i) => this.send({ type: 'text', token, last: closes && i === tokens.length - 1, lang: this.lang, interruptible: true }));
    }
    this.replyOpen = !closes;
    this.replyText = closes ? '' : words(`${before} ${text}`);
    const wps = this.o.wordsPerSecond ?? 2.7;
    const ms = Math.max(1, (text.split(/\s+/).filter(Boolean).length / wps) * 1000);
    const endsAt = Math.max(performance.now(), this.speakingUntil) + ms;
    this.speakingUntil = endsAt;
    const piece: Piece = { text, before, endsAt, dropped: false };
    if (!closes) this.pieces.push(piece);
    return piece;
  }

  /**
   * What was heard of `piece` when Twilio reports `utterance` at an interrupt. Whether Twilio counts the words
   * of the whole reply or of the last text alone is not documented: both are recognised, by the parts before.
   */
  private heardOf(piece: Piece, utterance: string): string {
    const said = words(utterance);
    const own = words(piece.text);
    if (said.startsWith(piece.before)) {
      const rest = said.slice(piece.before.length).trim();
      // Twilio was further on than the pace judged (into the part after this one): this one was heard whole.
      return rest.startsWith(own) ? own : rest;
    }
    return own.startsWith(said) ? said : '';
  }

  /** ConversationRelay's `language` message: Twilio's voice and recognition switch; later text tokens carry it. */
  async setLanguage(language: string): Promise<void> {
    this.lang = this.o.languageTag?.(language) ?? language;
    language = this.lang;
    // 004's dialect has no such message: its client does its own speech.
    if (!this.phony) this.send({ type: 'language', ttsLanguage: language, transcriptionLanguage: language });
  }

  async sendDigits(digits: string): Promise<void> {
    if (!this.phony) return this.send({ type: 'sendDigits', digits });
    // 004 sends one digit a message; its pauses (`w`, `W`) have no message of their own.
    for (const digit of digits.replace(/[wW]/g, '')) this.send({ event: 'dtmf', dtmf: { digit } });
  }

  async hangup(): Promise<void> {
    if (this.hungUp) return;
    this.hungUp = true;
    this.current?.resolve({ done: false, heard: '' });
    if (!this.phony) {
      // Twilio closes the socket and requests the `<Connect action>` URL, which answers `<Hangup/>`.
      this.send({ type: 'end' });
      await this.closedWithin(END_GRACE_MS);
      if (this.closed) return;
    }
    // 004's dialect has no `end`; and should Twilio not close the session in time, the call is hung up over REST.
    await this.o.hangupCall().catch((err) => this.o.log.warn({ err }, 'twilio hang-up failed'));
  }

  private closedWithin(ms: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms).unref();
      this.o.socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  async transfer(to: string, opts: TransferOptions): Promise<void> {
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
    this.input({ type: 'hangup' });
    if (this.o.socket.readyState === this.o.socket.OPEN) this.o.socket.close(1000);
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
    if (m === null || typeof m !== 'object') return;
    if (this.phony) return this.onPhonyMessage(m);
    switch (m.type) {
      case 'prompt': {
        const text = typeof m.voicePrompt === 'string' ? m.voicePrompt.trim() : '';
        if (m.last !== false && text) this.input({ type: 'speech', text });
        break;
      }
      case 'interrupt': {
        const utterance = typeof m.utteranceUntilInterrupt === 'string' ? m.utteranceUntilInterrupt : '';
        // Twilio stops the reply: what it had not said yet is dropped, and nothing is queued on it any more.
        for (const p of this.pieces) p.dropped = true;
        this.speakingUntil = performance.now();
        const underway = this.current;
        underway?.resolve({ done: false, heard: this.heardOf(underway.piece, utterance) });
        this.input({ type: 'speech_started' });
        break;
      }
      case 'dtmf':
        if (typeof m.digit === 'string' && m.digit) this.input({ type: 'dtmf', digits: m.digit });
        break;
      case 'error':
        this.o.log.warn({ description: m.description }, 'conversation relay error');
        break;
      default:
        break;
    }
  }

  /** 004's `event`-keyed messages (see the header). */
  private onPhonyMessage(m: Record<string, unknown>): void {
    switch (m.event) {
      case 'transcript': {
        const t = (m.transcript ?? {}) as Record<string, unknown>;
        const text = typeof t.text === 'string' ? t.text.trim() : '';
        if (!text) return;
        if (t.final === false) {
          // The callee is talking over the agent: stop and tell the client to drop unplayed audio.
          if (this.current) {
            this.current.resolve({ done: false, heard: '' });
            this.send({ event: 'clear' });
          }
          this.input({ type: 'speech_started' });
        } else this.input({ type: 'speech', text });
        break;
      }
      case 'dtmf': {
        const d = (m.dtmf ?? {}) as Record<string, unknown>;
        const digit = typeof d.digit === 'string' ? d.digit : typeof m.digit === 'string' ? m.digit : '';
        if (digit) this.input({ type: 'dtmf', digits: digit });
        break;
      }
      case 'stop':
        this.o.socket.close(1000);
        break;
      default:
        // `start` is handled by the carrier; `media` would need a speech pipeline.
        break;
    }
  }
}
