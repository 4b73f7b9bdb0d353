/**
 * Paces the agent's audio out at real time: 20 ms of μ-law a tick (as 20 ms frames, or longer ones less often
 * where the carrier takes them: Twilio's are 80 ms), for every call of the node from ONE
 * timer (a timer per call would be 50 wake-ups a second per call: at 1,000 calls the event loop would do
 * nothing else). Only calls with audio waiting are visited on a tick; the timer stops when none has any.
 *
 * Why pace at all: a carrier plays what it receives and keeps the rest in its buffer. Audio sent faster
 * than real time sits there, where a barge-in can only drop it with a round trip (Twilio `clear`); sent at
 * real time, with a small lead against network jitter, the unplayed audio stays here and is dropped at
 * once, and the frames sent tell what the callee heard.
 *
 * @example
 *   const out = Pacer.shared().output((frame) => channel.play(frame));
 *   out.enqueue(mulaw); out.enqueueMark(() => console.log('all of it sent'));
 */

/** Milliseconds of audio in a frame (the pacer's tick), and μ-law bytes in one (8 kHz, a byte a sample). */
export const FRAME_MS = 20;
export const FRAME_BYTES = 160;
/** μ-law bytes a millisecond (8 kHz). */
const BYTES_PER_MS = FRAME_BYTES / FRAME_MS;
/**
 * How far ahead of real time an output keeps its audio by default: a 40 ms cushion in the carrier against
 * network jitter and our own event loop's stalls. A frame goes when the cushion falls below it, so the carrier
 * holds at least 20 ms (one tick) more than it has played, and at most this plus one frame.
 * It is also every output's minimum: below it, a frame goes even if it is short (see `PacedOutput.due`).
 */
export const LEAD_FRAMES = 2;
const LEAD_BYTES = LEAD_FRAMES * FRAME_BYTES;
/** The longest cushion an output may ask for (ms): what a barge-in's `clear` drops at the carrier, beside a frame. */
export const MAX_LEAD_MS = 200;
/** The longest frame an output may send (ms): 100 ms unheard in the carrier at most, beside the cushion. */
export const MAX_FRAME_MS = 100;
/** A timer that fires this many frames late catches up at most so far (the rest of the gap is lost). */
const MAX_CATCH_UP = 10;

/** The pacer's time: performance.now() and setInterval in production; a hand-moved clock in tests. */
export interface PacerClock {
  now(): number;
  /** Calls `tick` every `ms` until the returned function is called. */
  every(ms: number, tick: () => void): () => void;
}

export const realPacerClock: PacerClock = {
  now: () => performance.now(),
  every(ms, tick) {
    const t = setInterval(tick, ms);
    t.unref?.();
    return () => clearInterval(t);
  },
};

export class Pacer {
  private static sharedPacer: Pacer | undefined;
  private readonly active = new Set<PacedOutput>();
  private stopTimer: (() => void) | undefined;
  private startedAt = 0;
  private ticks = 0;

  constructor(readonly clock: PacerClock = realPacerClock) {}

  /** The node's one pacer (on the real clock). */
  static shared(): Pacer {
    return (Pacer.sharedPacer ??= new Pacer());
  }

  /**
   * A call's outbound audio; `send` gets each frame as it is due. `frameMs` (a multiple of FRAME_MS up to
   * MAX_FRAME_MS, default FRAME_MS) is the audio in one frame: a carrier that takes longer messages gets fewer
   * of them (Twilio: 80 ms, a quarter of the socket writes), each sent as soon as the cushion of `leadMs`
   * (default LEAD_FRAMES × FRAME_MS, at most MAX_LEAD_MS) ahead of real time needs it.
   */
  output(send: (frame: Uint8Array) => void, frameMs = FRAME_MS, leadMs = LEAD_FRAMES * FRAME_MS): PacedOutput {
    if (!Number.isInteger(frameMs / FRAME_MS) || frameMs < FRAME_MS || frameMs > MAX_FRAME_MS) throw new RangeError(`frameMs must be a multiple of ${FRAME_MS} ms, at most ${MAX_FRAME_MS}`);
    if (!Number.isInteger(leadMs / FRAME_MS) || leadMs < LEAD_FRAMES * FRAME_MS || leadMs > MAX_LEAD_MS) throw new RangeError(`leadMs must be a multiple of ${FRAME_MS} ms from ${LEAD_FRAMES * FRAME_MS} to ${MAX_LEAD_MS}`);
    return new PacedOutput(this, send, (frameMs / FRAME_MS) * FRAME_BYTES, (leadMs / FRAME_MS) * FRAME_BYTES);
  }

  /** How many outputs have audio waiting (bench, tests). */
  get activeCount(): number {
    return this.active.size;
  }

  /** @internal An output has audio: it is visited on every tick from now on. */
  wake(o: PacedOutput): void {
    this.active.add(o);
    if (this.stopTimer) return;
    this.startedAt = this.clock.now();
    this.ticks = 0;
    this.stopTimer = this.clock.every(FRAME_MS, () => this.tick());
  }

  /** @internal An output has nothing left (or is paused). */
  sleep(o: PacedOutput): void {
    this.active.delete(o);
    if (this.active.size || !this.stopTimer) return;
    this.stopTimer();
    this.stopTimer = undefined;
  }

  /** Real time in the pacer's ticks since its timer started (an output counts its own budget from it). */
  get tickCount(): number {
    return this.ticks;
  }

  /**
   * Ticks now if a tick is due and its timer has not fired yet. Called for every inbound frame: under load the
   * event loop reads sockets in long runs (hundreds of calls' frames, one after another, in one poll phase)
   * and a timer waits until the run ends; the audio out must not wait with it. One clock read when not due.
   */
  nudge(): void {
    if (this.stopTimer && this.clock.now() - this.startedAt >= (this.ticks + 1) * FRAME_MS) this.tick();
  }

  /** Sends each active output the frames due since the last tick (timers fire late under load: catch up). */
  private tick(): void {
    const due = Math.floor((this.clock.now() - this.startedAt) / FRAME_MS);
    const owed = Math.min(due - this.ticks, MAX_CATCH_UP);
    // Beyond MAX_CATCH_UP the gap is lost: every output's budget moves on by the ticks not caught up.
    const lost = due - this.ticks - owed;
    this.ticks = due;
    for (let i = owed - 1; i >= 0; i--) for (const o of this.active) o.due(due - i, i === owed - 1 ? lost : 0);
  }
}

type Item = { bytes: Uint8Array } | { mark: () => void };

/** One call's outbound audio: a queue of audio and marks, drained one frame a tick. */
export class PacedOutput {
  private items: Item[] = [];
  /** Bytes of the first item already sent. */
  private offset = 0;
  private paused = false;
  private awake = false;
  /** The pacer's tick when this output (re)started, and the bytes it has sent since: its budget is real time plus the lead. */
  private fromTick = 0;
  private sentBytes = 0;
  /**
   * When (pacer clock, ms) the audio sent so far ends playing at the carrier, were it played from its arrival
   * on without a gap: an output that restarts before then (synthesis came in pieces, the queue ran dry between
   * them) still has that much ahead, and only tops its lead up.
   */
  private playsUntil = 0;

  constructor(
    private readonly pacer: Pacer,
    private readonly send: (frame: Uint8Array) => void,
    private readonly frameBytes: number = FRAME_BYTES,
    private readonly leadBytes: number = LEAD_BYTES,
  ) {}

  /** Queues audio; an output that was idle sends its lead at once (the first frame is not kept waiting). */
  enqueue(bytes: Uint8Array): void {
    if (!bytes.length) return;
    this.items.push({ bytes });
    this.start();
  }

  /** Runs `reached` once every byte queued before it has been sent. */
  enqueueMark(reached: () => void): void {
    this.items.push({ mark: reached });
    this.start();
  }

  /** An inbound frame arrived: the pacer ticks if a tick is due (`Pacer.nudge`). */
  nudge(): void {
    this.pacer.nudge();
  }

  /** Holds the audio (the callee may be interrupting): nothing is sent until `resume` or `clear`. */
  pause(): void {
    this.paused = true;
    this.stop();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.start();
  }

  /** Drops everything queued (audio and marks) and unpauses. */
  clear(): void {
    this.items = [];
    this.offset = 0;
    this.paused = false;
    // The carrier drops what it had not played (the caller clears the channel with this).
    this.playsUntil = 0;
    this.stop();
  }

  /**
   * @internal The pacer reached `tick` (`lost` ticks were skipped, not caught up): the frames the budget
   * allows go out (a 20 ms output: one a tick; an 80 ms one: one every fourth tick).
   */
  due(tick: number, lost: number): void {
    this.fromTick += lost;
    this.fill((tick - this.fromTick) * FRAME_BYTES);
  }

  /**
   * Sends frames until the carrier holds `leadBytes` beyond the `played` bytes of real time. Above the minimum
   * cushion (LEAD_BYTES) only whole frames go: synthesis that streams in pieces shorter than a frame would
   * otherwise top a long cushion up with a short message each time (more messages, more socket writes, for
   * the same audio); the short rest waits for the next piece, or goes once the cushion is down to the minimum.
   */
  private fill(played: number): void {
    while (this.awake && this.sentBytes < played + this.leadBytes) {
      if (this.sentBytes >= played + LEAD_BYTES && this.onlyPartFrameQueued()) return;
      this.sendFrame();
    }
  }

  /** Less than a frame of audio is queued and no mark follows it: the synthesis has more to come. */
  private onlyPartFrameQueued(): boolean {
    let bytes = -this.offset;
    for (const item of this.items) {
      // A mark ends a clause: the frame before it is short by nature and goes now.
      if (!('bytes' in item)) return false;
      bytes += item.bytes.length;
      if (bytes >= this.frameBytes) return false;
    }
    return bytes > 0;
  }

  /** @internal One frame (up to `frameBytes`, never past a mark), then any marks it reached. */
  sendFrame(): void {
    this.runMarks();
    const head = this.items[0];
    if (!head || !('bytes' in head)) {
      this.stop();
      return;
    }
    const size = this.frameBytes;
    const end = Math.min(this.offset + size, head.bytes.length);
    let frame = head.bytes.subarray(this.offset, end);
    this.offset = end;
    if (this.offset === head.bytes.length) {
      this.items.shift();
      this.offset = 0;
      // A frame may span chunks (synthesis streams in any sizes), but not a mark.
      while (frame.length < size && this.items[0] && 'bytes' in this.items[0]) {
        const next = this.items[0].bytes;
        const take = Math.min(size - frame.length, next.length);
        const joined = new Uint8Array(frame.length + take);
        joined.set(frame);
        joined.set(next.subarray(0, take), frame.length);
        frame = joined;
        if (take === next.length) this.items.shift();
        else this.offset = take;
      }
    }
    // Counted as the audio it holds: a short frame (the end of a clause, before a mark) leaves the cushion
    // short, and the next frame follows at the next tick. (Counted as a whole frame, a short 80 ms frame
    // would let the carrier's buffer run dry for up to 70 ms.)
    this.sentBytes += frame.length;
    this.playsUntil = Math.max(this.playsUntil, this.pacer.clock.now()) + frame.length / BYTES_PER_MS;
    this.send(frame);
    this.runMarks();
  }

  private runMarks(): void {
    while (this.items[0] && 'mark' in this.items[0]) (this.items.shift() as { mark: () => void }).mark();
  }

  private start(): void {
    if (this.paused || this.awake) {
      if (!this.paused) this.runMarks();
      return;
    }
    this.awake = true;
    this.pacer.wake(this);
    this.fromTick = this.pacer.tickCount;
    // Audio still playing at the carrier counts as sent ahead: pieces that arrive one by one, each after the
    // queue ran dry, are paced at real time instead of each going at once with a lead of its own.
    this.sentBytes = Math.max(0, Math.round((this.playsUntil - this.pacer.clock.now()) * BYTES_PER_MS));
    // The lead goes at once (the first frame is not kept waiting for a tick).
    this.fill(0);
  }

  private stop(): void {
    if (!this.awake) return;
    this.awake = false;
    this.pacer.sleep(this);
  }
}
