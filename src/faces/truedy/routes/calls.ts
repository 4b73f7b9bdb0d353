/**
 * Truedy's calls (003): list with filters and `pagination`, get, create (outbound, by an agent, from one of
 * its outbound numbers), PATCH context / call settings, delete and bulk delete (never a live call),
 * recording and transcript.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { agentCallRequest } from '../../../core/agents.js';
import type { CallRequest } from '../../../core/calls/request.js';
import { isTerminal } from '../../../core/calls/states.js';
import { SwitchboardError, validationError } from '../../../core/errors.js';
import type { CallRow } from '../../../store/index.js';
import type { FaceOptions } from '../../shared/options.js';
import { meta } from '../errors.js';
import { callSettings, callView, coreStates, lastError, requestOf, transcriptItem, type CallSettings } from '../map.js';
import { BulkDeleteBody, CallIdParams, CallsQuery, CreateCallBody, UpdateCallBody } from '../schemas.js';

const tags = ['Truedy: calls'];

/** How long a create waits for the carrier to take the call (or refuse it: 502) before answering 201. */
export const DIAL_CONFIRM_MS = 2000;
/** Bounds of the duration strings (seconds). */
export const MAX_DURATION_SECONDS = 4 * 3600;
export const MAX_JOIN_TIMEOUT_SECONDS = 600;
export const IDEMPOTENCY_KEY_HEADER = 'x-idempotency-key';

function ok<T>(req: FastifyRequest, data: T) {
  return { data, meta: meta(req) };
}

/** `"600s"` → 600, within 1..max; a validation error naming the field otherwise. */
export function durationSeconds(field: string, v: string | undefined, max: number): number | undefined {
  if (v === undefined) return undefined;
  const m = /^(\d{1,7}(?:\.\d{1,9})?)s$/.exec(v);
  const n = m ? Number(m[1]) : NaN;
  if (!Number.isFinite(n) || n < 1 || n > max) {
    throw validationError(field, `${field} must be a duration between "1s" and "${max}s", e.g. "600s"`);
  }
  return Math.round(n);
}

/** 003: "All values are treated as strings". null stays absent (it renders empty and is listed as missing). */
export function stringVariables(vars: Record<string, unknown> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(vars ?? {})) {
    if (v === null || v === undefined) continue;
    out[k] = typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
  }
  return out;
}

function providerError(call: CallRow): SwitchboardError {
  return new SwitchboardError('SB_ERR_PROVIDER', 'The telephony provider could not place the call', {
    id: call.id,
    call_id: call.id,
    status: 'failed',
    last_error: lastError(call),
  });
}

export const callRoutes: FastifyPluginAsyncTypebox<FaceOptions> = async (app, { core }) => {
  const manager = core.callManager;

  app.get('/calls', { schema: { summary: 'List calls', tags, querystring: CallsQuery } }, async (req) => {
    const q = req.query;
    const r = await manager.list(req.org.id, {
      states: q.status ? coreStates(q.status) : undefined,
      direction: q.direction,
      agentId: q.agent_id,
      limit: q.limit,
      offset: q.offset,
    });
    const recordings = await core.recordings.urlsFor(r.items.map((c) => c.id), req.org.keyId);
    return {
      data: r.items.map((c) => callView(c, recordings.get(c.id))),
      pagination: { total: r.total, limit: r.limit, offset: r.offset, has_more: r.offset + r.items.length < r.total },
      meta: meta(req),
    };
  });

  app.get('/calls/:call_id', { schema: { summary: 'Get a call', tags, params: CallIdParams } }, async (req) => {
    const call = await core.calls.find(req.org.id, req.params.call_id);
    const recordings = await core.recordings.urlsFor([call.id], req.org.keyId);
    return ok(req, callView(call, recordings.get(call.id)));
  });

  app.post('/calls', { schema: { summary: 'Create an outbound call by an agent', tags, body: CreateCallBody } }, async (req, reply) => {
    const b = req.body;
    const orgId = req.org.id;
    const idemHeader = req.headers[IDEMPOTENCY_KEY_HEADER];
    if (idemHeader !== undefined && (typeof idemHeader !== 'string' || !idemHeader.trim() || idemHeader.length > 255)) {
      throw validationError('X-Idempotency-Key', 'X-Idempotency-Key must be one non-empty value of at most 255 characters');
    }

    const agent = await core.agents.get(orgId, b.agent_id).catch((err) => {
      if (err instanceof SwitchboardError && err.code === 'SB_ERR_NOT_FOUND') throw validationError('agent_id', 'agent_id is not an agent of this organisation');
      throw err;
    });
    if (!agent.enabled) throw validationError('agent_id', 'The agent is disabled');

    // The agent's own outbound numbers; on the simulated network also the organisation's simulated number,
    // which every agent may call from ("if omitted, the system selects automatically").
    const simulated = await core.numbers.simulatedNumber(orgId);
    const outbound = [...(await core.numbers.outboundFor(orgId, agent.id)), ...(simulated ? [simulated] : [])];
    let from: string;
    if (b.from_number !== undefined) {
      if (!outbound.some((n) => n.number === b.from_number)) {
        throw validationError('from_number', 'from_number is not a number assigned to this agent for outbound calls');
      }
      from = b.from_number;
    } else {
      if (outbound.length === 0) {
        throw new SwitchboardError('SB_ERR_VALIDATION', 'The agent has no phone number assigned for outbound calls; assign one or send from_number', {
          field: 'from_number',
          reason: 'no_outbound_number',
          agent_id: agent.id,
        });
      }
      from = outbound[0].number;
    }

    const cs = b.call_settings ?? {};
    const maxDuration = durationSeconds('call_settings.max_duration', cs.max_duration, MAX_DURATION_SECONDS);
    const joinTimeout = durationSeconds('call_settings.join_timeout', cs.join_timeout, MAX_JOIN_TIMEOUT_SECONDS);
    const settings: CallSettings = { recording_enabled: cs.recording_enabled ?? true, transcription_enabled: cs.transcription_enabled ?? true };

    const base = agentCallRequest(agent, {
      face: 'truedy',
      to: b.phone_number,
      greeting: cs.greeting,
      variables: stringVariables(b.variables),
      fromNumber: from,
      context: b.context ?? {},
    });
    const request: CallRequest = {
      ...base,
      record: settings.recording_enabled,
      ...(maxDuration !== undefined ? { maxDurationSeconds: maxDuration } : {}),
      ...(joinTimeout !== undefined ? { ringTimeoutSeconds: joinTimeout } : {}),
      metadata: { ...base.metadata, call_settings: settings },
    };

    const started = await core.calls
      .start(orgId, request, { idempotencyKey: typeof idemHeader === 'string' ? 'truedy:' + idemHeader : undefined, rawBody: b })
      .catch((err) => {
        if (err instanceof SwitchboardError && err.code === 'SB_ERR_IDEMPOTENCY_MISMATCH') {
          throw new SwitchboardError('SB_ERR_IDEMPOTENCY_MISMATCH', 'X-Idempotency-Key was already used with a different request body', {
            field: 'X-Idempotency-Key',
          });
        }
        throw err;
      });

    let call = started.call;
    if (started.replayed) {
      reply.header('Idempotent-Replayed', 'true');
      call = await core.calls.find(orgId, call.id);
      if (call.status === 'failed' && call.end_reason === 'dial_failed') throw providerError(call);
    } else {
      const r = await manager.afterLaunch(call.id, DIAL_CONFIRM_MS);
      if (r.outcome === 'failed') throw providerError(r.call);
      call = r.call;
    }
    void reply.status(201);
    return ok(req, callView(call));
  });

  app.patch('/calls/:call_id', { schema: { summary: 'Update context and call settings', tags, params: CallIdParams, body: UpdateCallBody } }, async (req) => {
    const b = req.body ?? {};
    const call = await manager.updateRequest(req.org.id, req.params.call_id, (r) => {
      if (b.context === undefined && b.call_settings === undefined) return r;
      const settings = { ...callSettings(r), ...(b.call_settings ?? {}) };
      return {
        ...r,
        context: { ...(r.context ?? {}), ...(b.context ?? {}) },
        record: settings.recording_enabled,
        metadata: { ...(r.metadata ?? {}), call_settings: settings },
      };
    });
    return ok(req, callView(call));
  });

  app.delete('/calls/:call_id', { schema: { summary: 'Delete a call (not while it is active)', tags, params: CallIdParams } }, async (req) => {
    await manager.delete(req.org.id, req.params.call_id);
    return ok(req, { id: req.params.call_id, deleted: true });
  });

  app.post('/calls/bulk-delete', { schema: { summary: 'Delete many calls (active ones are skipped)', tags, body: BulkDeleteBody } }, async (req) => {
    const r = await manager.deleteMany(req.org.id, req.body.ids);
    return ok(req, { deleted_count: r.deleted_ids.length, failed_count: r.failed_ids.length, deleted_ids: r.deleted_ids, failed_ids: r.failed_ids });
  });

  app.get('/calls/:call_id/recording', { schema: { summary: 'Recording URL (404 when there is none)', tags, params: CallIdParams } }, async (req) => {
    const call = await core.calls.find(req.org.id, req.params.call_id);
    const rec = await core.recordings.forCall(req.org.id, call.id);
    return ok(req, { recording_url: core.recordings.signedUrl(rec, 'mp3', req.org.keyId).url });
  });

  app.get('/calls/:call_id/transcript', { schema: { summary: 'Transcript and summary (404 until available)', tags, params: CallIdParams } }, async (req) => {
    const call = await core.calls.find(req.org.id, req.params.call_id);
    const rows = isTerminal(call.status) && callSettings(requestOf(call)).transcription_enabled ? await core.calls.transcript(call.id) : [];
    if (rows.length === 0) throw new SwitchboardError('SB_ERR_NOT_FOUND', 'Transcript not available for this call', { resource: 'Transcript' });
    return ok(req, { transcript: rows.map(transcriptItem), summary: call.summary });
  });
};
