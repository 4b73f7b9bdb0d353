/**
 * Tasks: planned calls by an agent to a number, with context data (the agent's template variables),
 * priority, an optional schedule and webhooks. pending → in_progress → completed | failed; the end follows
 * the call's end (CallService.transition, in the same transaction). A scheduled task is a durable job
 * (`task.run`, one per task) written in the same transaction as the task: it runs on time after a restart,
 * once, and when many are due the highest priority runs first, at most TASK_CONCURRENCY at a time.
 */
import type { Transaction } from 'kysely';
import type { Bus } from '../bus/bus.js';
import { channels } from '../bus/bus.js';
import { enqueueJob } from '../jobs/runner.js';
import type { Logger } from '../lib/logger.js';
import { isUuid, newId } from '../lib/ids.js';
import { isE164 } from '../lib/phone.js';
import type { CallRow, Database, Db, TaskRow } from '../store/index.js';
import { agentCallRequest, page, type Agents, type ListOptions } from './agents.js';
import type { CallService } from './calls/service.js';
import type { CallEvent } from './calls/events.js';
import { isTerminal } from './calls/states.js';
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
  /** Looks for due scheduled tasks now (after one was created due). */
  wakeTasks?: () => void;
  /** Longest a scheduled task's job waits for its call to end (it holds a concurrency slot meanwhile). */
  maxCallWaitMs?: number;
}

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
    if (scheduledAt && scheduledAt.getTime() <= Date.now()) this.o.wakeTasks?.();
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
    if (updated.scheduled_at && new Date(updated.scheduled_at).getTime() <= Date.now()) this.o.wakeTasks?.();
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
    return t;
  }

  /**
   * Starts the task's call now (only a pending task: 400 otherwise). The task is claimed (pending →
   * in_progress) before dialling, so a scheduled run and a manual execute never both call.
   */
  /**
   * Starts a pending task's call. With an idempotency key, a retry returns the call the first request
   * started (even though the task is no longer pending) and dials nothing.
   */
  async execute(orgId: string, id: string, opts: { idempotencyKey?: string } = {}): Promise<CallRow> {
    const rawBody = { execute_task: id };
    if (opts.idempotencyKey) {
      const prior = await this.o.calls.replay(orgId, opts.idempotencyKey, rawBody);
      if (prior) return prior;
    }
    const claimed = await this.o.db.transaction().execute(async (trx) => {
      const t = isUuid(id) ? await trx.selectFrom('tasks').selectAll().where('id', '=', id).where('org_id', '=', orgId).forUpdate().executeTakeFirst() : undefined;
      if (!t) throw notFound('Task');
      if (t.status !== 'pending') this.refuse('Only pending tasks can be executed', t);
      await trx.deleteFrom('jobs').where('key', '=', jobKey(id)).where('locked_at', 'is', null).execute();
      return trx
        .updateTable('tasks')
        .set({ status: 'in_progress', started_at: new Date(), updated_at: new Date(), last_error: null })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirstOrThrow();
    });
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
      const { call } = await this.o.calls.start(orgId, request, opts.idempotencyKey ? { idempotencyKey: opts.idempotencyKey, rawBody } : {});
      return call;
    } catch (err) {
      // Nothing was dialled: the task is pending again, with the reason.
      await this.o.db
        .updateTable('tasks')
        .set({ status: 'pending', started_at: null, last_error: (err as Error).message, updated_at: new Date() })
        .where('id', '=', id)
        .where('status', '=', 'in_progress')
        .where('call_id', 'is', null)
        .execute();
      throw err;
    }
  }

  /**
   * The `task.run` job: runs a due task once (a task no longer pending was executed, reset or deleted:
   * nothing to do) and holds its concurrency slot until the call ends.
   */
  jobHandler(): (payload: { taskId: string }) => Promise<void> {
    return async ({ taskId }) => {
      let call: CallRow | null;
      try {
        // Everything up to the call's start runs in the chain, entered in claim order (the handlers of a
        // batch are called in that order, synchronously), so priorities hold even over a connection pool.
        call = await this.serially(async () => {
          const t = await this.o.db.selectFrom('tasks').selectAll().where('id', '=', taskId).executeTakeFirst();
          if (!t || t.status !== 'pending') return null;
          return this.execute(t.org_id, t.id);
        });
        if (!call) return;
      } catch (err) {
        this.o.log.warn({ err, taskId }, 'scheduled task could not start');
        await this.o.db
          .updateTable('tasks')
          .set({ status: 'failed', completed_at: new Date(), updated_at: new Date() })
          .where('id', '=', taskId)
          .where('status', '=', 'pending')
          .execute();
        return;
      }
      await this.waitForEnd(call.id);
    };
  }

  // Calls of one claimed batch start in the order they were claimed (highest priority first).
  private chain: Promise<unknown> = Promise.resolve();
  private serially<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => {});
    return run;
  }

  private readonly waiters = new Set<() => void>();

  /** Stops every wait for a call's end (shutdown): the jobs finish and their slots free. */
  stopWaiting(): void {
    for (const w of [...this.waiters]) w();
  }

  private async waitForEnd(callId: string): Promise<void> {
    let done!: () => void;
    const finished = new Promise<void>((r) => (done = r));
    this.waiters.add(done);
    const unsubscribe = await this.o.bus.subscribe(channels.callEvents(callId), (m) => {
      const e = m as CallEvent;
      if (e.type === 'status' && isTerminal(e.status)) done();
    });
    // The bus may have missed the end (it happened before the subscription, or on another node).
    const poll = setInterval(() => {
      void this.o.db
        .selectFrom('calls')
        .select('status')
        .where('id', '=', callId)
        .executeTakeFirst()
        .then((c) => (!c || isTerminal(c.status)) && done())
        .catch(() => {});
    }, 1000);
    poll.unref();
    const cap = setTimeout(done, this.o.maxCallWaitMs ?? 4 * 3600_000);
    cap.unref();
    const now = await this.o.db.selectFrom('calls').select('status').where('id', '=', callId).executeTakeFirst();
    if (!now || isTerminal(now.status)) done();
    await finished;
    this.waiters.delete(done);
    clearInterval(poll);
    clearTimeout(cap);
    await unsubscribe();
  }
}
