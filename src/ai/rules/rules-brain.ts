/**
 * The offline brain: drives calls with plain rules when no language model is configured, so the demo and
 * the tests need no key and no network. It states the task, answers what it can from the brief, finds its
 * way through phone menus, keeps quiet on hold, leaves voicemail after the beep, and ends politely once
 * the callee has done (or refused) what was asked.
 */
import type { ActionResult, AgentAction, AgentBrief, Brain, BrainContext, BrainInput, BrainSession, BrainTurn } from '../../engine/brain.js';
import { RealClock, type Clock } from '../../lib/clock.js';
import {
  askedField,
  chooseOption,
  findReference,
  findWhen,
  isAffirmative,
  isBeep,
  isCompleted,
  isGoodbye,
  isGreeting,
  isHelpQuestion,
  isHold,
  isQuestion,
  isRefusal,
  isStalling,
  isStillThere,
  norm,
  parseMenu,
  type AskedField,
} from './match.js';
import { phrasesFor, type Phrases } from './phrases.js';
import { appointmentMinutes, localIso, offeredTimes, type OfferedTime } from './calendar.js';

export interface RulesBrainOptions {
  /** Clock for the pause before speaking first to a callee who says nothing. Default: real time. */
  clock?: Clock;
  /**
   * How long a person who answered may stay silent before the agent speaks first. Most people (and every
   * phone menu) speak first, and the agent answers that; this keeps the agent from talking over them.
   */
  greetAfterMs?: number;
}

export class RulesBrain implements Brain {
  readonly name = 'rules';
  constructor(private readonly opts: RulesBrainOptions = {}) {}
  startCall(brief: AgentBrief): BrainSession {
    return new RulesSession(brief, this.opts.clock ?? new RealClock(), this.opts.greetAfterMs ?? 7000);
  }
}

type KeypadField = AgentBrief['keypadFields'][number];

const end = (goalCompleted: boolean, reason: string): AgentAction => ({ type: 'end', goalCompleted, reason });
const say = (text: string): AgentAction => ({ type: 'say', text });
const WAIT: AgentAction = { type: 'wait' };

/** A turn's actions; each `yield` evaluates to the action's result. */
type Acts = Generator<AgentAction, void, ActionResult | undefined>;

class RulesSession implements BrainSession {
  private opened = false;
  /** The person now on the line has not heard the task (true again after a menu or a queue). */
  private needTask = true;
  private machine = false;
  private final: { goalCompleted: boolean; reason: string } | undefined;
  private offeredKeypad: KeypadField | undefined;
  private restated = 0;
  /** Whether we have said that a person (not a menu or a queue) is on the line. */
  private humanMarked = false;
  /** An offered time was taken (and booked): later times the callee mentions are their confirmation. */
  private timeTaken = false;
  /** The callee's last words got no answer though they were not hold or "let me check" (misheard, perhaps). */
  private leftUnanswered = false;

  constructor(
    brief: AgentBrief,
    private readonly clock: Clock,
    private readonly greetAfterMs: number,
  ) {
    void brief; // the live brief arrives with every input (a PATCH may change it)
  }

  async *next(input: BrainInput, ctx: BrainContext): BrainTurn {
    const p = phrasesFor(ctx.brief.language);
    if (this.final) {
      // We already said goodbye; whatever comes now, the call is over.
      if (input.type === 'speech') yield end(this.final.goalCompleted, this.final.reason);
      return;
    }
    if (input.type === 'answered') {
      if (input.answeredBy === 'machine') {
        this.machine = true;
        yield WAIT; // the message goes after the beep
        return;
      }
      if (this.opened) return;
      if (ctx.brief.inbound) {
        // We answered someone who called us: the one who answers speaks first.
        this.opened = true;
        this.needTask = false;
        yield say(ctx.brief.greeting ?? p.inbound.hello);
        return;
      }
      try {
        await this.clock.sleep(this.greetAfterMs, ctx.signal);
      } catch {
        return; // the callee spoke first: answer that instead
      }
      if (!this.opened) yield* this.open(ctx.brief, p);
      return;
    }
    if (input.type === 'speech') yield* ctx.brief.inbound ? this.onCallerSpeech(input.text, p) : this.onSpeech(input.text, ctx.brief, p);
  }

  /** Inbound: where the caller's request stands (told, name asked, noted). */
  private request: 'none' | 'asked_name' | 'noted' = 'none';

  /**
   * A call to us, offline: the agent takes a message. It asks for the caller's name, notes the request,
   * asks whether there is anything else, and says goodbye when the caller is done.
   */
  private *onCallerSpeech(text: string, p: Phrases): Acts {
    const t = norm(text);
    if (isGoodbye(t) || (this.request === 'noted' && (isRefusal(t) || /\b(no|nothing|that'?s all|that'?s it|nej|inget)\b/i.test(t)))) {
      yield say(p.goodbye);
      yield* this.finish(this.request === 'noted', 'caller_done');
      return;
    }
    if (this.request === 'none') {
      if (isGreeting(t) && !/\b(like|want|need|book|ask|call(ing)? (about|to)|vill|skulle)\b/i.test(t) && t.split(/\s+/).length <= 6) {
        yield WAIT; // "Hello?": the request follows
        return;
      }
      this.request = 'asked_name';
      yield say(p.inbound.askName);
      return;
    }
    if (this.request === 'asked_name') {
      this.request = 'noted';
      yield say(p.inbound.noted);
      return;
    }
    yield say(p.inbound.notedMore);
  }

  private *onSpeech(text: string, brief: AgentBrief, p: Phrases): Acts {
    const t = norm(text);
    const missed = this.leftUnanswered;
    this.leftUnanswered = false;
    if (isBeep(t)) {
      const statement = this.statement(brief, p);
      yield say(p.voicemail(statement, brief.persona.name, brief.persona.phone));
      yield* this.finish(false, 'voicemail');
      return;
    }
    if (this.machine) {
      yield WAIT; // the answering machine's greeting
      return;
    }

    const asked = askedField(text);
    if (asked?.keypad && this.keypadField(asked.field, brief)) {
      yield* this.pressField(this.keypadField(asked.field, brief)!, p);
      return;
    }
    const options = parseMenu(text);
    if (options.length) {
      const choice = chooseOption(options, `${brief.task} ${brief.additionalPrompt}`);
      if (choice) {
        this.needTask = true;
        yield { type: 'press', digits: choice.digits };
      } else yield WAIT;
      return;
    }
    if (isHold(t)) {
      this.needTask = true;
      yield WAIT;
      return;
    }
    if (brief.calendar && this.opened && !this.timeTaken) {
      const offered = offeredTimes(text, this.clock.now(), brief.calendar.timeZone);
      if (offered.length) {
        yield* this.takeFreeTime(offered, brief, p);
        return;
      }
    }

    if (this.opened && isRefusal(t)) {
      // A callee who is already saying goodbye gets a short one back before they put the phone down.
      yield say(isGoodbye(t) ? p.goodbye : p.refusedBye);
      yield* this.finish(false, 'task_refused');
      return;
    }
    if (this.opened && isCompleted(t)) {
      yield say(p.thanksDone);
      yield* this.finish(true, 'task_completed');
      return;
    }
    if (isGoodbye(t)) {
      yield say(p.goodbye);
      yield* this.finish(false, 'callee_ended');
      return;
    }
    if (asked) {
      yield* this.answerField(asked.field, brief, p);
      return;
    }
    if (this.offeredKeypad && isAffirmative(t)) {
      const field = this.offeredKeypad;
      this.offeredKeypad = undefined;
      yield* this.pressField(field, p);
      return;
    }
    if (isHelpQuestion(t) || (this.needTask && (isQuestion(t) || isGreeting(t)))) {
      if (!this.humanMarked) {
        // A greeting or "how can I help" after menus and hold music: a person has picked up.
        this.humanMarked = true;
        yield { type: 'human_answered' };
      }
      yield* this.open(brief, p);
      return;
    }
    if (this.opened && isStillThere(t)) {
      // Silence from us made the callee ask: say so, and ask again for what we did not catch.
      yield say(p.stillHere(missed));
      return;
    }
    if (isQuestion(t)) {
      // A question we cannot place: say again why we called, twice at most.
      if (this.restated++ >= 2) {
        yield say(p.giveUp);
        yield* this.finish(false, 'not_understood');
      } else yield say(p.restate(this.statement(brief, p)));
      return;
    }
    if (this.opened && !this.needTask && /^(ask|find out|check whether|check if|enquire|inquire|fråga|ta reda på|höra)\b/i.test(brief.task.trim()) && !isStalling(t)) {
      // The task was a question, and this is the answer.
      yield say(p.thanksAnswer);
      yield* this.finish(true, 'answer_received');
      return;
    }
    this.leftUnanswered = this.opened && !isStalling(t);
    yield WAIT; // announcements, "let me check", small talk
  }

  private *open(brief: AgentBrief, p: Phrases): Acts {
    const statement = this.statement(brief, p);
    // An agent's starting message is the opening line, in place of the usual hello; the task follows it.
    yield say(this.opened ? statement : `${brief.greeting ?? p.hello(brief.persona.name)} ${statement}`);
    this.opened = true;
    this.needTask = false;
  }

  /**
   * The callee offered times: the first one the client's calendar has free is booked (when the call may
   * write) and accepted. When the calendar cannot be read, the first time offered is accepted unchecked.
   */
  private *takeFreeTime(offered: OfferedTime[], brief: AgentBrief, p: Phrases): Acts {
    const cal = brief.calendar!;
    const minutes = appointmentMinutes(brief.task);
    let chosen: OfferedTime | undefined;
    for (const o of offered) {
      const r = yield {
        type: 'calendar',
        request: { op: 'find_free_slots', from: localIso(o.start, cal.timeZone), to: localIso(o.start + minutes * 60_000, cal.timeZone), durationMinutes: minutes },
      };
      if (!r?.ok) {
        chosen = o;
        break;
      }
      if (Array.isArray(r.data?.free_slots) && r.data.free_slots.length > 0) {
        chosen = o;
        break;
      }
    }
    if (!chosen) {
      yield say(p.noOfferedTimeFree);
      return;
    }
    this.timeTaken = true;
    if (cal.write) {
      const title = brief.task.trim().replace(/[.!\s]+$/, '').slice(0, 120);
      yield { type: 'calendar', request: { op: 'book', start: localIso(chosen.start, cal.timeZone), durationMinutes: minutes, title } };
    }
    yield say(p.acceptTime(chosen.words));
  }

  /** Types a field on the keypad; should the call refuse it after all, the callee is told so instead. */
  private *pressField(field: KeypadField, p: Phrases): Acts {
    const r = yield { type: 'press_field', field };
    if (r && !r.ok) yield say(p.cannotShare);
  }

  private *finish(goalCompleted: boolean, reason: string): Acts {
    this.final = { goalCompleted, reason };
    yield end(goalCompleted, reason);
  }

  /** "I'm calling to confirm the booking for Tuesday at 7 pm." from the client's "Confirm my booking…". */
  private statement(brief: AgentBrief, p: Phrases): string {
    let task = brief.task.trim().replace(/[.!\s]+$/, '');
    task = task.replace(/^(please|could you|can you|kindly|snälla|kan du)\s+/i, '');
    task = task.replace(/^(call|ring|phone)\b.*?\b(and|to|och|för att)\s+/i, '');
    if (/^(i|i'm|we|jag|vi)\b/i.test(task)) return `${task}.`;
    const clause = task.charAt(0).toLowerCase() + task.slice(1);
    return p.taskVerbs.test(clause) ? p.callingTo(p.thirdPerson(clause)) : p.callingAbout(p.thirdPerson(task));
  }

  /** The keypad field that answers a question for `field`: the persona's, else a number written in the task. */
  private keypadField(field: AskedField, brief: AgentBrief): KeypadField | undefined {
    if (field !== 'phone' && field !== 'personal_security_number') return undefined;
    if (brief.keypadFields.includes(field)) return field;
    const fromTask = field === 'phone' ? 'task_phone_number_' : 'task_identity_number_';
    return brief.keypadFields.find((f) => f.startsWith(fromTask));
  }

  private *answerField(field: AskedField, brief: AgentBrief, p: Phrases): Acts {
    const info = `${brief.task} ${brief.additionalPrompt}`;
    const persona = brief.persona;
    switch (field) {
      case 'name':
        yield say(persona.name ? p.itIs(persona.name) : p.cannotShare);
        return;
      case 'phone':
      case 'personal_security_number': {
        const value = field === 'phone' ? persona.phone : persona.personal_security_number;
        if (value) yield say(p.itIs(value));
        else if (this.keypadField(field, brief)) {
          this.offeredKeypad = field;
          yield say(p.keypadOffer);
        } else yield say(p.cannotShare);
        return;
      }
      case 'address':
        yield say(persona.address ? p.itIs(persona.address) : p.cannotShare);
        return;
      case 'role':
        yield say(p.whoIAm(persona.role, persona.name));
        return;
      case 'reference': {
        const ref = findReference(info);
        yield say(ref ? p.referenceIs(ref) : p.dontHave);
        return;
      }
      case 'when': {
        const when = findWhen(info);
        yield say(when ? p.whenIs(when) : p.dontHave);
        return;
      }
      default:
        yield say(p.dontHave);
    }
  }
}
