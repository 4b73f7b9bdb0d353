/**
 * One live call: how it is carried out. The session dials through the carrier, moves the call's state as
 * the carrier reports progress, runs the agent loop over the voice channel once answered (turns,
 * barge-in, timers), executes the agent's actions, obeys commands sent over the bus, and closes the call
 * with its outcome. What the agent says and does is the brain's business (./brain.ts).
 */
import type { Bus } from '../bus/bus.js';
import { channels } from '../bus/bus.js';
import type { CallService } from '../core/calls/service.js';
import type { CallRequest } from '../core/calls/request.js';
import type { CallCommand, CommandEnvelope, CommandReply, LiveChanges } from '../core/calls/events.js';
import type { CallState } from '../core/calls/states.js';
import type { CallRow } from '../store/index.js';
import type { AnsweredBy, AudioChannel, CalleeInput, Carrier, CarrierCallHandle, CarrierEvent, InboundCall, VoiceChannel } from '../carriers/carrier.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import { background } from '../lib/background.js';
import type { AgentAction, AgentBrief, Brain, BrainInput, BrainSession, Turn } from './brain.js';
import { KEYPAD_FIELD_LABEL, buildBrief, keypadDigits } from './brief.js';
import { goodbyeLine } from './lines.js';
import type { Metrics, TurnLatency } from '../metrics/index.js';

export interface SessionSettings {
  operatorAnswerTimeoutSeconds: number;
  voicemailAction: 'leave_message' | 'hang_up';
}

/** After a connected call: a summary, whether the goal was reached, and data extracted from the transcript. */
export type Summarizer = (input: {
  brief: AgentBrief;
  transcript: Array<{ role: string; text: string }>;
  goalCompleted?: boolean;
}) => Promise<{ summary: string; goalCompleted: boolean; extracted: Record<string, unknown> }>;

export interface CallSessionDeps {
  settings: SessionSettings;
  metrics?: Metrics;
  summarize?: Summarizer;
  calls: CallService;
  bus: Bus;
  carrier: Carrier;
  brain: Brain;
  clock: Clock;
  log: Logger;
  nodeId: string;
}

/** How the conversation ended, as the session saw it. */
interface Outcome {
  goalCompleted?: boolean;
  reason?: string;
}

export class CallSession {
  readonly callId: string;
  private req: CallRequest;
  private handle: CarrierCallHandle | undefined;
  private channel: VoiceChannel | undefined;
  private brainSession: BrainSession | undefined;
  private answeredBy: AnsweredBy = 'unknown';
  private answeredAt = 0;
  private readonly history: Turn[] = [];
  private outcome: Outcome = {};
  private turn: AbortController | undefined;
  /** Whether the current turn has begun to act (said or pressed something). */
  private turnActed = false;
  private remoteEnded = false;
  private writes: Promise<unknown> = Promise.resolve();
  /** A person is on the line (not a menu, a recording or a queue). */
  private humanReached = false;
  private transferred = false;
  /** Answered in audio mode, which the engine cannot drive yet (see refuseAudio). */
  private audioRefused = false;
  private working = false;
  private hangingUp = false;
  private readonly life = new AbortController();
  private unsubscribe: (() => Promise<void>) | undefined;
  private finished!: () => void;
  /** Resolves when the call has reached an end state. */
  readonly done = new Promise<void>((r) => (this.finished = r));

  constructor(
    private readonly call: CallRow,
    private readonly d: CallSessionDeps,
    /** A call that rings one of our numbers: the session answers it instead of dialling. */
    private readonly inbound?: InboundCall,
  ) {
    this.callId = call.id;
    this.req = d.calls.requestOf(call);
  }

  /** Takes ownership of the call and dials (or answers an inbound call). Returns once dialling has begun. */
  async start(): Promise<void> {
    this.unsubscribe = await this.d.bus.subscribe(channels.callCommands(this.callId), (m) => this.onCommand(m as CommandEnvelope));
    await this.d.clock.hold(this.d.calls.setOwner(this.callId, this.d.nodeId, this.d.brain.name));
    if (this.inbound) {
      try {
        const req = { callId: this.callId, sid: this.call.sid, language: this.req.language, record: this.req.record };
        this.handle = await this.inbound.answer(req, (e) => background(this.d.log, 'carrier event failed', this.onCarrierEvent(e), { callId: this.callId }));
      } catch (err) {
        this.d.log.warn({ err, callId: this.callId }, 'answer failed');
        await this.finish('failed', { reason: 'answer_failed', error: (err as Error).message });
      }
      return;
    }
    try {
      this.handle = await this.d.carrier.dial(
        {
          callId: this.callId,
          sid: this.call.sid,
          to: this.req.to,
          from: this.req.fromNumber,
          language: this.req.language,
          ringTimeoutSeconds: this.req.ringTimeoutSeconds,
          record: this.req.record,
        },
        (e) => background(this.d.log, 'carrier event failed', this.onCarrierEvent(e), { callId: this.callId }),
      );
    } catch (err) {
      this.d.log.warn({ err, callId: this.callId }, 'dial failed');
      await this.finish('failed', { reason: 'dial_failed', error: (err as Error).message });
    }
  }

  /** Ends the call from our side (API, supervisor, shutdown). */
  async hangup(reason: string): Promise<void> {
    if (this.hangingUp) return;
    this.hangingUp = true;
    this.outcome.reason ??= reason;
    this.turn?.abort();
    if (this.channel) await this.channel.hangup().catch(() => {});
    else await this.handle?.hangup().catch(() => {});
    // A carrier that never started the call sends no `ended`: close it ourselves.
    if (!this.handle) await this.finish('canceled', { reason });
  }

  /** Records an event; the session's clock stands still meanwhile (see Clock.hold). */
  private rec(e: Parameters<CallService['record']>[1]) {
    return this.inOrder(() => this.d.calls.record(this.callId, e));
  }

  private move(...args: Parameters<CallService['transition']>) {
    return this.inOrder(() => this.d.calls.transition(...args));
  }

  /**
   * The call's writes run one after another, in the order they were asked for (so sequence numbers follow
   * what happened, even over a pool of connections), without the agent's next turn having to wait for
   * them. The session's clock stands still while any is under way (see Clock.hold).
   */
  private inOrder<T>(write: () => Promise<T>): Promise<T> {
    const p = this.writes.then(write);
    this.writes = p.catch((err) => this.d.log.error({ err, callId: this.callId }, 'call write failed'));
    return this.d.clock.hold(p);
  }

  // ---- carrier progress ------------------------------------------------------------------------

  private async onCarrierEvent(e: CarrierEvent): Promise<void> {
    try {
      if (e.type === 'ringing') {
        await this.move(this.callId, 'ringing');
      } else if (e.type === 'answered' && e.mode === 'audio') {
        await this.refuseAudio(e.audio);
      } else if (e.type === 'answered') {
        await this.onAnswered(e.answeredBy, e.channel);
      } else {
        await this.onEnded(e);
      }
    } catch (err) {
      this.d.log.error({ err, callId: this.callId }, 'carrier event failed');
    }
  }

  private async onAnswered(answeredBy: AnsweredBy, channel: VoiceChannel): Promise<void> {
    this.answeredBy = answeredBy;
    this.answeredAt = this.d.clock.now();
    this.channel = channel;
    await this.move(this.callId, 'in_progress', { answeredBy });
    if (this.hangingUp) {
      await channel.hangup();
      return;
    }
    if (answeredBy === 'machine' && this.d.settings.voicemailAction === 'hang_up') {
      this.outcome = { goalCompleted: false, reason: 'voicemail' };
      await this.hangup('voicemail');
      return;
    }
    this.brainSession = this.d.brain.startCall(buildBrief(this.req));
    channel.onInput((input) => this.onInput(input));
    this.startTimers();
    this.enqueue({ type: 'answered', answeredBy });
  }

  /**
   * The engine talks in text mode only (the audio voice pipeline comes later) and never asks a carrier
   * for audio. Should a call be answered in audio mode anyway, nothing here could speak on it: it is hung
   * up and ends `failed` with a reason, instead of staying silent until a timer ends it.
   */
  private async refuseAudio(audio: AudioChannel): Promise<void> {
    this.d.log.warn({ callId: this.callId }, 'call answered in audio mode, which the engine cannot drive yet');
    this.audioRefused = true;
    this.hangingUp = true;
    await audio.hangup().catch(() => {});
  }

  private async onEnded(e: Extract<CarrierEvent, { type: 'ended' }>): Promise<void> {
    this.remoteEnded = true;
    this.life.abort();
    if (this.audioRefused) {
      await this.finish('failed', { reason: 'voice_mode_unsupported', error: 'voice_mode_unsupported' });
      return;
    }
    if (!this.channel) {
      // Never connected: the carrier's word is the outcome (busy, no answer, failed, canceled).
      const status: CallState = e.status === 'completed' ? 'canceled' : e.status;
      await this.finish(status, { reason: e.reason ?? (this.hangingUp ? this.outcome.reason : undefined), error: e.error });
      return;
    }
    // A turn under way may still hold the agent's verdict (its `end` action): let it finish briefly.
    await Promise.race([this.settle(), new Promise((r) => setTimeout(r, 250).unref())]);
    this.turn?.abort();
    await this.settle();
    const voicemail = this.answeredBy === 'machine';
    // The model kept failing: the call did not do its job, and says why.
    const broken = this.outcome.reason === 'llm_error';
    await this.finish(broken ? 'failed' : voicemail ? 'voicemail' : 'completed', {
      reason: this.outcome.reason ?? (this.hangingUp ? undefined : this.req.direction === 'inbound' ? 'caller_hung_up' : 'callee_hung_up'),
      ...(broken ? { error: 'llm_error' } : {}),
    });
  }

  private async finish(status: CallState, f: { reason?: string; error?: string }): Promise<void> {
    const connected = this.answeredAt ? (this.d.clock.now() - this.answeredAt) / 1000 : 0;
    const voicemail = status === 'voicemail';
    const report = await this.report();
    // The agent's own verdict wins; without one (the callee hung up, a timer ended the call) the model's.
    const goalCompleted = this.channel ? (this.outcome.goalCompleted ?? report?.goalCompleted ?? false) : false;
    await this.move(this.callId, status, {
      reason: f.reason,
      error: f.error,
      answeredBy: this.channel ? this.answeredBy : undefined,
      outcome: voicemail
        ? 'voicemail'
        : this.transferred
          ? 'transferred'
          : this.channel
            ? goalCompleted
              ? 'goal_completed'
              : 'goal_not_completed'
            : status,
      goalCompleted,
      summary: report?.summary ?? this.summary(status, f.reason),
      extracted: report?.extracted,
      durationSeconds: connected,
    });
    await this.unsubscribe?.();
    if (this.d.metrics) {
      const c = await this.d.calls.eventCounts(this.callId).catch(() => ({ transcript: 0, command: 0, override: 0 }));
      this.d.metrics.observeCall(status, {
        call_duration_seconds: connected,
        transcript_count: c.transcript,
        command_count: c.command,
        override_count: c.override,
      });
    }
    this.finished();
  }

  /** The model's report on a connected call (summary, goal, extracted data), when a model is configured. */
  private async report(): Promise<Awaited<ReturnType<Summarizer>> | undefined> {
    if (!this.d.summarize || !this.channel) return undefined;
    const transcript = this.history.filter((t) => t.role !== 'system').map((t) => ({ role: t.role, text: t.text }));
    if (transcript.length === 0) return undefined;
    try {
      return await this.d.clock.hold(this.d.summarize({ brief: buildBrief(this.req), transcript, goalCompleted: this.outcome.goalCompleted }));
    } catch (err) {
      this.d.log.warn({ err, callId: this.callId }, 'call summary failed');
      return undefined;
    }
  }

  /** A short factual summary (LLM summaries replace this when a model is configured). */
  private summary(status: CallState, reason?: string): string {
    const said = this.history.filter((t) => t.role !== 'system').length;
    if (!this.channel) return `The call was not connected (${status}).`;
    const goal = this.outcome.goalCompleted ? 'The task was completed.' : 'The task was not completed.';
    const who = this.req.direction === 'inbound' ? 'A caller called in and the agent answered.' : this.answeredBy === 'machine' ? 'An answering machine answered.' : 'A person answered.';
    return `${who} ${goal} ${said} turns were spoken${reason ? `; the call ended: ${reason.replace(/_/g, ' ')}` : ''}.`;
  }

  // ---- commands from the bus -------------------------------------------------------------------

  private async onCommand(env: CommandEnvelope): Promise<void> {
    let reply: CommandReply;
    try {
      reply = await this.obey(env.command);
    } catch (err) {
      reply = { ok: false, error: (err as Error).message };
    }
    await this.d.bus.publish(channels.commandReplies(env.replyTo), reply);
  }

  private async obey(c: CallCommand): Promise<CommandReply> {
    switch (c.type) {
      case 'end':
        background(this.d.log, 'hang-up failed', this.hangup(c.reason ?? 'ended_by_api'), { callId: this.callId });
        return { ok: true };
      case 'update':
        this.applyChanges(c.changes);
        return { ok: true };
      case 'operator_answer': {
        const q = this.question;
        if (!q) return { ok: false, error: 'no_pending_question' };
        this.question = undefined;
        q.timeout.abort();
        await this.rec({ type: 'command', command: 'operator_answer' });
        this.enqueue({ type: 'operator_answer', question: q.text, answer: c.answer });
        return { ok: true };
      }
      case 'transfer':
        if (!this.channel) return { ok: false, error: 'not_connected' };
        background(this.d.log, 'transfer failed', this.transfer(c.to, c.warm, c.reason ?? 'transferred_by_api'), { callId: this.callId });
        return { ok: true };
    }
  }

  /** A PATCH: the next turn sees the new brief; a new max_duration restarts its timer from now. */
  private applyChanges(ch: LiveChanges): void {
    const r = this.req;
    this.req = {
      ...r,
      ...(ch.task !== undefined ? { task: ch.task } : {}),
      ...(ch.transferNumber !== undefined ? { transferNumber: ch.transferNumber } : {}),
      ...(ch.additionalPrompt !== undefined ? { additionalPrompt: [r.additionalPrompt, ch.additionalPrompt].filter(Boolean).join('\n') } : {}),
      ...(ch.maxDurationSeconds !== undefined ? { maxDurationSeconds: ch.maxDurationSeconds } : {}),
    };
    if (ch.maxDurationSeconds !== undefined && this.channel) this.startMaxDuration(ch.maxDurationSeconds);
  }

  // ---- the conversation ------------------------------------------------------------------------

  private onInput(input: CalleeInput): void {
    if (input.type === 'hangup') return; // the carrier's `ended` follows
    if (input.type === 'speech_started') {
      // Barge-in: the callee talks over the agent; what is being said and planned is dropped.
      this.turn?.abort();
      return;
    }
    if (input.type === 'speech') {
      this.history.push({ role: 'callee', text: input.text });
      void this
        .rec({ type: 'transcript', role: 'callee', text: input.text })
        .catch((err) => this.d.log.error({ err, callId: this.callId }, 'transcript not recorded'));
      // New words supersede a turn that is still deciding; a turn that has begun to act runs to its end
      // (talking over the agent is a barge-in, signalled by `speech_started`).
      if (!this.turnActed) this.turn?.abort();
      this.enqueue({ type: 'speech', text: input.text }, performance.now());
    } else if (input.type === 'dtmf') {
      this.enqueue({ type: 'dtmf', digits: input.digits });
    }
  }

  private pending: Array<{ input: BrainInput; heardAt?: number }> = [];
  private turnNo = 0;
  /** Timings of the turn under way (performance.now() milliseconds). */
  private timing: { heardAt: number; startedAt: number; firstOutput?: number; firstSay?: number } | undefined;
  private idle: Promise<void> = Promise.resolve();

  private enqueue(input: BrainInput, heardAt?: number): void {
    this.pending.push({ input, heardAt });
    if (!this.working) this.idle = this.work();
  }

  /** Runs queued inputs through the brain one turn at a time. */
  private async work(): Promise<void> {
    this.working = true;
    try {
      while (this.pending.length && !this.life.signal.aborted && !this.hangingUp) {
        const { input, heardAt } = this.pending.shift()!;
        this.turn = new AbortController();
        this.turnActed = false;
        this.timing = heardAt !== undefined ? { heardAt, startedAt: performance.now() } : undefined;
        await this.runTurn(input, this.turn.signal).catch((err) => {
          if ((err as Error).name !== 'AbortError') this.d.log.error({ err, callId: this.callId }, 'agent turn failed');
        });
        this.recordTiming();
      }
    } finally {
      this.working = false;
    }
  }

  /** Stores and exports the latency figures of the turn that just ran (turns that answered speech). */
  private recordTiming(): void {
    const t = this.timing;
    this.timing = undefined;
    if (!t) return;
    const latency: TurnLatency = {
      transcript_to_gpt_ms: t.startedAt - t.heardAt,
      gpt_first_token_ms: t.firstOutput !== undefined ? t.firstOutput - t.startedAt : null,
      first_audio_playback_ms: t.firstSay !== undefined ? t.firstSay - t.heardAt : null,
    };
    this.d.metrics?.observeTurn(latency);
    const turn = ++this.turnNo;
    void this.inOrder(() => this.d.calls.recordTurn(this.callId, turn, latency)).catch((err) => this.d.log.warn({ err, callId: this.callId }, 'turn figures not stored'));
  }

  private async settle(): Promise<void> {
    await this.idle.catch(() => {});
  }

  private async runTurn(input: BrainInput, signal: AbortSignal): Promise<void> {
    const ctx = { brief: buildBrief(this.req), history: this.history, signal };
    for await (const action of this.brainSession!.next(input, ctx)) {
      if (signal.aborted || this.hangingUp) return;
      if (this.timing) this.timing.firstOutput ??= performance.now();
      this.turnActed = true;
      if (this.remoteEnded && action.type !== 'end') continue; // the line is gone; only the verdict counts
      const keepGoing = await this.act(action, signal);
      // A change of language shows in the brief the brain reads for the rest of this turn too.
      if (action.type === 'switch_language') ctx.brief = buildBrief(this.req);
      if (!keepGoing) return;
    }
  }

  /** Carries out one action; false stops the rest of the turn. */
  private async act(a: AgentAction, signal: AbortSignal): Promise<boolean> {
    const ch = this.channel!;
    switch (a.type) {
      case 'say': {
        if (this.timing) this.timing.firstSay ??= performance.now();
        const r = await ch.say(a.text, signal);
        const heard = r.done ? a.text : r.heard.trim();
        if (heard) {
          this.history.push({ role: 'agent', text: heard });
          void this.rec({ type: 'transcript', role: 'agent', text: heard }).catch(() => {}); // not awaited: the next turn need not wait
        }
        return r.done;
      }
      case 'press':
        await ch.sendDigits(a.digits);
        await this.rec({ type: 'command', command: 'press', value: a.digits });
        return true;
      case 'press_field': {
        const digits = keypadDigits(this.req, a.field);
        const label = KEYPAD_FIELD_LABEL[a.field];
        if (!digits) {
          this.history.push({ role: 'system', text: `The ${label} may not be entered by keypad.` });
          return true;
        }
        await ch.sendDigits(digits);
        const note = `[entered ${label} by keypad]`;
        this.history.push({ role: 'agent', text: note });
        await this.rec({ type: 'transcript', role: 'agent', text: note });
        await this.rec({ type: 'command', command: 'press_field', value: a.field });
        return true;
      }
      case 'wait':
        return true;
      case 'switch_language':
        return this.switchLanguage(a.language);
      case 'end':
        this.outcome = { goalCompleted: a.goalCompleted, reason: a.reason };
        await this.rec({ type: 'command', command: 'end_call', value: a.reason });
        await this.hangup(a.reason);
        return false;
      case 'transfer': {
        const to = a.to || this.req.transferNumber;
        if (!to || !this.mayTransferTo(to)) {
          this.history.push({ role: 'system', text: 'That transfer destination is not allowed for this call.' });
          await this.rec({ type: 'command', command: 'transfer_refused' });
          return true;
        }
        return !(await this.transfer(to, a.warm, 'transferred'));
      }
      case 'ask_operator':
        await this.askOperator(a.question);
        return true;
      case 'human_answered':
        if (this.humanReached) return true;
        this.humanReached = true;
        await this.rec({ type: 'command', command: 'human_answered' });
        // With a transfer number, a person on the line is the moment to hand over (001: auto transfer).
        if (this.req.transferNumber) return !(await this.transfer(this.req.transferNumber, false, 'auto_transfer'));
        return true;
    }
    void signal;
  }

  /**
   * The callee cannot follow the call's language: from now on the agent speaks (and the carrier's speech
   * runs in) `language`; the brief, and so the next prompt, says so. Carriers that do the speech are told.
   */
  private async switchLanguage(language: string): Promise<boolean> {
    if (language === this.req.language) return true;
    try {
      await this.channel?.setLanguage?.(language);
    } catch (err) {
      this.d.log.warn({ err, callId: this.callId }, 'language switch failed');
      this.history.push({ role: 'system', text: 'The language could not be switched.' });
      return true;
    }
    this.req = { ...this.req, language };
    await this.rec({ type: 'command', command: 'switch_language', value: language });
    return true;
  }

  // ---- transfers --------------------------------------------------------------------------------

  /** The transfer number of the call, or a number the task or the extra instructions name. */
  private mayTransferTo(to: string): boolean {
    if (to === this.req.transferNumber) return true;
    const digits = to.replace(/\D/g, '');
    const allowed = `${this.req.task} ${this.req.additionalPrompt}`.replace(/[^\d+]/g, ' ');
    return digits.length >= 6 && allowed.split(/\s+/).some((n) => n.replace(/\D/g, '') === digits);
  }

  /** Hands the callee to `to`; true when the agent's part of the call is over. */
  private async transfer(to: string, warm: boolean, reason: string): Promise<boolean> {
    const ch = this.channel;
    if (!ch?.transfer || !this.d.carrier.capabilities.transfer) {
      this.history.push({ role: 'system', text: 'Transfer is not available on this call.' });
      await this.rec({ type: 'command', command: 'transfer_unavailable' });
      return false;
    }
    await this.rec({ type: 'command', command: 'transfer', value: `${warm ? 'warm' : 'cold'} ${to}` });
    this.outcome = { goalCompleted: this.outcome.goalCompleted ?? true, reason };
    this.transferred = true;
    try {
      const briefing = warm ? `Transferring a call about: ${this.req.task}` : undefined;
      await ch.transfer(to, { warm, briefing });
      return true;
    } catch (err) {
      this.transferred = false;
      this.d.log.warn({ err, callId: this.callId }, 'transfer failed');
      this.history.push({ role: 'system', text: 'The transfer failed.' });
      await this.rec({ type: 'command', command: 'transfer_failed' });
      return false;
    }
  }

  // ---- the operator ---------------------------------------------------------------------------

  private question: { text: string; timeout: AbortController } | undefined;

  /**
   * Records the question for the operator (API: POST /v1/calls/:callSid/operator-answer). The answer
   * comes back as an input; without one in time, the agent is told so and carries on.
   */
  private async askOperator(question: string): Promise<void> {
    this.question?.timeout.abort();
    const timeout = new AbortController();
    this.question = { text: question, timeout };
    await this.rec({ type: 'command', command: 'ask_operator', value: question });
    this.d.clock
      .sleep(this.d.settings.operatorAnswerTimeoutSeconds * 1000, AbortSignal.any([timeout.signal, this.life.signal]))
      .then(() => {
        if (this.question?.timeout !== timeout) return;
        this.question = undefined;
        void this.rec({ type: 'command', command: 'operator_timeout' }).catch(() => {});
        this.enqueue({ type: 'operator_answer', question, answer: null });
      })
      .catch(() => {});
  }

  // ---- timers ----------------------------------------------------------------------------------

  private startTimers(): void {
    if (this.req.maxDurationSeconds) this.startMaxDuration(this.req.maxDurationSeconds);
    const queue = this.req.maxQueueSeconds;
    if (queue && queue > 0 && this.answeredBy !== 'machine') {
      this.d.clock
        .sleep(queue * 1000, this.life.signal)
        .then(() => {
          if (this.humanReached || this.hangingUp) return;
          this.outcome.goalCompleted ??= false; // a timer, not the agent, ended it
          return this.hangup('queue_timeout');
        })
        .catch(() => {});
    }
  }

  private maxDurationTimer: AbortController | undefined;

  /** `max_duration` counts connected seconds from now: then a short goodbye, and the call ends. */
  private startMaxDuration(seconds: number): void {
    this.maxDurationTimer?.abort();
    const t = (this.maxDurationTimer = new AbortController());
    this.d.clock
      .sleep(seconds * 1000, AbortSignal.any([t.signal, this.life.signal]))
      .then(async () => {
        if (this.hangingUp) return;
        this.turn?.abort();
        this.pending = [];
        await this.settle();
        this.outcome.reason = 'max_duration';
        this.outcome.goalCompleted ??= false; // a timer, not the agent, ended it
        const bye = goodbyeLine(this.req.language);
        const r = await this.channel!.say(bye);
        const heard = r.done ? bye : r.heard;
        if (heard) await this.rec({ type: 'transcript', role: 'agent', text: heard });
        await this.hangup('max_duration');
      })
      .catch(() => {});
  }
}
