/**
 * A carrier for `bench/engine-turn.ts` whose far end is driven by the benchmark. `dial` answers at once
 * (a person, whatever the number); the channel's `say()` resolves at once (`{done: true}`), noting
 * `performance.now()` as each text is handed over. The benchmark plays the callee through `BenchLine`:
 * `speak()` notes `performance.now()` just before delivering a final utterance and resolves with the time
 * until the agent's reply is handed to `say()` — the engine's time for that turn.
 */
import type {
  Carrier,
  CarrierCallHandle,
  CarrierCapabilities,
  CarrierEndStatus,
  CarrierEvent,
  CalleeInput,
  DialRequest,
  SayResult,
  VoiceChannel,
} from '../../src/carriers/carrier.js';

/** One call as the benchmark's callee sees it. */
export class BenchLine {
  /** Every text the agent handed to `say()`, with the time it was handed over. */
  readonly said: Array<{ text: string; at: number }> = [];
  private listener: ((input: CalleeInput) => void) | undefined;
  private replyWaiter: ((at: number) => void) | undefined;
  private ended = false;
  private markReady!: () => void;
  /** Resolves once the engine listens to the callee (the call is answered and its agent is running). */
  readonly ready = new Promise<void>((r) => (this.markReady = r));

  constructor(
    readonly req: DialRequest,
    private readonly onEvent: (e: CarrierEvent) => void,
  ) {}

  readonly channel: VoiceChannel = {
    say: (text: string): Promise<SayResult> => {
      const at = performance.now();
      this.said.push({ text, at });
      const w = this.replyWaiter;
      this.replyWaiter = undefined;
      w?.(at);
      return Promise.resolve({ done: true });
    },
    sendDigits: () => Promise.resolve(),
    hangup: async () => this.end('completed'),
    onInput: (listener) => {
      this.listener = listener;
      this.markReady();
    },
  };

  /** Delivers a final utterance; resolves with the milliseconds until the agent's next `say()`. */
  speak(text: string): Promise<number> {
    if (!this.listener) throw new Error('the call is not answered yet');
    if (this.replyWaiter) throw new Error('still waiting for the previous reply');
    const reply = new Promise<number>((r) => (this.replyWaiter = r));
    const t0 = performance.now();
    this.listener({ type: 'speech', text });
    return reply.then((at) => at - t0);
  }

  /** The callee hangs up: the channel reports it, then the carrier ends the call. */
  hangUp(): void {
    this.listener?.({ type: 'hangup' });
    this.end('completed');
  }

  end(status: CarrierEndStatus): void {
    if (this.ended) return;
    this.ended = true;
    this.onEvent({ type: 'ended', status });
  }
}

export class BenchCarrier implements Carrier {
  readonly name = 'bench';
  readonly capabilities: CarrierCapabilities = {
    dtmfOut: true,
    textMode: true,
    mediaStream: false,
    knowsDestinations: false,
    transfer: false,
  };
  private readonly lines = new Map<string, BenchLine>();
  private readonly waiting = new Map<string, (l: BenchLine) => void>();

  async dial(req: DialRequest, onEvent: (e: CarrierEvent) => void): Promise<CarrierCallHandle> {
    const line = new BenchLine(req, onEvent);
    this.lines.set(req.callId, line);
    this.waiting.get(req.callId)?.(line);
    this.waiting.delete(req.callId);
    // Answered at once (after `dial` has returned its handle, as a real carrier would).
    setImmediate(() => onEvent({ type: 'answered', answeredBy: 'human', channel: line.channel }));
    return { hangup: async () => line.end('canceled') };
  }

  /** The line of a call, once it has been dialled. */
  line(callId: string): Promise<BenchLine> {
    const l = this.lines.get(callId);
    if (l) return Promise.resolve(l);
    return new Promise((r) => this.waiting.set(callId, r));
  }

  /** Forgets ended calls (a long run would otherwise keep every line). */
  forget(callId: string): void {
    this.lines.delete(callId);
  }
}
