/**
 * The AudioChannel of a Twilio call in audio mode: the call's Media Streams (protocols.md §4), one after
 * another, behind one channel. Twilio has no outbound-DTMF message on a stream, so digits are sent the way
 * protocols.md §1 "Sending DTMF" (b) says: the call's TwiML is replaced by `<Play digits>` followed by a
 * new `<Connect><Stream>`. The old stream gets `stop`, a new one starts (new streamSid) and is attached
 * here: the voice layer keeps the same channel and frame iterator throughout.
 *
 * A stream that closes without a successor within a short window (longer while digits are playing)
 * means the far end is gone: the listener hears `hangup`, the frames end, and the carrier waits for
 * Twilio's `completed` status callback (with a fallback), as for the relay.
 *
 * A transfer (transfers.ts) hands the call over as on the relay: once `beginHandOver` is called, the stream
 * Twilio stops after the redirect is the agent leaving, not the far end going; `handedOver` then ends the
 * frames without telling the listener of a hang-up.
 */
import type { AudioChannel, AudioInput, PlayResult, TransferOptions } from '../carrier.js';
import type { HandOverChannel } from './transfers.js';
import type { Logger } from '../../lib/logger.js';
import { AsyncQueue } from '../../lib/async-queue.js';
import { background } from '../../lib/background.js';
import { INBOX_FRAMES, type TwilioMediaStream } from './media-stream.js';

export interface MediaStreamChannelOptions {
  /** Replaces the call's running TwiML (REST update with `Twiml`). */
  updateTwiml: (twiml: string) => Promise<void>;
  /** The TwiML that plays `digits`, then connects the call to a new stream. */
  digitsTwiml: (digits: string) => string;
  /** Ends the call on Twilio's side (REST hang-up). */
  hangupCall: () => Promise<void>;
  /** The far end is gone: the last stream closed and none followed in time. Called once. */
  onLost: () => void;
  /** How long a closed stream waits for a successor before the far end counts as gone (default 2 s). */
  reattachMs?: number;
  /** Hands the callee over (the carrier's transfer); without it the channel cannot transfer. */
  transfer?: (to: string, opts: TransferOptions) => Promise<void>;
  log: Logger;
}

/** Keypad characters `<Play digits>` accepts (protocols.md §1, §3): digits, `*`, `#`, A-D, `w`/`W` pauses. */
const DIGITS = /^[0-9A-D*#wW]{1,32}$/;

/** Upper bound of how long Twilio takes to play one keypad character (a `W` pause is 1 s; tones are shorter). */
const MS_PER_DIGIT = 1000;

/**
 * `send()` puts a mark after every 80 ms of audio (each of its 80 ms messages, in the same socket write):
 * how closely `clear()` knows what the callee heard.
 */
const PROGRESS_MARK_BYTES = 640;

/** After a hand-over, how long Twilio has to close the old stream itself before it is closed from here. */
const HANDED_OVER_CLOSE_MS = 5_000;

export class MediaStreamAudioChannel implements AudioChannel, HandOverChannel {
  /** The pacer hands `send` 80 ms at a time: one `media` message each (TwilioMediaStream.send). */
  readonly outboundFrameMs = 80;
  /**
   * 120 ms ahead of real time (the pacer's default is 40): a loaded node's event loop stalls for tens of ms at a
   * time, and with 80 ms messages a 40 ms cushion lets such a stall be heard as a gap (docs/performance.md §18).
   * What it costs: up to 200 ms of the agent's audio in Twilio's buffer, which `clear()` drops on a barge-in and
   * which plays on over a `pause()` (a possible interruption) until the carrier's buffer runs out.
   */
  readonly outboundLeadMs = 120;
  private stream: TwilioMediaStream | undefined;
  /** The call is being redirected elsewhere: a stream closing now is Twilio ending `<Connect>`, not the far end going. */
  private handingOver = false;
  /** The frames of every stream of the call, in one queue: live audio, so the oldest go when it is full. */
  private readonly inbox = new AsyncQueue<Uint8Array>({ limit: INBOX_FRAMES, overflow: 'drop_oldest' });
  private listener: ((input: AudioInput) => void) | undefined;
  /** The reader of the callee's audio, when it takes frames as they come (`onFrame`) rather than iterating. */
  private frameListener: ((frame: Uint8Array) => void) | undefined;
  private gone = false;
  private hungUp = false;
  private goneTimer: NodeJS.Timeout | undefined;
  /** A sendDigits waiting for the stream that follows its `<Play digits>`, and how long that may take. */
  private reattach: { done: () => void; fail: (err: Error) => void; windowMs: number } | undefined;
  /** sendDigits calls run one after another: each replaces the TwiML the previous one set. */
  private digitsQueue: Promise<unknown> = Promise.resolve();
  private marks = 0;
  private streams = 0;
  /** Bytes `send()` queued since its last progress mark. */
  private unmarked = 0;

  constructor(private readonly o: MediaStreamChannelOptions) {}

  /** How many streams have carried this call (1 + re-attachments). */
  get streamCount(): number {
    return this.streams;
  }

  /** The streamSid of the stream carrying the audio now, if any. */
  get streamSid(): string | undefined {
    return this.stream?.started?.streamSid;
  }

  /** Takes over a started stream of this call: the first one, or the one that follows a `<Play digits>`. */
  attach(stream: TwilioMediaStream): void {
    if (this.gone) {
      stream.close(1000, 'call over');
      return;
    }
    clearTimeout(this.goneTimer);
    const previous = this.stream;
    this.stream = stream;
    this.streams++;
    // Twilio stops the old stream before starting a new one; if it has not yet, it is superseded anyway.
    if (previous && !previous.isClosed) previous.close(1000, 'superseded');
    stream.on('dtmf', (digit) => {
      if (this.stream === stream && !this.gone) this.listener?.({ type: 'dtmf', digits: digit });
    });
    stream.on('close', () => this.onStreamClosed(stream));
    // Straight into the channel's queue: one hand-off a frame, not two.
    stream.pipe((frame) => {
      if (this.gone || this.stream !== stream) return;
      if (this.frameListener) this.frameListener(frame);
      else this.inbox.push(frame);
    });
    const waiting = this.reattach;
    this.reattach = undefined;
    waiting?.done();
  }

  frames(): AsyncIterable<Uint8Array> {
    return this.inbox;
  }

  onFrame(listener: (frame: Uint8Array) => void): void {
    this.frameListener = listener;
    for (const frame of this.inbox.drain()) listener(frame);
  }

  play(mulaw: Uint8Array): Promise<PlayResult> {
    const s = this.live();
    if (!s) return Promise.resolve({ played: false });
    s.send(Buffer.from(mulaw.buffer, mulaw.byteOffset, mulaw.byteLength));
    // Twilio echoes a mark once the audio queued before it has played: that is when this audio was heard.
    return this.markOn(s, `play-${++this.marks}`);
  }

  send(mulaw: Uint8Array): void {
    const s = this.live();
    if (!s) return;
    const audio = Buffer.from(mulaw.buffer, mulaw.byteOffset, mulaw.byteLength);
    this.unmarked += mulaw.byteLength;
    if (this.unmarked < PROGRESS_MARK_BYTES) return s.send(audio);
    this.unmarked = 0;
    s.sendMarked(audio, `sent-${++this.marks}`);
  }

  mark(name: string): Promise<PlayResult> {
    const s = this.live();
    return s ? this.markOn(s, name) : Promise.resolve({ played: false });
  }

  clear(): number {
    return this.live()?.clear() ?? 0;
  }

  sendDigits(digits: string): Promise<void> {
    const run = this.digitsQueue.then(() => this.sendDigitsNow(digits));
    this.digitsQueue = run.catch(() => undefined);
    return run;
  }

  async hangup(): Promise<void> {
    if (this.hungUp) return;
    this.hungUp = true;
    await this.o.hangupCall().catch((err) => this.o.log.warn({ err }, 'twilio hang-up failed'));
  }

  onInput(listener: (input: AudioInput) => void): void {
    this.listener = listener;
  }

  /** The call is over for this channel: the far end went, or the call was handed over. */
  get isClosed(): boolean {
    return this.gone;
  }

  async transfer(to: string, opts: TransferOptions): Promise<void> {
    if (!this.o.transfer) throw new Error('transfer is not available on this call');
    // Keys being played replace the call's TwiML too: the redirect comes after them, on the stream that follows.
    await this.digitsQueue;
    if (this.gone) throw new Error('the call has ended');
    return this.o.transfer(to, opts);
  }

  /**
   * Call before redirecting the call to other TwiML: Twilio then stops the stream, which must not count as
   * the far end going. Returns the undo for a redirect that failed (a stream that closed meanwhile then
   * starts the usual wait for a successor, after which the far end is gone).
   */
  beginHandOver(): () => void {
    this.handingOver = true;
    return () => {
      if (!this.handingOver) return;
      this.handingOver = false;
      if (this.gone || this.live()) return;
      clearTimeout(this.goneTimer);
      this.waitForSuccessor();
    };
  }

  /**
   * The call now runs other TwiML: the agent's part is over. The frames end and pending plays and marks
   * resolve unplayed; the listener hears no hang-up. The old stream is Twilio's to stop (closed from here
   * only if Twilio has not within a few seconds).
   */
  handedOver(): void {
    if (this.gone) return;
    this.gone = true;
    this.handingOver = false;
    clearTimeout(this.goneTimer);
    const s = this.stream;
    this.stream = undefined;
    if (s && !s.isClosed) setTimeout(() => s.close(1000, 'handed over'), HANDED_OVER_CLOSE_MS).unref?.();
    const waiting = this.reattach;
    this.reattach = undefined;
    waiting?.fail(new Error('the call was handed over'));
    this.inbox.close();
  }

  /** The call ended (Twilio said so, or the stream is gone for good): the callee's side is told once. */
  farEndGone(): void {
    if (this.gone) return;
    this.gone = true;
    clearTimeout(this.goneTimer);
    const s = this.stream;
    this.stream = undefined;
    if (s && !s.isClosed) s.close(1000, 'call over');
    const waiting = this.reattach;
    this.reattach = undefined;
    waiting?.fail(new Error('the call ended before the digits were sent'));
    this.inbox.close();
    this.listener?.({ type: 'hangup' });
  }

  private async sendDigitsNow(digits: string): Promise<void> {
    if (!DIGITS.test(digits)) throw new Error('digits must be 1-32 of 0-9 * # A-D w W');
    if (this.gone) throw new Error('the call has ended');
    const windowMs = (this.o.reattachMs ?? 2000) + digits.length * MS_PER_DIGIT;
    const reattached = new Promise<void>((done, fail) => {
      // Set before the update: Twilio may stop the old stream before the REST response arrives.
      this.reattach = { done, fail, windowMs };
    });
    reattached.catch(() => undefined); // observed below, unless the update itself fails
    try {
      await this.o.updateTwiml(this.o.digitsTwiml(digits));
    } catch (err) {
      this.reattach = undefined;
      throw err;
    }
    // Normally the old stream's close starts the gone window; this only guards against a stream that never closes.
    const pending = this.reattach;
    const timer = setTimeout(() => {
      if (!pending || this.reattach !== pending) return;
      this.reattach = undefined;
      pending.fail(new Error('no media stream followed the digits'));
    }, 2 * windowMs + 10_000);
    timer.unref?.();
    try {
      await reattached;
    } finally {
      clearTimeout(timer);
    }
  }

  private live(): TwilioMediaStream | undefined {
    const s = this.stream;
    return s && !s.isClosed && !this.gone ? s : undefined;
  }

  private async markOn(s: TwilioMediaStream, name: string): Promise<PlayResult> {
    const r = await s.mark(name);
    return { played: r.played };
  }

  private onStreamClosed(stream: TwilioMediaStream): void {
    if (stream !== this.stream || this.gone) return; // superseded, or the call is over already
    this.stream = undefined;
    // Twilio ended `<Connect>` for the redirect: the hand-over (or its undo) says what comes next.
    if (this.handingOver) return;
    this.waitForSuccessor();
  }

  /** No stream carries the call: one must follow within the window, else the far end is gone. */
  private waitForSuccessor(): void {
    const windowMs = this.reattach?.windowMs ?? this.o.reattachMs ?? 2000;
    this.goneTimer = setTimeout(() => {
      if (this.gone) return;
      this.o.log.info({ windowMs }, 'media stream closed and none followed: far end gone');
      this.farEndGone();
      this.o.onLost();
    }, windowMs);
    this.goneTimer.unref?.();
  }
}
