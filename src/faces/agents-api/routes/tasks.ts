/** Tasks (002): CRUD with filters, POST /tasks/:id/execute and /reset. */
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { SwitchboardError } from '../../../core/errors.js';
import type { FaceOptions } from '../../shared/options.js';
import { ok } from '../envelope.js';
import { taskView } from '../map.js';
import { CreateTaskBody, IdParams, TasksQuery, UpdateTaskBody } from '../schemas.js';

const tags = ['Agents/tasks: tasks'];

/** How long execute waits to see whether the carrier took the call (a refusal comes at once). */
const DIAL_CONFIRM_MS = 2000;

export const taskRoutes: FastifyPluginAsyncTypebox<FaceOptions> = async (app, { core }) => {
  app.get('/tasks', { schema: { summary: 'List tasks', tags, querystring: TasksQuery } }, async (req) => {
    const { items, total } = await core.tasks.list(req.org.id, req.query);
    return ok(req, items.map((t) => taskView(t)), { total, limit: req.query.limit ?? 50, offset: req.query.offset ?? 0 });
  });

  app.get('/tasks/:id', { schema: { summary: 'Get a task with its agent', tags, params: IdParams } }, async (req) => {
    const t = await core.tasks.get(req.org.id, req.params.id);
    const agent = await core.agents.get(req.org.id, t.agent_id).catch(() => undefined);
    return ok(req, taskView(t, agent));
  });

  app.post('/tasks', { schema: { summary: 'Create a task', tags, body: CreateTaskBody } }, async (req, reply) => {
    const t = await core.tasks.create(req.org.id, req.body);
    void reply.status(201);
    return ok(req, taskView(t));
  });

  app.patch('/tasks/:id', { schema: { summary: 'Update a pending task', tags, params: IdParams, body: UpdateTaskBody } }, async (req) =>
    ok(req, taskView(await core.tasks.update(req.org.id, req.params.id, req.body ?? {}))),
  );

  app.delete('/tasks/:id', { schema: { summary: 'Delete a pending or failed task', tags, params: IdParams } }, async (req) => {
    await core.tasks.delete(req.org.id, req.params.id);
    return ok(req, { id: req.params.id, deleted: true });
  });

  app.post(
    '/tasks/:id/execute',
    {
      schema: {
        summary: 'Execute a pending task (start its call); Idempotency-Key makes retries safe',
        tags,
        params: IdParams,
        headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 255 })) }),
      },
    },
    async (req) => {
    const call = await core.tasks.execute(req.org.id, req.params.id, { idempotencyKey: req.headers['idempotency-key'] });
    // A carrier that refuses the call at once is the provider failing: 503, with the failed call's id.
    const launched = await core.callManager.afterLaunch(call.id, DIAL_CONFIRM_MS);
    if (launched.outcome === 'failed') {
      throw new SwitchboardError('SB_ERR_PROVIDER', 'The telephony provider could not place the call', {
        call_id: call.id,
        last_error: launched.call.last_error,
      });
    }
    return ok(req, { call_id: call.id, message: 'Call initiated' });
    },
  );

  app.post('/tasks/:id/reset', { schema: { summary: 'Reset a task to pending', tags, params: IdParams } }, async (req) =>
    ok(req, taskView(await core.tasks.reset(req.org.id, req.params.id))),
  );
};
