/**
 * What the realtime activity's tests share: an `AudioChannel` double (frames pushed by the test; played
 * audio heard at once, or held until `playOut` like a phone line that is still playing it; by default with
 * Twilio's `send` and `onFrame`, with `sends: false` the per-frame `play` and `frames()`), a controller
 * double (`ActionHost`) that records actions, and an activity connected to the fake OpenAI Realtime server.
 */
import type { AudioChannel, AudioInput, PlayResult, TransferOptions } from '../../../src/carriers/carrier.js';
import type { ActionHost } from '../../../src/engine/activity.js';
import type { ActionResult, AgentBrief } from '../../../src/engine/brain.js';
import { OK } from '../../../src/engine/brain.js';
import type { ReportedAction, SessionEvent } from '../../../src/engine/events.js';
import { AsyncQueue } from '../../../src/lib/async-queue.js';
import { createLogger } from '../../../src/lib/logger.js';
import { RealtimeActivity } from '../../../src/engine/realtime/index.js';
import { REALTIME_DEFAULTS, RealtimeConnection, realtimeSession } from '../../../src/ai/realtime/index.js';
import { UsageMeter } from '../../../src/core/credits/usage.js';
import { Pacer, type PacerClock } from '../../../src/engine/voice/pacer.js';
import { tone } from '../../fakes/openai-realtime/fake-openai-realtime.js';
import type { FakeOpenAIRealtime, FakeRealtimeConnection } from '../../fakes/openai-realtime/fake-openai-realtime.js';
import { line } from '../session-harness.js';

export class FakeAudioChannel implements AudioChannel {
  readonly inbox = new AsyncQueue<Uint8Array>({ limit: 10_000, overflow: 'drop_oldest' });
  /** Audio heard by the callee, in order. */
  heard = Buffer.alloc(0);
  /** What is on the line and not yet heard (with `hold`): audio, and marks (no audio) that settle once the audio before them is heard. */
  private queue: Array<{ audio?: Buffer; done?: (r: PlayResult) => void }> = [];
  clears = 0;
  digits: string[] = [];
  hangups = 0;
  private listener: ((i: AudioInput) => void) | undefined;
  private frameListener: ((frame: Uint8Array) => void) | undefined;
  /** Where the test wants the line to transfer: it plays the carrier's part (see `TransferOptions.quiet`). */
  transfer?: (to: string, opts: TransferOptions) => Promise<void>;
  /** Present with `sends` (as on Twilio's channel): audio queued with no report, and the callee's frames handed over as they come. */
  readonly send?: (mulaw: Uint8Array) => void;
  readonly onFrame?: (listener: (frame: Uint8Array) => void) => void;

  constructor(
    private readonly hold = false,
    sends = true,
  ) {
    if (!sends) return;
    this.send = (mulaw) => this.queueAudio(Buffer.from(mulaw));
    this.onFrame = (listener) => {
      this.frameListener = listener;
      for (const frame of this.inbox.drain()) listener(frame);
    };
  }

  frames(): AsyncIterable<Uint8Array> {
    return this.inbox;
  }

  play(mulaw: Uint8Array): Promise<PlayResult> {
    return new Promise((done) => this.queueAudio(Buffer.from(mulaw), done));
  }

  private queueAudio(audio: Buffer, done?: (r: PlayResult) => void): void {
    if (this.hold) {
      this.queue.push({ audio, done });
      return;
    }
    this.heard = Buffer.concat([this.heard, audio]);
    done?.({ played: true });
  }

  /** With `hold`: the first `n` queued frames are heard (and the marks right after them come back). */
  playOut(n = Infinity): void {
    while (this.queue.length) {
      const p = this.queue[0];
      if (p.audio) {
        if (n-- <= 0) break;
        this.heard = Buffer.concat([this.heard, p.audio]);
      }
      this.queue.shift();
      p.done?.({ played: true });
    }
  }

  /** With `hold`: frames queued on the line and not yet heard. */
  get queued(): number {
    return this.queue.filter((p) => p.audio).length;
  }

  get queuedBytes(): number {
    return this.queue.reduce((n, p) => n + (p.audio?.length ?? 0), 0);
  }

  mark(): Promise<PlayResult> {
    if (!this.hold || !this.queue.length) return Promise.resolve({ played: true });
    return new Promise((done) => this.queue.push({ done }));
  }

  clear(): number {
    this.clears++;
    const dropped = this.queue.splice(0);
    for (const p of dropped) p.done?.({ played: false });
    return dropped.reduce((ms, p) => ms + (p.audio?.length ?? 0) / 8, 0);
  }

  async sendDigits(digits: string): Promise<void> {
    this.digits.push(digits);
  }

  async hangup(): Promise<void> {
    this.hangups++;
  }

  onInput(listener: (i: AudioInput) => void): void {
    this.listener = listener;
  }

  /** The callee's audio (split into 20 ms frames). */
  speak(mulaw: Buffer): void {
    for (let i = 0; i < mulaw.length; i += 160) {
      const frame = mulaw.subarray(i, i + 160);
      if (this.frameListener) this.frameListener(frame);
      else this.inbox.push(frame);
    }
  }

  press(digits: string): void {
    this.listener?.({ type: 'dtmf', digits });
  }
}

/** The controller's side: records actions; `end` and `transfer` close the agent's part. */
export class FakeHost implements ActionHost {
  readonly actions: ReportedAction[] = [];
  closing = false;
  constructor(private readonly b: AgentBrief) {}
  brief(): AgentBrief {
    return this.b;
  }
  async act(action: ReportedAction): Promise<ActionResult> {
    this.actions.push(action);
    if (action.type === 'end') this.closing = true;
    return OK;
  }
}

export const BRIEF: AgentBrief = {
  task: 'Confirm the dental appointment on Friday at 10.',
  additionalPrompt: '',
  language: 'en',
  persona: { name: 'Alex Smith' },
  keypadFields: [],
};

export interface RealtimeRig {
  activity: RealtimeActivity;
  channel: FakeAudioChannel;
  host: FakeHost;
  usage: UsageMeter;
  events: SessionEvent[];
  /** This activity's connection at the fake (once it connected). */
  conn(): FakeRealtimeConnection | undefined;
  /** What this activity sent the model, audio appends left out. */
  sent(): Array<Record<string, any>>;
  /** The events as readable lines (../session-harness.ts). */
  lines(): string[];
}

/**
 * A pacer clock that runs as fast as the event loop turns: each tick is 20 ms of virtual time, so the
 * agent's audio leaves frame by frame, in order, without the tests waiting real time for it.
 */
export class RunningClock implements PacerClock {
  private t = 0;
  now(): number {
    return this.t;
  }
  every(ms: number, tick: () => void): () => void {
    let on = true;
    const step = () => {
      if (!on) return;
      this.t += ms;
      tick();
      setImmediate(step);
    };
    setImmediate(step);
    return () => (on = false);
  }
}

/** μ-law silence (`0xFF`), `ms` long: a phone line between words. */
export const silence = (ms: number): Buffer => Buffer.alloc(ms * 8, 0xff);

/** The callee says something `ms` long (a tone), with the line's quiet around it. */
export const utter = (ms: number): Buffer => Buffer.concat([silence(100), tone(ms), silence(300)]);

export function realtimeRig(fake: FakeOpenAIRealtime, o: { hold?: boolean; sends?: boolean; brief?: AgentBrief; greetAfterMs?: number; clock?: PacerClock; transfer?: FakeAudioChannel['transfer'] } = {}): RealtimeRig {
  const index = fake.connections.length;
  const conn = () => fake.connections[index];
  const channel = new FakeAudioChannel(o.hold, o.sends ?? true);
  if (o.transfer) channel.transfer = o.transfer;
  const host = new FakeHost(o.brief ?? BRIEF);
  const events: SessionEvent[] = [];
  const usage = new UsageMeter();
  const startedAt = new Date();
  const activity = new RealtimeActivity({
    callId: 'call_rt',
    channel,
    connect: () => RealtimeConnection.open({ apiKey: 'sk-test', baseUrl: fake.url }),
    // The prompt's clock fixed at the call's start, as the app wires it (engine/realtime/wiring.ts): a test that
    // crossed a minute otherwise saw a second `session.update` (the instructions say the time to the minute).
    session: (brief) => realtimeSession(brief, 'cedar', REALTIME_DEFAULTS, startedAt),
    host,
    emit: (e) => events.push(e),
    usage,
    greetAfterMs: o.greetAfterMs ?? 60_000,
    pacer: new Pacer(o.clock ?? new RunningClock()),
    log: createLogger('silent'),
  });
  const sent = () => (conn()?.received ?? []).filter((e) => e.type !== 'input_audio_buffer.append');
  return { activity, channel, host, usage, events, conn, sent, lines: () => events.map(line) };
}

/** Waits (generously: a busy 2-core machine) until `pred` holds. */
export async function waitFor<T>(pred: () => T | undefined | false, what: string, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = pred();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
