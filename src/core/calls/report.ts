/**
 * A call's report: summary, whether the goal was reached, extracted data and how it ended, from what is
 * stored. `reprocess` builds it again from the stored transcript: with a language model configured its
 * summary and extracted data are replaced by the model's; without one a rules summary is written.
 */
import type { CallEventRow, CallRow, Db } from '../../store/index.js';
import type { CallRequest } from './request.js';

export interface CallReport {
  summary: string | null;
  goal_completed: boolean | null;
  outcome: string | null;
  answered_by: string | null;
  end_reason: string | null;
  extracted: Record<string, unknown>;
  duration_seconds: number | null;
  transcript_segments: number;
  missing_variables: string[];
}

/** Summarises a stored transcript with a model (wired in app.ts when one is configured). */
export type ReportSummarizer = (input: {
  request: CallRequest;
  transcript: Array<{ role: string; text: string }>;
  goalCompleted: boolean;
}) => Promise<{ summary: string; goalCompleted: boolean; extracted: Record<string, unknown> }>;

export function buildReport(call: CallRow, transcripts: CallEventRow[]): CallReport {
  const req = call.request;
  return {
    summary: call.summary,
    goal_completed: call.goal_completed,
    outcome: call.outcome,
    answered_by: call.answered_by,
    end_reason: call.end_reason,
    extracted: call.extracted ?? {},
    duration_seconds: call.duration_seconds,
    transcript_segments: transcripts.length,
    missing_variables: req?.missingVariables ?? [],
  };
}

/** A plain summary from the transcript alone (no model). */
export function rulesSummary(call: CallRow, transcripts: CallEventRow[]): string {
  const spoken = transcripts.filter((t) => t.role === 'agent' || t.role === 'callee');
  if (spoken.length === 0) return `The call was not connected (${call.status}).`;
  const goal = call.goal_completed === true ? 'The task was completed.' : call.goal_completed === false ? 'The task was not completed.' : '';
  const lastCallee = [...spoken].reverse().find((t) => t.role === 'callee');
  return [
    `${spoken.length} turns were spoken.`,
    goal,
    lastCallee?.text ? `The callee last said: "${lastCallee.text}"` : '',
  ]
    .filter(Boolean)
    .join(' ');
}

export class CallReports {
  constructor(
    private readonly db: Db,
    private readonly summarize?: ReportSummarizer,
  ) {}

  /** Builds the summary, extracted data and report again from the stored transcript, and stores them. */
  async reprocess(call: CallRow, transcripts: CallEventRow[]): Promise<{ call: CallRow; report: CallReport; source: 'model' | 'rules' }> {
    const request = call.request;
    const lines = transcripts.filter((t) => t.role !== 'system').map((t) => ({ role: t.role ?? 'system', text: t.text ?? '' }));
    let summary: string;
    let extracted = call.extracted ?? {};
    let goal = call.goal_completed;
    let source: 'model' | 'rules' = 'rules';
    if (this.summarize && lines.length) {
      const r = await this.summarize({ request, transcript: lines, goalCompleted: call.goal_completed ?? false });
      summary = r.summary;
      extracted = r.extracted;
      goal = r.goalCompleted;
      source = 'model';
    } else {
      summary = rulesSummary(call, transcripts);
    }
    const updated = await this.db
      .updateTable('calls')
      .set({ summary, extracted: JSON.stringify(extracted), goal_completed: goal, updated_at: new Date() })
      .where('id', '=', call.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    return { call: updated, report: buildReport(updated, transcripts), source };
  }
}
