/**
 * Calls (002): list with task/agent/status filters, details with transcript and report, transcript (GET
 * and POST = re-process the stored transcript), report, recording (404 until recordings exist), live
 * connection info, end and cancel.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { buildReport } from '../../../core/calls/report.js';
import { isTerminal } from '../../../core/calls/states.js';
import { SwitchboardError } from '../../../core/errors.js';
import type { FaceOptions } from '../../shared/options.js';
import { ok } from '../envelope.js';
import { callView, coreStates, transcriptItem, transcriptText } from '../map.js';
import { CallsQuery, IdParams } from '../schemas.js';

const tags = ['Agents/tasks: calls'];
export const SESSION_TOKEN_TTL_SECONDS = 300;

export const callRoutes: FastifyPluginAsyncTypebox<FaceOptions> = async (app, { core }) => {
  app.get('/calls', { schema: { summary: 'List calls', tags, querystring: CallsQuery } }, async (req) => {
    const q = req.query;
    const r = await core.callIndex.list(req.org.id, {
      taskId: q.task_id,
      agentId: q.agent_id,
      states: q.status ? coreStates(q.status) : undefined,
      limit: q.limit,
      offset: q.offset,
    });
    return ok(req, r.items.map(callView), { total: r.total, limit: r.limit, offset: r.offset });
  });

  app.get('/calls/:id', { schema: { summary: 'Call details with transcript and report', tags, params: IdParams } }, async (req) => {
    const call = await core.calls.find(req.org.id, req.params.id);
    const rows = await core.calls.transcript(call.id);
    return ok(req, {
      ...callView(call),
      transcript: rows.map(transcriptItem),
      transcript_text: transcriptText(rows),
      report: buildReport(call, rows),
    });
  });

  app.get('/calls/:id/transcript', { schema: { summary: 'The stored transcript', tags, params: IdParams } }, async (req) => {
    const call = await core.calls.find(req.org.id, req.params.id);
    const rows = await core.calls.transcript(call.id);
    return ok(req, { call_id: call.id, transcript: rows.map(transcriptItem), transcript_text: transcriptText(rows) });
  });

  app.post('/calls/:id/transcript', { schema: { summary: 'Re-process the stored transcript (summary, extracted data, report)', tags, params: IdParams } }, async (req) => {
    const call = await core.calls.find(req.org.id, req.params.id);
    if (!isTerminal(call.status)) {
      throw new SwitchboardError('SB_ERR_VALIDATION', 'Call has not ended yet', { reason: 'call_active', status: call.status });
    }
    const rows = await core.calls.transcript(call.id);
    const r = await core.reports.reprocess(call, rows);
    return ok(req, {
      call_id: call.id,
      transcript: rows.map(transcriptItem),
      transcript_text: transcriptText(rows),
      extracted_data: r.report.extracted,
      report: r.report,
      source: r.source,
    });
  });

  app.get('/calls/:id/report', { schema: { summary: 'The call report (built from what is stored)', tags, params: IdParams } }, async (req) => {
    const call = await core.calls.find(req.org.id, req.params.id);
    const rows = await core.calls.transcript(call.id);
    return ok(req, { call_id: call.id, ...buildReport(call, rows) });
  });

  const noRecording = async (req: { org: { id: string }; params: { id: string } }) => {
    await core.calls.find(req.org.id, req.params.id);
    // Recordings are not stored yet (the simulated network has no audio): every call answers 404.
    throw new SwitchboardError('SB_ERR_NOT_FOUND', 'Recording not found for this call', { resource: 'Recording' });
  };
  app.get('/calls/:id/recording', { schema: { summary: 'Recording URL (404 until recordings exist)', tags, params: IdParams } }, noRecording);
  app.get('/calls/:id/recording/stream', { schema: { summary: 'Recording audio (404 until recordings exist)', tags, params: IdParams } }, noRecording);

  app.get('/calls/:id/live', { schema: { summary: 'WebSocket connection info for the live transcript', tags, params: IdParams } }, async (req) => {
    const call = await core.calls.find(req.org.id, req.params.id);
    const base = core.config.publicUrl.replace(/^http/, 'ws');
    const url = `${base}/ws/calls/${call.id}`;
    const token = core.secrets.signToken({ c: call.id, o: req.org.id, p: 'live' }, SESSION_TOKEN_TTL_SECONDS);
    return ok(req, {
      websocket_url: url,
      call_id: call.id,
      temp_token: token,
      connection_info: {
        url,
        auth_method: 'query_param',
        auth_param: 'api_key',
        temp_auth_param: 'session_token',
        example: `${url}?api_key=YOUR_API_KEY`,
        example_session: `${url}?session_token=TEMP_TOKEN`,
        message_format: 'json',
        message_types: ['connected', 'transcript_update', 'call_status_update', 'error'],
      },
    });
  });

  app.post('/calls/:id/end', { schema: { summary: 'End an active call', tags, params: IdParams } }, async (req) => {
    const { alreadyClosed, call } = await core.calls.end(req.org.id, req.params.id);
    return ok(req, { call_id: call.id, status: callView(call).status, already_ended: alreadyClosed, message: alreadyClosed ? 'Call already ended' : 'Call ended' });
  });

  app.post('/calls/:id/cancel', { schema: { summary: 'Cancel an active call (marks it failed)', tags, params: IdParams } }, async (req) => {
    const call = await core.calls.find(req.org.id, req.params.id);
    if (isTerminal(call.status)) {
      throw new SwitchboardError('SB_ERR_VALIDATION', 'Call has already ended', { reason: 'call_ended', status: callView(call).status });
    }
    const r = await core.calls.cancel(req.org.id, call.id);
    return ok(req, { call_id: r.call.id, status: callView(r.call).status, message: 'Call cancelled' });
  });
};
