/**
 * Calls (002): list with task/agent/status filters, details with transcript and report, transcript (GET
 * and POST = re-process the stored transcript), report, recording (a signed URL, and the audio with Range requests), live
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
import { Type } from '@sinclair/typebox';
import { RECORDING_FORMATS } from '../../../core/index.js';
import { sendRecording } from '../../shared/recording-media.js';

const RecordingQuery = Type.Object({ format: Type.Optional(Type.Union(RECORDING_FORMATS.map((f) => Type.Literal(f)), { description: 'Audio format (default mp3)' })) });

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

  // 002: the recording's URL is a proxy that needs no further authentication (a signed, short-lived URL);
  // `/recording/stream` sends the audio itself (key auth), with Range requests so that players can seek.
  app.get(
    '/calls/:id/recording',
    { schema: { summary: 'Recording URL (a signed, short-lived proxy URL; 404 when there is none)', tags, params: IdParams, querystring: RecordingQuery } },
    async (req) => {
      const call = await core.calls.find(req.org.id, req.params.id);
      const rec = await core.recordings.forCall(req.org.id, call.id);
      const format = req.query.format ?? 'mp3';
      const { url, expiresAt } = core.recordings.signedUrl(rec, format, req.org.keyId);
      return ok(req, {
        call_id: call.id,
        recording_url: url,
        stream_url: `${core.config.publicUrl}/api/v1/calls/${call.id}/recording/stream?format=${format}`,
        format,
        duration_seconds: rec.duration_seconds === null ? null : Math.round(rec.duration_seconds * 10) / 10,
        expires_at: expiresAt.toISOString(),
      });
    },
  );
  app.get(
    '/calls/:id/recording/stream',
    { schema: { summary: 'Recording audio (Range requests supported; 404 when there is none)', tags, params: IdParams, querystring: RecordingQuery } },
    async (req, reply) => {
      const call = await core.calls.find(req.org.id, req.params.id);
      return sendRecording(req, reply, await core.recordings.mediaForCall(req.org.id, call.id, req.query.format ?? 'mp3'));
    },
  );

  app.get('/calls/:id/live', { schema: { summary: 'WebSocket connection info for the live transcript', tags, params: IdParams } }, async (req) => {
    const call = await core.calls.find(req.org.id, req.params.id);
    const base = core.config.publicUrl.replace(/^http/, 'ws');
    const url = `${base}/ws/calls/${call.id}`;
    // The key it was issued under (`k`) is checked when the token is used: revoking the key revokes its tokens.
    const claims = { c: call.id, o: req.org.id, p: 'live', ...(req.org.keyId ? { k: req.org.keyId } : {}) };
    const token = core.secrets.signToken(claims, SESSION_TOKEN_TTL_SECONDS);
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
