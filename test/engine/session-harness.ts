/**
 * Engine tests that pin the call's shape down by its exact event sequence (LiveKit agents-js
 * `voice/testing/run_result.ts`): a Switchboard on the simulated network with a scripted brain, and every
 * session event of every call captured, in order, as short readable lines.
 */
import { expect } from 'vitest';
import type { ActionResult, AgentAction, Brain, BrainContext, BrainInput, BrainTurn } from '../../src/engine/brain.js';
import type { SessionEvent } from '../../src/engine/events.js';
import type { SwitchboardOverrides } from '../../src/app.js';
import { BACKENDS } from '../helpers/backends.js';
import { startSwitchboard, until, type TestSwitchboard } from '../helpers/switchboard.js';

/** One event as a line: `agent: listening -> thinking`, `item agent: "Hello."`, `act press 1: ok`. */
export function line(e: SessionEvent): string {
  switch (e.type) {
    case 'carrier_progress':
      return `carrier: ${e.status}`;
    case 'agent_state_changed':
      return `agent: ${e.old} -> ${e.new}`;
    case 'user_state_changed':
      return `user: ${e.old} -> ${e.new}`;
    case 'user_input_transcribed':
      return `transcribed${e.final ? '' : ' (interim)'}: "${e.transcript}"`;
    case 'dtmf_received':
      return `dtmf: ${e.digits}`;
    case 'speech_created':
      return `speech ${e.id} created (${e.source})`;
    case 'speech_done':
      return `speech ${e.id} ${e.interrupted ? 'interrupted' : 'done'}: "${e.heard}"`;
    case 'conversation_item_added':
      return `item ${e.role}: "${e.text}"`;
    case 'action_executed': {
      const { type, ...args } = e.action;
      const shown = Object.values(args).join(' ');
      return `act ${type}${shown ? ` ${shown}` : ''}: ${e.result.ok ? 'ok' : `${e.result.error} (${e.result.message})`}`;
    }
    case 'command_received':
      return `command: ${e.command}`;
    case 'timer_fired':
      return `timer: ${e.timer}`;
    case 'error':
      return `error in ${e.where}: ${e.error}`;
    case 'close':
      return `close: ${e.closedBy}${e.reason ? ` (${e.reason})` : ''}`;
  }
}

/** A step of a scripted turn: an action (its result is recorded), or a function that yields actions itself. */
export type Script = (input: BrainInput, ctx: BrainContext, results: ActionResult[]) => AsyncGenerator<AgentAction, void, ActionResult | undefined> | AgentAction[] | undefined;

/** A brain whose every turn is written by the test; results it gets back are kept in `results`. */
export class ScriptedBrain implements Brain {
  readonly name = 'scripted';
  readonly results: Array<{ action: AgentAction['type']; result: ActionResult | undefined }> = [];
  constructor(private readonly script: Script) {}
  startCall() {
    const results: ActionResult[] = [];
    const all = this.results;
    const script = this.script;
    return {
      async *next(input: BrainInput, ctx: BrainContext): BrainTurn {
        const steps = script(input, ctx, results);
        if (!steps) return;
        if (Array.isArray(steps)) {
          for (const a of steps) {
            const r = yield a;
            if (a.type !== 'say') {
              all.push({ action: a.type, result: r });
              if (r) results.push(r);
            }
          }
          return;
        }
        let r: ActionResult | undefined;
        for (;;) {
          const step = await steps.next(r);
          if (step.done) return;
          r = yield step.value;
          if (step.value.type !== 'say') {
            all.push({ action: step.value.type, result: r });
            if (r) results.push(r);
          }
        }
      },
    };
  }
}

export interface EngineHarness {
  t: TestSwitchboard;
  headers: Record<string, string>;
  /** Every event of the call, in order, as lines. */
  events(callId: string): string[];
  /** Starts a call through /v1 and waits until it ended; returns the call as /v1 shows it. */
  call(payload: Record<string, unknown>): Promise<{ id: string; sid: string; [k: string]: any }>;
  close(): Promise<void>;
}

export async function engineHarness(
  brain: Brain,
  env: Record<string, string> = {},
  overrides: SwitchboardOverrides = {},
  /** Sees each event as it happens (synchronously, before virtual time can move on). */
  onEvent?: (callId: string, e: SessionEvent) => void,
): Promise<EngineHarness> {
  const seen = new Map<string, SessionEvent[]>();
  const t = await startSwitchboard(BACKENDS[0], { SHUTDOWN_GRACE_SECONDS: '1', ...env }, {
    brain,
    sessionObserver: (callId, e) => {
      const list = seen.get(callId) ?? [];
      list.push(e);
      seen.set(callId, list);
      onEvent?.(callId, e);
    },
    ...overrides,
  });
  const headers = { authorization: `Bearer ${t.key}` };
  return {
    t,
    headers,
    events: (callId) => (seen.get(callId) ?? []).map(line),
    async call(payload) {
      const r = await t.sb.app.inject({ method: 'POST', url: '/v1/start-call', headers, payload: { language: 'en', ...payload } });
      expect(r.statusCode, r.body).toBe(200);
      const sid = r.json().sid as string;
      return until(async () => {
        const c = (await t.sb.app.inject({ method: 'GET', url: `/v1/calls/${sid}`, headers })).json();
        return c.ended_at ? c : null;
      }, 30_000, 'the call to end');
    },
    close: () => t.close(),
  };
}

/** The lines from the first one matching `from` on (to skip the ringing), or all of them. */
export function from(lines: string[], first: string): string[] {
  const i = lines.indexOf(first);
  return i < 0 ? lines : lines.slice(i);
}
