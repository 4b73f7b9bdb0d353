/** Agents CRUD (002): GET/POST /agents, GET/PATCH/DELETE /agents/:id. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FaceOptions } from '../../shared/options.js';
import { ok } from '../envelope.js';
import { agentView } from '../map.js';
import { AgentsQuery, CreateAgentBody, IdParams, UpdateAgentBody } from '../schemas.js';

const tags = ['Agents/tasks: agents'];

export const agentRoutes: FastifyPluginAsyncTypebox<FaceOptions> = async (app, { core }) => {
  app.get('/agents', { schema: { summary: 'List agents', tags, querystring: AgentsQuery } }, async (req) => {
    const { items, total } = await core.agents.list(req.org.id, req.query);
    return ok(req, items.map(agentView), { total, limit: req.query.limit ?? 50, offset: req.query.offset ?? 0 });
  });

  app.get('/agents/:id', { schema: { summary: 'Get an agent', tags, params: IdParams } }, async (req) =>
    ok(req, agentView(await core.agents.get(req.org.id, req.params.id))),
  );

  app.post('/agents', { schema: { summary: 'Create an agent', tags, body: CreateAgentBody } }, async (req, reply) => {
    const a = await core.agents.create(req.org.id, req.body);
    void reply.status(201);
    return ok(req, agentView(a));
  });

  app.patch('/agents/:id', { schema: { summary: 'Update an agent (partial)', tags, params: IdParams, body: UpdateAgentBody } }, async (req) =>
    ok(req, agentView(await core.agents.update(req.org.id, req.params.id, req.body ?? {}))),
  );

  app.delete('/agents/:id', { schema: { summary: 'Delete an agent (only without active tasks)', tags, params: IdParams } }, async (req) => {
    await core.agents.delete(req.org.id, req.params.id);
    return ok(req, { id: req.params.id, deleted: true });
  });
};
