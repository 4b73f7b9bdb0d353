/**
 * A small stand-in for the engine's call session: dials through the sim carrier, feeds the callee's side
 * to a brain and carries out its actions the way the session does (say → channel.say, press →
 * sendDigits, press_field → sendDigits of the engine's digits, end → hangup; callee speech aborts the
 * current turn). Everything runs on a VirtualClock.
 */
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import type { CalleeInput, CarrierEndStatus, CarrierEvent, VoiceChannel } from '../../src/carriers/carrier.js';
import { SimCarrier, loadScenarios, type Scenario } from '../../src/carriers/sim/index.js';
import type { AgentAction, AgentBrief, BrainInput, Turn } from '../../src/engine/brain.js';
import { RulesBrain } from '../../src/ai/rules/index.js';
import { VirtualClock } from '../../src/lib/clock.js';
import { unawaited } from '../helpers/unawaited.js';

export const SCENARIO_DIR = fileURLToPath(new URL('../../scenarios', import.meta.url));
export const silentLog = pino({ level: 'silent' });

let cached: Scenario[] | undefined;
export async function scenarios(): Promise<Scenario[]> {
  cached ??= await loadScenarios(SCENARIO_DIR);
  return cached;
}

export function brief(over: Partial<AgentBrief> = {}): AgentBrief {
  return { task: 'Confirm my booking', additionalPrompt: '', language: 'en', persona: {}, keypadFields: [], ...over };
}

export interface CallResult {
  events: CarrierEvent['type'][];
  status: CarrierEndStatus;
  reason?: string;
  answeredBy?: string;
  actions: AgentAction[];
  /** What was said, as heard, in order. */
  transcript: Turn[];
  outcome?: { goalCompleted: boolean; reason: string };
  /** Everything on the line, from the carrier's side. */
  line: Array<{ who: string; text: string }>;
}

export async function runCall(
  to: string,
  b: AgentBrief,
  opts: { ringTimeoutSeconds?: number; hangupAfterRinging?: boolean; keypadDigits?: string } = {},
): Promise<CallResult> {
  const clock = new VirtualClock();
  const carrier = new SimCarrier({ scenarios: await scenarios(), clock, log: silentLog });
  const session = new RulesBrain({ clock }).startCall(b);
  const result: CallResult = { events: [], status: 'failed', actions: [], transcript: [], line: [] };
  let channel: VoiceChannel | undefined;
  let turn: AbortController | undefined;
  const pending: BrainInput[] = [];
  let working = false;
  let hangingUp = false;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));

  const act = async (a: AgentAction, signal: AbortSignal): Promise<boolean> => {
    result.actions.push(a);
    const ch = channel!;
    switch (a.type) {
      case 'say': {
        const text = typeof a.text === 'string' ? a.text : ''; // the rules brain says whole lines
        const r = await ch.say(text, signal);
        const heard = r.done ? text : r.heard;
        if (heard) result.transcript.push({ role: 'agent', text: heard });
        return r.done;
      }
      case 'press':
        await ch.sendDigits(a.digits);
        return true;
      case 'press_field':
        await ch.sendDigits(opts.keypadDigits ?? '5551234');
        return true;
      case 'end':
        result.outcome = { goalCompleted: a.goalCompleted, reason: a.reason };
        hangingUp = true;
        await ch.hangup();
        return false;
      default:
        return true;
    }
  };
  const work = async () => {
    working = true;
    while (pending.length && !hangingUp) {
      const input = pending.shift()!;
      turn = new AbortController();
      const signal = turn.signal;
      for await (const a of session.next(input, { brief: b, history: result.transcript, signal })) {
        if (signal.aborted || hangingUp) break;
        if (!(await act(a, signal))) break;
      }
    }
    working = false;
  };
  const enqueue = (i: BrainInput) => {
    pending.push(i);
    if (!working) unawaited(work());
  };
  const onInput = (i: CalleeInput) => {
    if (i.type === 'speech_started') turn?.abort();
    if (i.type === 'speech') {
      result.transcript.push({ role: 'callee', text: i.text });
      turn?.abort();
      enqueue({ type: 'speech', text: i.text });
    }
  };

  const handle = await carrier.dial(
    { callId: 'call-1', sid: 'CA1', to, language: b.language, record: false, ringTimeoutSeconds: opts.ringTimeoutSeconds },
    (e) => {
      result.events.push(e.type);
      if (e.type === 'ringing' && opts.hangupAfterRinging) unawaited(handle.hangup());
      if (e.type === 'answered' && e.mode !== 'audio') {
        result.answeredBy = e.answeredBy;
        channel = e.channel;
        channel.onInput(onInput);
        enqueue({ type: 'answered', answeredBy: e.answeredBy });
      }
      if (e.type === 'ended') {
        result.status = e.status;
        result.reason = e.reason;
        turn?.abort();
        done();
      }
    },
  );
  await finished;
  // Let anything still in flight settle, so a late event would be seen by the assertions.
  await clock.sleep(60_000);
  result.line = carrier.lineLog('call-1') ?? [];
  return result;
}
