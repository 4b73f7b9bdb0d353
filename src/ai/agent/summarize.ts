/**
 * The after-call summary: what happened, whether the task was achieved, and what was learnt (a booking
 * reference, a time, a price), from one JSON-mode request with a fixed schema. The model's answer is
 * checked against the schema; a bad answer is retried once, then a plain fallback is built from the
 * transcript, so a call always gets a summary.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { AgentBrief } from '../../engine/brain.js';
import type { ChatMessage, Llm } from '../llm/llm.js';
import { languageName } from './prompt.js';
import { own } from '../../lib/own.js';

/** What the model must answer. */
export const SummarySchema = Type.Object({
  summary: Type.String(),
  goal_completed: Type.Boolean(),
  extracted: Type.Record(Type.String(), Type.Unknown()),
});
export type SummaryJson = Static<typeof SummarySchema>;

export interface CallSummary {
  summary: string;
  goalCompleted: boolean;
  extracted: Record<string, unknown>;
  /** `model` when the model's answer was used, `fallback` when it was built from the transcript. */
  source: 'model' | 'fallback';
}

export interface SummarizeInput {
  brief: AgentBrief;
  /** The call as heard: `agent`, `callee` or `system` lines, oldest first. */
  transcript: Array<{ role: string; text: string }>;
  /** The caller's own guess (e.g. the agent's `end` action), used when the model gives no answer. Default false. */
  goalCompleted?: boolean;
  signal?: AbortSignal;
}

const ROLE_NAMES: Record<string, string> = { agent: 'Assistant', callee: 'Callee', user: 'Callee', assistant: 'Assistant', system: 'Note' };

function transcriptText(t: SummarizeInput['transcript']): string {
  return t.map((l) => `${own(ROLE_NAMES, l.role) ?? l.role}: ${l.text}`).join('\n');
}

/** The request for one summary (exported for adapters' contract tests and for logging). */
export function summaryMessages(input: SummarizeInput): ChatMessage[] {
  const b = input.brief;
  return [
    {
      role: 'system',
      content:
        'You summarise phone calls that an AI assistant made for a client. Answer with one JSON object and nothing else, exactly of this shape:\n' +
        '{"summary": string, "goal_completed": boolean, "extracted": object}\n' +
        `- summary: two or three sentences for the client, in ${languageName(b.language)}, saying what happened and the result.\n` +
        '- goal_completed: true only if the task was clearly achieved during the call.\n' +
        '- extracted: facts learnt during the call that the client may need (times, dates, prices, reference numbers, names), ' +
        'with short snake_case keys; {} when there are none. Never invent facts that are not in the transcript.',
    },
    {
      role: 'user',
      content:
        `Task: ${b.task}\n` +
        (b.additionalPrompt.trim() ? `Additional instructions: ${b.additionalPrompt.trim()}\n` : '') +
        `\nTranscript:\n${input.transcript.length ? transcriptText(input.transcript) : '(nothing was said)'}`,
    },
  ];
}

/** Parses the model's text: plain JSON, or JSON inside a ``` fence. Null when it does not fit the schema. */
export function parseSummary(text: string): SummaryJson | null {
  const fenced = /```(?:json)?\s*([\s\S]*?)```/i.exec(text);
  const raw = (fenced ? fenced[1] : text).trim();
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    const start = raw.indexOf('{');
    const end = raw.lastIndexOf('}');
    if (start < 0 || end <= start) return null;
    try {
      v = JSON.parse(raw.slice(start, end + 1));
    } catch {
      return null;
    }
  }
  if (!Value.Check(SummarySchema, v)) return null;
  if (Array.isArray(v.extracted)) return null;
  return v;
}

async function ask(llm: Llm, messages: ChatMessage[], signal?: AbortSignal): Promise<string> {
  let text = '';
  for await (const chunk of llm.stream({ messages, json: true, temperature: 0, signal })) {
    if (chunk.type === 'text') text += chunk.text;
  }
  return text;
}

/** The summary without a model: the last few lines of the transcript. */
export function fallbackSummary(input: SummarizeInput): CallSummary {
  const lines = input.transcript.filter((l) => l.text.trim()).slice(-4);
  const summary = lines.length ? transcriptText(lines).replace(/\n/g, ' ') : 'Nothing was said during the call.';
  return { summary, goalCompleted: input.goalCompleted ?? false, extracted: {}, source: 'fallback' };
}

/**
 * Summarises a finished call. Never throws for a model failure: a second bad answer (or error) gives the
 * fallback. An aborted `signal` gives the fallback at once.
 *
 * @example
 * const s = await summarizeCall(llm, { brief, transcript: [{ role: 'agent', text: 'Hi…' }], goalCompleted: true });
 */
export async function summarizeCall(llm: Llm, input: SummarizeInput): Promise<CallSummary> {
  const messages = summaryMessages(input);
  for (let attempt = 0; attempt < 2 && !input.signal?.aborted; attempt++) {
    try {
      const parsed = parseSummary(await ask(llm, messages, input.signal));
      if (parsed) {
        return { summary: parsed.summary.trim(), goalCompleted: parsed.goal_completed, extracted: parsed.extracted, source: 'model' };
      }
    } catch {
      // A model error counts as a bad answer: one retry, then the fallback.
    }
  }
  return fallbackSummary(input);
}
