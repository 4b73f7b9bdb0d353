/**
 * Tasks: planned calls by an agent to a number, with context data (the agent's template variables),
 * priority, an optional schedule and webhooks. pending → in_progress → completed | failed; the end follows
 * the call's end (CallService.transition, in the same transaction). A scheduled task is a durable job
 * (`task.run`, one per task) written in the same transaction as the task: it runs on time after a restart,
 * once, and when many are due the highest priority runs first. At most TASK_CONCURRENCY tasks are in
 * progress at once across the cluster: the slots are counted in the database (`freeSlots`), and a task
 * whose call ends — a dead node's calls too, closed by the reaper — gives its slot back.
 */
import { sql, type Transaction } from 'kysely';
import type { Bus } from '../bus/bus.js';
import { enqueueJob } from '../jobs/runner.js';
import type { Logger } from '../lib/logger.js';
import { isUuid, newId } from '../lib/ids.js';
import { isE164 } from '../lib/phone.js';
import type { CallRow, Database, Db, TaskRow } from '../store/index.js';
import { agentCallRequest, page, type Agents, type ListOptions } from './agents.js';
import type { CallService } from './calls/service.js';
import { SwitchboardError, notFound, validationError } from './errors.js';

export const TASK_JOB = 'task.run';
export const TASK_STATUSES = ['pending', 'in_progress', 'completed', 'failed'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];
export const TASK_WEBHOOK_EVENTS = ['call_started', 'call_completed', 'call_failed'] as const;

export interface TaskInput {
  agent_id: string;
  name: string;
  to_number: string;
  description?: string | null;
  starting_message?: string | null;
  context_data?: Record<string, unknown>;
  priority?: number;
  scheduled_at?: string | Date | null;
  webhook_url?: string | null;
  webhook_events?: string[];
}

export type TaskPatch = Partial<Omit<TaskInput, 'agent_id'>>;

export interface TasksOptions {
  db: Db;
  bus: Bus;
  log: Logger;
  calls: CallService;
  agents: Agents;
  /** Why a webhook URL is not acceptable here, or null. */
  checkWebhookUrl: (url: string) => string | null;
  /**
   * Tells the scheduled-task runner a task's job was written (after the commit): due at `at`, it looks now;
   * due later, a runner asleep on the embedded store wakes at that time (JobRunner.wake).
   */
  wakeTasks?: (at: Date) => void;
}

/** Serialises the task-slot count of every node (pg_advisory_xact_lock; any constant of our own). */
const TASK_SLOTS_LOCK = 7_110_502;

function jobKey(taskId: string): string {
  return `task:${taskId}`;
}

function when(field: string, v: string | Date | null | undefined): Date | null | undefined {
  if (v === undefined || v === null) return v;
  const d = v instanceof Date ? v : new Date(v);
  if (Number.isNaN(d.getTime())) throw validationError(field, `${field} must be an ISO 8601 date-time`);
  return d;
}

export class Tasks {
  constructor(private readonly o: TasksOptions) {}

  private check(i: TaskPatch): void {
    if (i.name !== undefined && !i.name.trim()) throw validationError('name', 'name must not be empty');
    if (i.to_number !== undefined && !isE164(i.to_number)) {
      throw validationError('to_number', 'to_number must be an E.164 phone number, e.g. +46700000000');
    }
    if (i.priority !== undefined && !Number.isInteger(i.priority)) throw validationError('priority', 'priority must be an integer');
    for (const e of i.webhook_events ?? []) {
      if (!(TASK_WEBHOOK_EVENTS as readonly string[]).includes(e)) {
        throw validationError('webhook_events', `webhook_events may hold only ${TASK_WEBHOOK_EVENTS.join(', ')}`);
      }
    }
    if (i.webhook_url) {
      const reason = this.o.checkWebhookUrl(i.webhook_url);
      if (reason) throw validationError('webhook_url', `Invalid webhook_url: ${reason}`);
    }
  }

  async create(orgId: string, i: TaskInput): Promise<TaskRow> {
    this.check(i);
    await this.o.agents.get(orgId, i.agent_id).catch(() => {
      throw validationError('agent_id', 'agent_id is not an agent of this organisation');
    });
    const scheduledAt = when('scheduled_at', i.scheduled_at) ?? null;
    const task = await this.o.db.transaction().execute(async (trx) => {
      const t = await trx
        .insertInto('tasks')
        .values({
          id: newId(),
          org_id: orgId,
          agent_id: i.agent_id,
          name: i.name.trim(),
          to_number: i.to_number,
          description: i.description ?? null,
          starting_message: i.starting_message ?? null,
          context_data: JSON.stringify(i.context_data ?? {}),
          priority: i.priority ?? 0,
          scheduled_at: scheduledAt,
          webhook_url: i.webhook_url ?? null,
          webhook_events: JSON.stringify([...new Set(i.webhook_events ?? (i.webhook_url ? ['call_completed'] : []))]),
          status: 'pending',
          call_id: null,
          last_error: null,
          started_at: null,
          completed_at: null,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      await this.schedule(trx, t);
      return t;
    });
    if (scheduledAt) this.o.wakeTasks?.(scheduledAt);
    return task;
  }

  /** Writes (or replaces) the task's job when it is pending and scheduled. */
  private async schedule(trx: Transaction<Database>, t: TaskRow): Promise<void> {
    await trx.deleteFrom('jobs').where('key', '=', jobKey(t.id)).where('locked_at', 'is', null).execute();
    if (t.status !== 'pending' || !t.scheduled_at) return;
    await enqueueJob(trx, {
      kind: TASK_JOB,
      key: jobKey(t.id),
      payload: { taskId: t.id },
      runAt: new Date(t.scheduled_at),
      priority: t.priority,
      maxAttempts: 1,
    });
  }

  async list(orgId: string, o: ListOptions & { agent_id?: string; status?: string }): Promise<{ items: TaskRow[]; total: number }> {
    const { limit, offset } = page(o);
    if (o.agent_id !== undefined && !isUuid(o.agent_id)) return { items: [], total: 0 };
    let q = this.o.db.selectFrom('tasks').where('org_id', '=', orgId);
    if (o.agent_id !== undefined) q = q.where('agent_id', '=', o.agent_id);
    if (o.status !== undefined) q = q.where('status', '=', o.status);
    const [items, total] = await Promise.all([
      q.selectAll().orderBy('created_at', 'desc').orderBy('id').limit(limit).offset(offset).execute(),
      q.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { items, total: Number(total.n) };
  }

  async get(orgId: string, id: string): Promise<TaskRow> {
    const t = isUuid(id)
      ? await this.o.db.selectFrom('tasks').selectAll().where('id', '=', id).where('org_id', '=', orgId).executeTakeFirst()
      : undefined;
    if (!t) throw notFound('Task');
    return t;
  }

  private refuse(message: string, t: TaskRow): never {
    throw new SwitchboardError('SB_ERR_VALIDATION', message, { reason: 'task_status', status: t.status });
  }

  /** Changes a pending task (400 otherwise); a new schedule or priority replaces its job. */
  async update(orgId: string, id: string, p: TaskPatch): Promise<TaskRow> {
    this.check(p);
    const scheduledAt = when('scheduled_at', p.scheduled_at);
    const updated = await this.o.db.transaction().execute(async (trx) => {
      const t = isUuid(id) ? await trx.selectFrom('tasks').selectAll().where('id', '=', id).where('org_id', '=', orgId).forUpdate().executeTakeFirst() : undefined;
      if (!t) throw notFound('Task');
      if (t.status !== 'pending') this.refuse('Only pending tasks can be updated', t);
      const set: Record<string, unknown> = { updated_at: new Date() };
      if (p.name !== undefined) set.name = p.name.trim();
      if (p.description !== undefined) set.description = p.description;
      if (p.to_number !== undefined) set.to_number = p.to_number;
      if (p.starting_message !== undefined) set.starting_message = p.starting_message;
      if (p.context_data !== undefined) set.context_data = JSON.stringify(p.context_data);
      if (p.priority !== undefined) set.priority = p.priority;
      if (scheduledAt !== undefined) set.scheduled_at = scheduledAt;
      if (p.webhook_url !== undefined) set.webhook_url = p.webhook_url;
      if (p.webhook_events !== undefined) set.webhook_events = JSON.stringify([...new Set(p.webhook_events)]);
      const u = await trx.updateTable('tasks').set(set).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
      if (p.priority !== undefined || scheduledAt !== undefined) await this.schedule(trx, u);
      return u;
    });
    if (updated.scheduled_at && (p.priority !== undefined || scheduledAt !== undefined)) this.o.wakeTasks?.(new Date(updated.scheduled_at));
    return updated;
  }

  /** Deletes a pending or failed task (400 otherwise), with its job. */
  async delete(orgId: string, id: string): Promise<void> {
    await this.o.db.transaction().execute(async (trx) => {
      const t = isUuid(id) ? await trx.selectFrom('tasks').selectAll().where('id', '=', id).where('org_id', '=', orgId).forUpdate().executeTakeFirst() : undefined;
      if (!t) throw notFound('Task');
      if (t.status !== 'pending' && t.status !== 'failed') this.refuse('Only pending or failed tasks can be deleted', t);
      await trx.deleteFrom('jobs').where('key', '=', jobKey(id)).execute();
      await trx.deleteFrom('tasks').where('id', '=', id).execute();
    });
  }

  /** Back to pending (any task not already pending), so it can run again; a future schedule is kept. */
  async reset(orgId: string, id: string): Promise<TaskRow> {
    const t = await this.o.db.transaction().execute(async (trx) => {
      const t = isUuid(id) ? await trx.selectFrom('tasks').selectAll().where('id', '=', id).where('org_id', '=', orgId).forUpdate().executeTakeFirst() : undefined;
      if (!t) throw notFound('Task');
      if (t.status === 'pending') this.refuse('Task is already pending', t);
      const u = await trx
        .updateTable('tasks')
        .set({ status: 'pending', call_id: null, last_error: null, started_at: null, completed_at: null, updated_at: new Date() })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirstOrThrow();
      if (u.scheduled_at && new Date(u.scheduled_at).getTime() > Date.now()) await this.schedule(trx, u);
      return u;
    });
    if (t.scheduled_at && new Date(t.scheduled_at).getTime() > Date.now()) this.o.wakeTasks?.(new Date(t.scheduled_at));
    return t;
  }

  /**
   * Starts a pending task's call now (400 otherwise). The task is claimed (pending → in_progress) in the
   * transaction that stores its call, so a scheduled run and a manual execute never both call, and no task
   * is ever in progress without a call. With an idempotency key, a retry returns the call the first request
   * started (even though the task is no longer pending) and dials nothing.
   */
  async execute(orgId: string, id: string, opts: { idempotencyKey?: string } = {}): Promise<CallRow> {
    const rawBody = { execute_task: id };
    if (opts.idempotencyKey) {
      const prior = await this.o.calls.replay(orgId, opts.idempotencyKey, rawBody);
      if (prior) return prior;
    }
    const claimed = await this.get(orgId, id);
    if (claimed.status !== 'pending') this.refuse('Only pending tasks can be executed', claimed);
    const claim = async (trx: Transaction<Database>, call: CallRow) => {
      const now = new Date();
      const t = await trx
        .updateTable('tasks')
        .set({ status: 'in_progress', call_id: call.id, started_at: now, updated_at: now, last_error: null })
        .where('id', '=', id)
        .where('status', '=', 'pending')
        .returningAll()
        .executeTakeFirst();
      if (!t) this.refuse('Only pending tasks can be executed', { ...claimed, status: 'in_progress' });
      await trx.deleteFrom('jobs').where('key', '=', jobKey(id)).where('locked_at', 'is', null).execute();
    };
    try {
      const agent = await this.o.agents.get(orgId, claimed.agent_id);
      const faceEvents = claimed.webhook_events;
      const coreEvents = [
        ...(faceEvents.includes('call_started') ? ['call_dialing'] : []),
        ...(faceEvents.includes('call_completed') || faceEvents.includes('call_failed') ? ['call_completed'] : []),
      ];
      const context = claimed.context_data;
      const request = agentCallRequest(agent, {
        face: 'agents-api',
        to: claimed.to_number,
        task: claimed.description || claimed.name,
        greeting: claimed.starting_message,
        variables: context ?? {},
        taskId: claimed.id,
        webhook: claimed.webhook_url && coreEvents.length ? { url: claimed.webhook_url, events: coreEvents, faceEvents } : undefined,
      });
      const { call } = await this.o.calls.start(orgId, request, { within: claim, ...(opts.idempotencyKey ? { idempotencyKey: opts.idempotencyKey, rawBody } : {}) });
      return call;
    } catch (err) {
      // Nothing was stored or dialled: the task is still pending; it keeps the reason.
      await this.o.db
        .updateTable('tasks')
        .set({ last_error: (err as Error).message, updated_at: new Date() })
        .where('id', '=', id)
        .where('status', '=', 'pending')
        .execute();
      throw err;
    }
  }

  /**
   * How many more scheduled tasks may start now, counted for the whole cluster in the task runner's claim
   * transaction: tasks in progress, plus `task.run` jobs claimed whose task has not started yet. The
   * advisory lock makes nodes count one after another, so two never both take the last slot.
   */
  async freeSlots(trx: Transaction<Database>, limit: number, wanted: number): Promise<number> {
    await sql`select pg_advisory_xact_lock(${TASK_SLOTS_LOCK})`.execute(trx);
    const r = await sql<{ n: string }>`
      select (select count(*) from tasks where status = 'in_progress')
           + (select count(*) from jobs j join tasks t on t.id::text = j.payload->>'taskId'
              where j.kind = ${TASK_JOB} and j.locked_at is not null and t.status = 'pending') as n`.execute(trx);
    return Math.max(0, Math.min(wanted, limit - Number(r.rows[0]?.n ?? 0)));
  }

  /**
   * The `task.run` job: runs a due task once (a task no longer pending was executed, reset or deleted:
   * nothing to do). Its slot is the task's `in_progress` status (see freeSlots), held until its call ends.
   */
  jobHandler(): (payload: { taskId: string }) => Promise<void> {
    return async ({ taskId }) => {
      try {
        // Everything up to the call's start runs in the chain, entered in claim order (the handlers of a
        // batch are called in that order, synchronously), so priorities hold even over a connection pool.
        await this.serially(async () => {
          const t = await this.o.db.selectFrom('tasks').selectAll().where('id', '=', taskId).executeTakeFirst();
          if (!t || t.status !== 'pending') return null;
          return this.execute(t.org_id, t.id);
        });
      } catch (err) {
        this.o.log.warn({ err, taskId }, 'scheduled task could not start');
        await this.o.db
          .updateTable('tasks')
          .set({ status: 'failed', completed_at: new Date(), updated_at: new Date() })
          .where('id', '=', taskId)
          .where('status', '=', 'pending')
          .execute();
      }
    };
  }

  // Calls of one claimed batch start in the order they were claimed (highest priority first).
  private chain: Promise<unknown> = Promise.resolve();
  private serially<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => {});
    return run;
  }
}
