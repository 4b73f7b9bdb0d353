/**
 * "A finished call becomes a test" (issue 12 §6). From a finished call's stored events, a scenario test
 * file (scenarios/README.md, "Scenario tests") with one case: the call's start-call fields, the callee
 * replayed (`callee:`, scenario kind `replay`: its lines in turns, each started by what the agent did before
 * it — the answer, its words, or its keys) and what must come out the same (status, goal, outcome, keys
 * pressed, and the facts the agent said that came from the task). Run it with `npx switchboard scenarios
 * test FILE` after changing a task, an agent or the brain: the same callee answers, and a difference shows.
 */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';
import type { CallEventRow, CallRow, Db } from '../../store/index.js';
import { SwitchboardError } from '../errors.js';
import { isTerminal } from './states.js';

export interface ReplayTurn {
  after: 'answer' | 'speech' | 'digits';
  digits?: string;
  say: string[];
}

export interface RecordedScenario {
  /** The file's name without `.yaml`: `replay-<sid>`. */
  name: string;
  /** The test file's text. */
  yaml: string;
}

/** Builds the callee's turns from a call's transcript and its own key presses, in order. */
export function replayTurns(events: Pick<CallEventRow, 'kind' | 'role' | 'text' | 'data'>[]): ReplayTurn[] {
  const turns: ReplayTurn[] = [];
  let open: ReplayTurn | undefined = undefined;
  let spoke = false;
  let digits = '';
  for (const e of events) {
    if (e.kind === 'transcript' && e.role === 'agent') {
      spoke = true;
      open = undefined;
    } else if (e.kind === 'command' && e.data && 'command' in e.data && e.data.command === 'press') {
      digits += e.data.value ?? '';
      open = undefined;
    } else if (e.kind === 'transcript' && e.role === 'callee' && e.text?.trim()) {
      // Lines with nothing from the agent between them (a menu and its options, hold messages) are one turn.
      if (open) {
        open.say.push(e.text.trim());
        continue;
      }
      open = digits ? { after: 'digits', digits, say: [] } : { after: spoke || turns.length ? 'speech' : 'answer', say: [] };
      open.say.push(e.text.trim());
      turns.push(open);
      spoke = false;
      digits = '';
    }
  }
  return turns;
}

/** Words of the agent that carry the task's facts (a booking reference, a time): digits, found in the task. */
export function taskFacts(agentLines: string[], taskText: string): string[] {
  const task = taskText.toLowerCase();
  const facts = new Set<string>();
  for (const line of agentLines) {
    for (const word of line.split(/[\s,.!?;:()"]+/)) {
      if (word.length >= 2 && /\d/.test(word) && task.includes(word.toLowerCase())) facts.add(word);
    }
  }
  return [...facts].slice(0, 5);
}

/** A number for the replayed callee: +1555 09 and five digits of the call's id, apart from the shipped scenarios. */
export function replayNumber(callId: string): string {
  const n = parseInt(createHash('sha256').update(callId).digest('hex').slice(0, 8), 16) % 100_000;
  return `+155509${String(n).padStart(5, '0')}`;
}

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export class CallReplays {
  constructor(
    private readonly db: Db,
    /** A call of the organisation by UUID or sid (CallService.find; the CLI passes its own lookup). */
    private readonly find: (orgId: string, idOrSid: string) => Promise<CallRow>,
  ) {}

  /** The scenario test file of a finished call of this organisation. */
  async record(orgId: string, idOrSid: string): Promise<RecordedScenario> {
    const call = await this.find(orgId, idOrSid);
    if (!isTerminal(call.status)) {
      throw new SwitchboardError('SB_ERR_CALL_ACTIVE', 'Call has not ended yet; a scenario is made from a finished call', { status: call.status });
    }
    const events = await this.db
      .selectFrom('call_events')
      .select(['kind', 'role', 'text', 'data'])
      .where('call_id', '=', call.id)
      .where('kind', 'in', ['transcript', 'command'])
      .orderBy('seq')
      .execute();
    const turns = replayTurns(events);
    if (turns.length === 0) throw new SwitchboardError('SB_ERR_VALIDATION', 'Call has no callee lines to replay', { field: 'callSid' });
    const name = `replay-${call.sid}`;
    return { name, yaml: this.testFile(call, events, turns) };
  }

  /** Writes the file under `dir` (created if missing); returns its path. */
  async save(dir: string, recorded: RecordedScenario): Promise<string> {
    await mkdir(dir, { recursive: true });
    const file = path.join(dir, `${recorded.name}.yaml`);
    await writeFile(file, recorded.yaml, 'utf8');
    return file;
  }

  private testFile(call: CallRow, events: Pick<CallEventRow, 'kind' | 'role' | 'text' | 'data'>[], turns: ReplayTurn[]): string {
    const r = call.request;
    const number = replayNumber(call.id);
    const agentLines = events.filter((e) => e.kind === 'transcript' && e.role === 'agent').map((e) => e.text ?? '');
    const pressed = events
      .filter((e) => e.kind === 'command' && e.data && 'command' in e.data && e.data.command === 'press')
      .map((e) => (e.data && 'command' in e.data ? (e.data.value ?? '') : ''))
      .join('');
    const callFields: Record<string, unknown> = { phone_number: number, task: r.task, language: r.language };
    if (r.additionalPrompt) callFields.additionalPrompt = r.additionalPrompt;
    if (r.persona && Object.keys(r.persona).length) callFields.persona = r.persona;
    if (r.sharePolicy) callFields.share_policy = r.sharePolicy;
    if (r.transferNumber) callFields.transfer_number = r.transferNumber;
    if (r.maxDurationSeconds) callFields.max_duration = r.maxDurationSeconds;
    const expect: Record<string, unknown> = { status: call.status, goal_completed: call.goal_completed ?? false };
    if (call.outcome) expect.outcome = call.outcome;
    expect.pressed = pressed;
    const facts = taskFacts(agentLines, [r.task, r.additionalPrompt, ...Object.values(r.persona ?? {})].join(' '));
    if (facts.length) expect.said = facts.map(escapeRegex);
    const lastCallee = turns.at(-1)!.say.at(-1)!;
    const doc = [
      {
        name: `replay of ${call.sid}`,
        call: callFields,
        callee: {
          kind: 'replay',
          number,
          name: `The callee of ${call.sid}`,
          language: r.language,
          description: `Replays the callee's side of ${call.sid}, recorded ${new Date().toISOString().slice(0, 10)}`,
          replay: {
            source: call.sid,
            turns,
            hangup: call.end_reason === 'callee_hung_up',
            lines: { pardon: 'Sorry, I did not get that.', stillThere: 'Hello? Are you still there?', goodbye: call.end_reason === 'callee_hung_up' ? lastCallee : 'Goodbye.' },
          },
        },
        expect,
      },
    ];
    const head = [
      `# A finished call made into a scenario test (issue 12 §6): the callee of ${call.sid} replayed.`,
      '# Run: npx switchboard scenarios test <this file>. Change the task or the agent and run it again:',
      '# the callee says the same lines, and what the agent said or pressed differently shows as a failure.',
    ].join('\n');
    return `${head}\n${stringify(doc, { lineWidth: 0 })}`;
  }
}
