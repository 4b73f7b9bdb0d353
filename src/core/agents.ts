/**
 * Agents: a named system prompt, greeting, language, voice settings and keypad rules that calls and tasks
 * are made with. Per organisation (another organisation's agent is simply not found). Template variables
 * (`{{first_name}}`) in the prompt and greeting are rendered per call (`agentCallRequest`).
 */
import { sql } from 'kysely';
import { newId } from '../lib/ids.js';
import { renderTemplate } from '../lib/template.js';
import type { AgentRow, Db } from '../store/index.js';
import { SwitchboardError, notFound, validationError } from './errors.js';
import { DEFAULT_LANGUAGE, normalizeLanguage } from './calls/language.js';
import { DEFAULT_SHARE_POLICY, type CallRequest } from './calls/request.js';
import { parseDtmfRules } from './dtmf-rules.js';
import { parseVoiceSettings, type ElevenLabsVoiceSettings } from './voice/index.js';
import { isUuid } from '../lib/ids.js';

export interface AgentInput {
  name: string;
  system_prompt: string;
  description?: string | null;
  starting_message?: string | null;
  language?: string;
  voice_settings?: Record<string, unknown>;
  dtmf_rules?: Record<string, unknown>;
  enabled?: boolean;
}

export type AgentPatch = Partial<AgentInput>;

export interface ListOptions {
  limit?: number;
  offset?: number;
}

export const LIST_DEFAULT_LIMIT = 50;
export const LIST_MAX_LIMIT = 100;

/** Limit and offset with the documents' defaults (50, at most 100). */
export function page(o: ListOptions): { limit: number; offset: number } {
  const limit = Math.min(LIST_MAX_LIMIT, Math.max(1, Math.floor(o.limit ?? LIST_DEFAULT_LIMIT)));
  const offset = Math.max(0, Math.floor(o.offset ?? 0));
  return { limit, offset };
}

function language(v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  const l = normalizeLanguage(v);
  if (!l) throw validationError('language', 'language must be a language code such as sv, en or de');
  return l;
}

function nonEmpty(field: string, v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  if (!v.trim()) throw validationError(field, `${field} must not be empty`);
  return v;
}

export class Agents {
  constructor(private readonly db: Db) {}

  async create(orgId: string, i: AgentInput): Promise<AgentRow> {
    return this.db
      .insertInto('agents')
      .values({
        id: newId(),
        org_id: orgId,
        name: nonEmpty('name', i.name)!,
        system_prompt: nonEmpty('system_prompt', i.system_prompt)!,
        description: i.description ?? null,
        starting_message: i.starting_message ?? null,
        language: language(i.language) ?? DEFAULT_LANGUAGE,
        voice_settings: JSON.stringify(parseVoiceSettings(i.voice_settings ?? {})),
        dtmf_rules: JSON.stringify(parseDtmfRules(i.dtmf_rules ?? {})),
        enabled: i.enabled ?? true,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  async list(orgId: string, o: ListOptions & { enabled?: boolean }): Promise<{ items: AgentRow[]; total: number }> {
    const { limit, offset } = page(o);
    let q = this.db.selectFrom('agents').where('org_id', '=', orgId);
    if (o.enabled !== undefined) q = q.where('enabled', '=', o.enabled);
    const [items, total] = await Promise.all([
      q.selectAll().orderBy('created_at', 'desc').orderBy('id').limit(limit).offset(offset).execute(),
      q.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { items, total: Number(total.n) };
  }

  async get(orgId: string, id: string): Promise<AgentRow> {
    if (!isUuid(id)) throw notFound('Agent');
    const a = await this.db.selectFrom('agents').selectAll().where('id', '=', id).where('org_id', '=', orgId).executeTakeFirst();
    if (!a) throw notFound('Agent');
    return a;
  }

  async update(orgId: string, id: string, p: AgentPatch): Promise<AgentRow> {
    await this.get(orgId, id);
    const set: Record<string, unknown> = { updated_at: new Date() };
    if (p.name !== undefined) set.name = nonEmpty('name', p.name);
    if (p.system_prompt !== undefined) set.system_prompt = nonEmpty('system_prompt', p.system_prompt);
    if (p.description !== undefined) set.description = p.description;
    if (p.starting_message !== undefined) set.starting_message = p.starting_message;
    if (p.language !== undefined) set.language = language(p.language);
    if (p.voice_settings !== undefined) set.voice_settings = JSON.stringify(parseVoiceSettings(p.voice_settings));
    if (p.dtmf_rules !== undefined) set.dtmf_rules = JSON.stringify(parseDtmfRules(p.dtmf_rules));
    if (p.enabled !== undefined) set.enabled = p.enabled;
    return this.db.updateTable('agents').set(set).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
  }

  /** Deletes an agent; refused (400) while it has active (pending or in-progress) tasks. */
  async delete(orgId: string, id: string): Promise<void> {
    await this.get(orgId, id);
    await this.db.transaction().execute(async (trx) => {
      await sql`select id from agents where id = ${id} for update`.execute(trx);
      const active = await trx
        .selectFrom('tasks')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('agent_id', '=', id)
        .where('status', 'in', ['pending', 'in_progress'])
        .executeTakeFirstOrThrow();
      if (Number(active.n) > 0) {
        throw new SwitchboardError('SB_ERR_VALIDATION', 'Cannot delete agent with active tasks', {
          reason: 'agent_has_active_tasks',
          active_tasks: Number(active.n),
        });
      }
      await trx.deleteFrom('agents').where('id', '=', id).execute();
    });
  }
}

export interface AgentCallOptions {
  face: CallRequest['face'];
  to: string;
  /** What the call is for (a task's description or name); the agent's description or name when absent. */
  task?: string;
  /** Overrides the agent's starting message (a task's own). */
  greeting?: string | null;
  variables?: Record<string, unknown>;
  fromNumber?: string;
  webhook?: CallRequest['webhook'];
  taskId?: string;
  context?: Record<string, unknown>;
  metadata?: Record<string, unknown>;
}

/**
 * The canonical request of a call made by an agent: its prompt and greeting rendered with the variables
 * (values coerced to strings; a missing variable renders empty and is listed in `missingVariables`).
 */
/** An agent's stored keypad rules, if it has any valid ones (agents stored before rules were checked may not). */
function storedRules(value: unknown): Record<string, string> | undefined {
  try {
    const rules = parseDtmfRules(value ?? {});
    return Object.keys(rules).length ? rules : undefined;
  } catch {
    return undefined;
  }
}

/** An agent's stored voice settings, if valid (agents stored before settings were checked may hold others). */
function storedVoiceSettings(value: unknown): { settings?: ElevenLabsVoiceSettings } {
  try {
    const settings = parseVoiceSettings(value ?? {});
    return Object.keys(settings).length ? { settings } : {};
  } catch {
    return {};
  }
}

export function agentCallRequest(agent: AgentRow, o: AgentCallOptions): CallRequest {
  const vars = o.variables ?? {};
  const prompt = renderTemplate(agent.system_prompt, vars);
  const rawGreeting = o.greeting ?? agent.starting_message ?? undefined;
  const greeting = rawGreeting ? renderTemplate(rawGreeting, vars) : undefined;
  const taskText = o.task?.trim() ? renderTemplate(o.task, vars) : undefined;
  const missing = [...new Set([...prompt.missing, ...(greeting?.missing ?? []), ...(taskText?.missing ?? [])])];
  return {
    face: o.face,
    to: o.to,
    task: taskText?.text.trim() || agent.description?.trim() || agent.name,
    additionalPrompt: '',
    language: agent.language,
    voice: { ttsProvider: 'auto', gender: 'female', ...storedVoiceSettings(agent.voice_settings) },
    record: true,
    persona: {},
    sharePolicy: { ...DEFAULT_SHARE_POLICY },
    fromNumber: o.fromNumber,
    webhook: o.webhook,
    metadata: o.metadata ?? {},
    calendar: { enabled: false, permissions: { read: true, write: false } },
    agent: {
      id: agent.id,
      name: agent.name,
      systemPrompt: prompt.text,
      greeting: greeting?.text.trim() || undefined,
      ...(storedRules(agent.dtmf_rules) ? { dtmfRules: storedRules(agent.dtmf_rules) } : {}),
    },
    taskId: o.taskId,
    variables: vars,
    missingVariables: missing,
    context: o.context,
  };
}
