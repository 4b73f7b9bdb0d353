/**
 * The LLM brain: a language model decides what the agent says and does. It speaks each sentence as soon
 * as the model has written it, acts through tools (or 004's inline `[[command]]` protocol for models
 * without tool calling), and never leaves the line silent: a failed or empty turn gets a spoken fallback,
 * and three in a row end the call with `llm_error`.
 *
 * The model's text streams into speech: the first words of a reply open a `say` whose text is a stream,
 * and the engine speaks it clause by clause while the model is still writing the rest.
 *
 * The conversation sent to the model is rebuilt every turn from what actually happened: the engine's
 * history (agent turns hold only what the callee heard, so a reply cut off by barge-in is not remembered
 * as said), plus what only the brain knows (tool calls and their results, inline commands, notes about
 * DTMF, operator answers and notices), each placed where it happened in the history. A tool's result is
 * the engine's result for that action (refused, unavailable, failed), handed back by the `yield`, and goes
 * to the model as the tool-result message.
 */
import type { ActionResult, AgentAction, AgentBrief, Brain, BrainCallOptions, BrainContext, BrainInput, BrainSession, BrainTurn } from '../../engine/brain.js';
import { TextStream } from '../../lib/text-stream.js';
import { RealClock, type Clock } from '../../lib/clock.js';
import type { ChatMessage, Llm, LlmRequest, ToolCall } from '../llm/llm.js';
import { meteredLlm } from '../llm/metered.js';
import { isBeep, norm } from '../rules/match.js';
import { phrasesFor } from '../rules/phrases.js';
import { InlineCommandParser, type InlineCommand } from './inline-commands.js';
import { fallbackLines } from './phrases.js';
import { buildSystemPrompt } from './prompt.js';
import { SentenceSplitter, speakable } from './sentences.js';
import { inlineCommandToAction, toolCallToAction, toolSpecs, type CommandOutcome } from './tools.js';
import { ROUTINE_ABORT } from '../../lib/abort.js';

export interface LlmBrainOptions {
  llm: Llm;
  /** `tools`: the model acts through tool calls. `inline`: through `[[command:param]]` in its text (004). */
  mode: 'tools' | 'inline';
  /** For the pauses below, the first-output deadline and the date in the prompt. Default: real time. */
  clock?: Clock;
  /** Model calls allowed after tool calls within one turn (the first call not counted). Default 4. */
  maxToolRounds?: number;
  /** A name the agent introduces itself with. */
  agentName?: string;
  /**
   * How long a person who answered may stay silent before the agent speaks first. Most people (and every
   * phone menu) speak first; the agent answers that instead. Default 2500 ms; 0 speaks at once.
   */
  greetAfterMs?: number;
  /** Silence after an answering machine's greeting (with no beep heard) before the message is left. Default 3000 ms. */
  machineSilenceMs?: number;
  /** A model that has produced nothing this long after a request is abandoned (a failed turn). Default 10 000 ms; 0 = none. */
  firstOutputTimeoutMs?: number;
  /**
   * A model that has begun its reply and then writes nothing more for this long while the brain waits for it: the
   * request is abandoned and the reply ends with what was said (the callee then speaks), where the model's client
   * would wait for its idle timeout (LLM_TIMEOUT_MS, 30 s) — dead air on a live line. Default 10 000 ms; 0 = none.
   */
  stallTimeoutMs?: number;
  temperature?: number;
  maxTokens?: number;
}

/** Turns in a row that may fail (model error or nothing produced) before the call is ended with `llm_error`. */
export const MAX_FAILED_TURNS = 3;

export class LlmBrain implements Brain {
  readonly name: string;
  constructor(private readonly opts: LlmBrainOptions) {
    this.name = opts.llm.name;
  }
  startCall(brief: AgentBrief, call: BrainCallOptions = {}): BrainSession {
    void brief; // the live brief arrives with every input (a PATCH may change it)
    // The call's own view of the model: its tokens are counted on the call's usage meter (billing).
    const opts = call.usage ? { ...this.opts, llm: meteredLlm(this.opts.llm, call.usage) } : this.opts;
    return new LlmSession(opts, this.opts.clock ?? new RealClock());
  }
}

/** Messages only the brain knows, placed before `history[at]` (or at the end when `at` is the history's length). */
interface Extra {
  at: number;
  messages: ChatMessage[];
}

interface RoundResult {
  /** Actions yielded (sentences and commands). */
  acted: number;
  /** Something was said this round. */
  said: boolean;
  /** The call is over (an `end` or a transfer was carried out). */
  ended: boolean;
  /** A command was refused or reported failed: the model should hear about it and try again. */
  refused: boolean;
  /** A command that hands the turn back to the model when nothing was said (ask_operator, human_answered). */
  wantsWords: boolean;
  /** A command whose answer the model has to read before it goes on (a calendar lookup or booking). */
  answered: boolean;
  /** The model failed (error, or no output before the deadline). */
  failed: boolean;
  aborted: boolean;
}

const say = (text: string | AsyncIterable<string>): AgentAction => ({ type: 'say', text });

/** Actions out, each action's result back in. */
type Acts<R = void> = AsyncGenerator<AgentAction, R, ActionResult | undefined>;
const result = (v: Record<string, unknown>) => JSON.stringify(v);
const INTERRUPTED = result({ ok: false, error: 'not carried out: the turn was interrupted' });

class LlmSession implements BrainSession {
  private readonly extras: Extra[] = [];
  /** The playout of the last speech: the conversation is up to date once it has settled. */
  private speaking: Promise<unknown> | undefined;
  private failures = 0;
  private opened = false;
  private machine = false;
  private over = false;

  constructor(
    private readonly o: LlmBrainOptions,
    private readonly clock: Clock,
  ) {}

  async *next(input: BrainInput, ctx: BrainContext): BrainTurn {
    if (this.over || ctx.signal.aborted) return;
    switch (input.type) {
      case 'answered':
        if (input.answeredBy === 'machine') {
          this.machine = true;
          if (await this.pause(this.o.machineSilenceMs ?? 3000, ctx.signal)) yield* this.voicemail(ctx);
          return;
        }
        if (this.opened) return;
        if (ctx.brief.inbound) {
          // We answered someone who called us: the one who answers speaks first. The agent's own opening line
          // is said as written, at once: it is the agent's words, and the caller hears them without a model turn.
          if (ctx.brief.greeting?.trim()) {
            this.opened = true;
            yield say(ctx.brief.greeting.trim());
            return;
          }
          this.note(ctx, '[You have just answered an incoming call. Greet the caller and ask how you can help.]');
          yield* this.turn(ctx, true);
          return;
        }
        if (!(await this.pause(this.o.greetAfterMs ?? 2500, ctx.signal))) return; // the callee spoke first
        if (this.opened) return;
        this.note(ctx, '[The call has been answered and nobody has said anything yet. Greet them and say why you are calling.]');
        yield* this.turn(ctx, true);
        return;
      case 'speech': {
        const noAgentYet = !ctx.history.some((t) => t.role === 'agent');
        if (isBeep(norm(input.text)) && (this.machine || noAgentYet)) {
          yield* this.voicemail(ctx);
          return;
        }
        if (this.machine) {
          // The machine's greeting: the message goes after the beep, or after the silence that follows it.
          if (await this.pause(this.o.machineSilenceMs ?? 3000, ctx.signal)) yield* this.voicemail(ctx);
          return;
        }
        // The engine puts callee speech into the history; a driver that does not still gets it heard.
        if (!ctx.history.some((t) => t.role === 'callee' && t.text === input.text)) this.note(ctx, input.text);
        yield* this.turn(ctx, !this.opened);
        return;
      }
      case 'dtmf':
        this.note(ctx, `[The other side pressed the keys ${input.digits}.]`);
        break;
      case 'operator_answer':
        this.note(
          ctx,
          input.answer === null
            ? `[Your client did not answer your question "${input.question}" in time. Carry on without it.]`
            : `[Your client answered your question "${input.question}": ${input.answer}]`,
        );
        break;
      case 'notice':
        this.note(ctx, `[Note: ${input.text}]`);
        break;
    }
    yield* this.turn(ctx, false);
  }

  // ---- one turn ---------------------------------------------------------------------------------

  /** Calls the model until it has nothing more to do this turn; falls back when it fails. */
  private async *turn(ctx: BrainContext, opening: boolean): Acts {
    const maxRounds = 1 + Math.max(0, this.o.maxToolRounds ?? 4);
    let acted = 0;
    let failed = false;
    for (let round = 0; round < maxRounds; round++) {
      const r: RoundResult = yield* this.round(ctx);
      if (r.aborted) return;
      acted += r.acted;
      if (r.failed) {
        failed = acted === 0;
        break;
      }
      if (r.ended) {
        this.over = true;
        break;
      }
      if (!(r.refused || r.answered || (r.wantsWords && !r.said))) break;
    }
    if (acted > 0 && !failed) {
      this.failures = 0;
      this.opened = true;
      return;
    }
    // Nothing came out of the model: never leave the line silent.
    this.failures++;
    const lines = fallbackLines(ctx.brief.language);
    if (this.failures >= MAX_FAILED_TURNS) {
      this.over = true;
      yield say(lines.giveUp);
      yield { type: 'end', goalCompleted: false, reason: 'llm_error' };
      return;
    }
    if (opening && !ctx.history.some((t) => t.role === 'agent')) {
      // Nothing said yet: a greeting is a better fallback than "could you repeat that?".
      this.opened = true;
      yield say(phrasesFor(ctx.brief.language).hello(ctx.brief.persona.name));
      return;
    }
    yield say(this.failures === 1 ? lines.repeat : lines.repeatAgain);
  }

  /** One model call: streams sentences and actions out as they complete. */
  private async *round(ctx: BrainContext): Acts<RoundResult> {
    const r: RoundResult = { acted: 0, said: false, ended: false, refused: false, wantsWords: false, answered: false, failed: false, aborted: false };
    const brief = ctx.brief;
    const inline = this.o.mode === 'inline';
    const ctl = new AbortController();
    const onAbort = () => ctl.abort(ctx.signal.reason);
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    await this.heard(); // the model sees what was heard of its last words
    const deadline = this.watchdog(ctl);

    const req: LlmRequest = {
      messages: this.messages(ctx),
      signal: ctl.signal,
      ...(inline ? {} : { tools: toolSpecs(brief), toolChoice: 'auto' as const }),
      ...(this.o.temperature !== undefined ? { temperature: this.o.temperature } : {}),
      ...(this.o.maxTokens !== undefined ? { maxTokens: this.o.maxTokens } : {}),
    };
    const parser = new InlineCommandParser();
    // The speech helper below is a generator function (no arrow), so it reaches the session by name.
    const self = this;
    let block: { call: ChatMessage & { role: 'assistant' }; at: Extra } | undefined;

    // The reply's words stream into one speech (clauses are cut by the engine); a command closes it.
    let speech: TextStream | undefined;
    let lead = '';
    const speak = function* (text: string): Generator<AgentAction> {
      if (speech) return speech.push(text);
      // Nothing to say yet (a space, markdown): keep it until words come.
      lead += text;
      if (!/[\p{L}\p{N}]/u.test(lead)) return;
      speech = new TextStream();
      speech.push(lead);
      lead = '';
      r.said = true;
      r.acted++;
      const queued = yield say(speech);
      if (queued?.ok) self.speaking = queued.playout;
    };
    const endSpeech = () => {
      speech?.end();
      speech = undefined;
      lead = '';
    };

    try {
      for await (const chunk of this.o.llm.stream(req)) {
        if (ctx.signal.aborted) {
          r.aborted = true;
          return r;
        }
        deadline.output();
        if (chunk.type === 'text') {
          const pieces = inline ? parser.push(chunk.text) : [{ type: 'text' as const, text: chunk.text }];
          for (const p of pieces) {
            if (p.type === 'text') yield* speak(p.text);
            else {
              endSpeech();
              yield* this.inlineCommand(p.command, ctx, r);
              if (r.ended) return r;
            }
          }
        } else if (chunk.type === 'tool_call' && !inline) {
          endSpeech();
          if (!block) {
            await this.heard(); // the call goes where it happened: after what was said before it
            const call: ChatMessage & { role: 'assistant' } = { role: 'assistant', content: null, toolCalls: [] };
            const at: Extra = { at: ctx.history.length, messages: [call] };
            this.extras.push(at);
            block = { call, at };
          }
          const tc: ToolCall = chunk.call;
          block.call.toolCalls!.push(tc);
          const msg: ChatMessage = { role: 'tool', toolCallId: tc.id, content: INTERRUPTED };
          block.at.messages.push(msg);
          const done = yield* this.perform(toolCallToAction(tc, ctx.brief), ctx, r);
          msg.content = done.result;
          if (r.ended) return r;
        }
        deadline.waiting();
      }
      for (const p of inline ? parser.flush() : []) {
        if (p.type === 'text') yield* speak(p.text);
        else {
          endSpeech();
          yield* this.inlineCommand(p.command, ctx, r);
          if (r.ended) return r;
        }
      }
      if (deadline.expired()) {
        // A stream that ends quietly when aborted (rather than throwing): the reply was broken off all the same.
        r.failed = true;
        speech?.breakOff();
      }
      endSpeech();
    } catch (err) {
      if (ctx.signal.aborted) r.aborted = true;
      else {
        r.failed = true;
        speech?.breakOff(); // what the model wrote of its unfinished clause is not said
      }
      void err; // classified by the adapter; a failed turn is handled the same whatever the cause
    } finally {
      endSpeech();
      deadline.cancel();
      ctx.signal.removeEventListener('abort', onAbort);
    }
    return r;
  }

  /** Carries out one command (yields its action) and returns the result to tell the model. */
  private async *perform(outcome: CommandOutcome, ctx: BrainContext, r: RoundResult): Acts<{ result: string; failed: boolean }> {
    void ctx;
    if (!outcome.ok) {
      r.refused = true;
      return { result: result({ ok: false, error: outcome.error }), failed: true };
    }
    const a = outcome.action;
    r.acted++;
    // The engine stops pulling once the call ends: be over before the action goes out.
    if (a.type === 'end') this.over = true;
    const done = yield a;
    if (a.type === 'end' || a.type === 'transfer') r.ended = true;
    if (a.type === 'ask_operator' || a.type === 'human_answered' || a.type === 'switch_language') r.wantsWords = true;
    // The engine's result: refused, unavailable or failed goes back to the model, which may try otherwise.
    if (done && !done.ok) {
      r.refused = true;
      if (a.type === 'transfer') r.ended = false;
      return { result: result({ ok: false, error: done.message }), failed: true };
    }
    if (a.type === 'calendar') {
      r.answered = true;
      return { result: result({ ok: true, ...(done?.ok ? done.data : {}) }), failed: false };
    }
    if (a.type === 'ask_operator') {
      return {
        result: result({
          ok: true,
          status: 'sent',
          note: 'Your client has been asked. The answer will arrive later as a note; do not ask again. Meanwhile tell the callee you are checking, or wait.',
        }),
        failed: false,
      };
    }
    return { result: result({ ok: true }), failed: false };
  }

  /** An inline command, recorded where the model wrote it (and its failure, if any, as a note). */
  private async *inlineCommand(cmd: InlineCommand, ctx: BrainContext, r: RoundResult): Acts {
    await this.heard();
    // The model sees its own commands where it wrote them, and hears about the ones that failed.
    const entry: Extra = { at: ctx.history.length, messages: [{ role: 'assistant', content: `[[${cmd.name}${cmd.param ? `:${cmd.param}` : ''}]]` }] };
    this.extras.push(entry);
    const done = yield* this.perform(inlineCommandToAction(cmd, ctx.brief), ctx, r);
    if (done.failed) {
      const error = (JSON.parse(done.result) as { error: string }).error;
      entry.messages.push({ role: 'user', content: `[The command [[${cmd.name}]] was not carried out: ${error}]` });
    }
  }

  // ---- voicemail --------------------------------------------------------------------------------

  /** Leaves a short message (the model writes it; a template if it cannot), then ends with `voicemail`. */
  private async *voicemail(ctx: BrainContext): Acts {
    this.machine = true;
    const brief = ctx.brief;
    this.note(
      ctx,
      '[You have reached an answering machine and it is recording now. Leave one short message of two or three sentences: ' +
        'who you are calling for, why, and a call-back number only if you have one you may share. End with goodbye. Write only the message.]',
    );
    let said = false;
    const ctl = new AbortController();
    const onAbort = () => ctl.abort(ctx.signal.reason);
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    const deadline = this.watchdog(ctl);
    try {
      const parser = new InlineCommandParser(); // commands in a voicemail are dropped, never spoken
      const splitter = new SentenceSplitter();
      const out = function* (pieces: ReturnType<InlineCommandParser['push']>, end: boolean): Generator<AgentAction> {
        for (const p of pieces) if (p.type === 'text') for (const s of splitter.push(p.text)) if (speakable(s)) yield say(speakable(s));
        if (end) for (const s of splitter.flush()) if (speakable(s)) yield say(speakable(s));
      };
      for await (const chunk of this.o.llm.stream({ messages: this.messages(ctx), signal: ctl.signal, maxTokens: this.o.maxTokens })) {
        if (ctx.signal.aborted) return;
        deadline.output();
        if (chunk.type === 'text') {
          for (const a of out(parser.push(chunk.text), false)) {
            said = true;
            yield a;
          }
        }
        deadline.waiting();
      }
      for (const a of out(parser.flush(), true)) {
        said = true;
        yield a;
      }
    } catch {
      if (ctx.signal.aborted) return;
    } finally {
      deadline.cancel();
      ctx.signal.removeEventListener('abort', onAbort);
    }
    if (ctx.signal.aborted) return;
    if (!said) {
      const p = phrasesFor(brief.language);
      const task = brief.task.trim().replace(/[.!\s]+$/, '');
      yield say(p.voicemail(p.callingAbout(task), brief.persona.name, brief.persona.phone));
    }
    this.over = true;
    yield { type: 'end', goalCompleted: false, reason: 'voicemail' };
  }

  // ---- time ------------------------------------------------------------------------------------

  /**
   * Aborts the request when the model keeps the line silent: nothing within `firstOutputTimeoutMs` of the request,
   * or, once it has begun, nothing more for `stallTimeoutMs` while the brain waits for it. The time the brain spends
   * on what the model asked for (a transfer ringing, a key press) is not the model's. One timer a request, set again
   * only when it fires (a timer per piece would be hundreds a second on a busy node).
   */
  private watchdog(ctl: AbortController): Watchdog {
    const limit = (ms: number | undefined) => (ms !== undefined && ms > 0 && Number.isFinite(ms) ? ms : Infinity);
    const first = limit(this.o.firstOutputTimeoutMs ?? 10_000);
    const stall = limit(this.o.stallTimeoutMs ?? 10_000);
    let began = false;
    let waitingSince: number | undefined = this.clock.now();
    let expired = false;
    let cancelled = false;
    let timer: AbortController | undefined;
    let dueAt = Infinity;
    const arm = (ms: number) => {
      timer?.abort(ROUTINE_ABORT);
      timer = undefined;
      dueAt = Infinity;
      if (ms === Infinity || cancelled) return;
      const t = (timer = new AbortController());
      dueAt = this.clock.now() + ms;
      this.clock.sleep(ms, t.signal).then(() => check(t), () => {});
    };
    const check = (t: AbortController) => {
      if (t !== timer) return;
      timer = undefined;
      dueAt = Infinity;
      if (waitingSince === undefined) return; // the brain is busy: `waiting()` sets the timer again
      const ms = began ? stall : first;
      const idle = this.clock.now() - waitingSince;
      if (idle < ms) return arm(ms - idle);
      expired = true;
      ctl.abort(new Error(began ? 'the model stalled in its reply' : 'no output from the model in time'));
    };
    arm(first);
    return {
      output: () => {
        began = true;
        waitingSince = undefined;
      },
      waiting: () => {
        const now = this.clock.now();
        waitingSince = now;
        if (began && dueAt > now + stall) arm(stall);
      },
      expired: () => expired,
      cancel: () => {
        cancelled = true;
        arm(Infinity);
      },
    };
  }

  /** Until the speech said so far was heard (or cut): only then does the history hold it. */
  private async heard(): Promise<void> {
    const p = this.speaking;
    this.speaking = undefined;
    await p;
  }

  /** Waits `ms` unless the signal aborts first (the callee spoke); true when the wait ran out. */
  private async pause(ms: number, signal: AbortSignal): Promise<boolean> {
    if (signal.aborted) return false;
    if (ms <= 0) return true;
    try {
      await this.clock.sleep(ms, signal);
      return true;
    } catch {
      return false;
    }
  }

  // ---- the conversation -------------------------------------------------------------------------

  /** A note for the model (a user message) at the current point of the conversation. */
  private note(ctx: BrainContext, text: string): void {
    this.extras.push({ at: ctx.history.length, messages: [{ role: 'user', content: text }] });
  }

  /** The request's messages: the system prompt from the live brief, then history and extras interleaved. */
  private messages(ctx: BrainContext): ChatMessage[] {
    const out: ChatMessage[] = [
      {
        role: 'system',
        content: buildSystemPrompt(ctx.brief, {
          agentName: this.o.agentName,
          now: new Date(this.clock.now()),
          inlineCommands: this.o.mode === 'inline',
        }),
      },
    ];
    const h = ctx.history;
    const extras = [...this.extras].sort((a, b) => a.at - b.at); // stable: same-position extras keep their order
    let e = 0;
    for (let i = 0; i <= h.length; i++) {
      while (e < extras.length && (extras[e].at <= i || i === h.length)) out.push(...extras[e++].messages);
      if (i === h.length) continue;
      const t = h[i];
      out.push(t.role === 'callee' ? { role: 'user', content: t.text } : { role: 'assistant', content: t.text });
    }
    return mergeMessages(out);
  }
}

/**
 * Joins neighbours of the same role (what was said sentence by sentence is one assistant message; a note and
 * the callee's words are one user message), and starts with a user message, as every provider accepts.
 */
export function mergeMessages(list: ChatMessage[]): ChatMessage[] {
  const out: ChatMessage[] = [];
  for (const m of list) {
    const prev = out[out.length - 1];
    if (prev?.role === 'user' && m.role === 'user') {
      out[out.length - 1] = { role: 'user', content: `${prev.content}\n${m.content}` };
    } else if (prev?.role === 'assistant' && m.role === 'assistant' && !prev.toolCalls?.length) {
      const content = [prev.content, m.content].filter((c): c is string => !!c).join(' ') || null;
      out[out.length - 1] = m.toolCalls?.length ? { role: 'assistant', content, toolCalls: m.toolCalls } : { role: 'assistant', content };
    } else out.push(m);
  }
  const first = out.findIndex((m) => m.role !== 'system');
  if (first >= 0 && out[first].role === 'assistant') out.splice(first, 0, { role: 'user', content: '[The call has been answered.]' });
  return out;
}

interface Watchdog {
  /** A piece of the reply came: the brain works on it (its time is not the model's). */
  output(): void;
  /** The brain waits for the model's next piece. */
  waiting(): void;
  expired(): boolean;
  cancel(): void;
}
