/**
 * Calls: the rules of starting, finding, ending and recording calls. Faces call this with typed inputs;
 * the engine calls it to record what happens on a live call. Every state change and every event is
 * written in one transaction with the webhook deliveries it causes, then published on the bus.
 */
import { createHash, randomUUID } from 'node:crypto';
import { sql, type Transaction } from 'kysely';
import type { Bus } from '../../bus/bus.js';
import { channels } from '../../bus/bus.js';
import type { Logger } from '../../lib/logger.js';
import { background } from '../../lib/background.js';
import { isCallSid, isUuid, newCallSid, newId } from '../../lib/ids.js';
import type { CallEventRow, CallRow, Database, Db, JobRow } from '../../store/index.js';
import { retryOnConnectionLoss } from '../../store/index.js';
import { enqueueJob, jobValues, storedJob, type NewJob } from '../../jobs/runner.js';
import { SwitchboardError, notFound, unavailable, validationError } from '../errors.js';
import { emptyUsage, type CallUsage, type Credits } from '../credits/index.js';
import { enqueueWebhook } from '../webhooks/index.js';
import type { CallCommand, CallEvent, CommandEnvelope, CommandReply, LiveChanges, NewCallEvent } from './events.js';
import { eventValues, toCallEvent } from './event-rows.js';
import { followCall, type FollowOptions } from './follow.js';
import { pendingQuestionIn, readCallDetails, type CallDetails, type PendingQuestion } from './details.js';
import { namedCall } from './naming.js';
import type { CallRequest } from './request.js';
import { resolveVoice, voiceForCall, type HostedTtsProvider } from '../voice/index.js';
import type { VoiceChoice } from '../../ai/tts/tts.js';
import { canMove, isTerminal, statesBefore, type CallState } from './states.js';
import { TAKEN_OVER, initialRoom, type RoomState } from './user-on-call.js';
import type { CallWebhookEvent, WebhookPayloads } from './webhook-payloads.js';

/** The reply `command()` gives when the command could not be sent (the bus is away). */
const BUS_UNAVAILABLE = 'bus_unavailable';

/**
 * Dialling is a durable job (`call.dial`, one per call) stored in the call's own transaction: a call waits
 * for a free line in the database, and any node with a free line takes it (the engine's Dialer runs it).
 */
export const DIAL_JOB = 'call.dial';
export interface DialJob {
  callId: string;
}
export function dialJobKey(callId: string): string {
  return `dial:${callId}`;
}

/**
 * The engine's side of starting a call (dependency inversion): when this node has a free line, the call
 * is stored with its dial job already claimed by this node, which runs it at once.
 */
export interface CallLauncher {
  /** Takes one of this node's lines for a call about to be stored; false when none is free. */
  reserve(): boolean;
  /** Gives back a line reserve() took, when the call was not stored after all. */
  release(): void;
  /** Runs the stored call's dial job (claimed by this node) on the line reserved for it. */
  launch(job: JobRow): void;
}

export interface CallServiceOptions {
  db: Db;
  bus: Bus;
  log: Logger;
  payloads: WebhookPayloads;
  /** The credit guard before a call starts, and the pricing and charge when it ends. */
  credits: Credits;
  /** Carrier that dials new calls, and its check of destinations it knows (the simulated network). */
  carrierName: string;
  checkDestination?: (to: string) => string | null;
  /** What the carrier can do for user-on-call sessions (none: `userOnCall` is refused). */
  userOnCall?: { threeWay: boolean };
  /** How long an end command waits for the owning session before the call is closed without it. */
  commandTimeoutMs?: number;
  /** Sends webhook deliveries now rather than at the next poll. */
  wakeJobs?: () => void;
  /** Looks for queued calls to dial now (a call was stored that this node could not start itself). */
  wakeDials?: () => void;
  /** This node's id: owner of the calls it carries (see core/nodes.ts). */
  nodeId: string;
  /** The text-to-speech providers this server has keys for: a call's voice fields are checked against them (core/voice). */
  ttsProviders?: readonly HostedTtsProvider[];
}

export interface StartOptions {
  /** `Idempotency-Key` header (or the face's equivalent). */
  idempotencyKey?: string;
  /** The request as the client sent it, to tell a retry from a different request under the same key. */
  rawBody?: unknown;
  /** Work that must commit with the call or not at all (a task claimed for it); may throw to refuse. */
  within?: (trx: Transaction<Database>, call: CallRow) => Promise<void>;
}

export interface EndResult {
  alreadyClosed: boolean;
  call: CallRow;
}

export interface TransitionFields {
  reason?: string;
  error?: string;
  answeredBy?: string;
  outcome?: string;
  goalCompleted?: boolean;
  summary?: string;
  extracted?: unknown;
  /** Connected seconds measured on the session's clock (the simulated network may run fast). */
  durationSeconds?: number;
  /**
   * What the call used, as its adapters reported it (core/credits/usage.ts); priced and charged when the
   * call ends. Connected time not given is the duration. A call ended without its session (the reaper, an
   * end with the session gone) is priced on its connected time alone.
   */
  usage?: Partial<CallUsage>;
  brain?: string;
}

/** 001: "already active AI (400)". */
function aiAlreadyActive(): SwitchboardError {
  return new SwitchboardError('SB_ERR_VALIDATION', 'AI is already active for this call', { reason: 'ai_already_active' });
}

/** Kept here too: it used to live in this file. */
export { toCallEvent };

const IDEMPOTENCY_WINDOW_MS = 24 * 3600 * 1000;

function bodyHash(body: unknown): string {
  return createHash('sha256').update(JSON.stringify(body ?? null)).digest('hex');
}

export class CallService {
  private launcher: CallLauncher | undefined;
  private readonly webhookEventsCache = new Map<string, Promise<string[]>>();
  private acceptingCalls = true;

  constructor(private readonly o: CallServiceOptions) {}

  setLauncher(l: CallLauncher): void {
    this.launcher = l;
  }

  /** SIGTERM: new calls are refused from now on. */
  stopAcceptingCalls(): void {
    this.acceptingCalls = false;
  }

  // ---- starting -------------------------------------------------------------------------------

  /**
   * The voice `req` speaks with (core/voice). The call was checked when it started; should the server's
   * providers have changed since, the call still speaks, with `auto`'s choice for its language.
   */
  voiceOf(req: CallRequest): VoiceChoice {
    return voiceForCall(req, this.o.ttsProviders ?? []);
  }


  /**
   * Stores a new call as `queued` and hands it to the launcher. With an idempotency key (the header or
   * `metadata.client_request_id`), a retry of the same request returns the first call and dials nothing.
   */
  async start(orgId: string, req: CallRequest, opts: StartOptions = {}): Promise<{ call: CallRow; replayed: boolean }> {
    if (!this.acceptingCalls) throw new SwitchboardError('SB_ERR_SHUTTING_DOWN', 'Server is shutting down', {}, true);
    const keys = this.idempotencyKeys(req, opts);
    const hash = bodyHash(opts.rawBody ?? req);
    const prior = await this.findByIdempotency(orgId, keys, hash);
    if (prior) return { call: prior, replayed: true };

    if (this.o.checkDestination) {
      const reason = this.o.checkDestination(req.to);
      if (reason) throw validationError('phone_number', reason);
    }
    // The voice rules (400 naming the field); the engine resolves the same choice when the call is answered.
    if (this.o.ttsProviders) resolveVoice(req.voice, req.language, this.o.ttsProviders);
    if (req.userOnCall) req = this.prepareUserOnCall(req);
    if (req.fromNumber && !(await this.mayCallFrom(orgId, req.fromNumber))) {
      throw new SwitchboardError('SB_ERR_FROM_NOT_VERIFIED', 'from_number is not a verified caller ID', { field: 'from_number' });
    }
    await this.o.credits.guard(orgId);

    let dialingEnqueued = false;
    let dial: JobRow | undefined;
    // With a free line here the call starts on this node at once (its dial job stored already claimed);
    // otherwise it waits as `queued` for the first node with a free line.
    const local = this.launcher?.reserve() ?? false;
    const dialJob = (callId: string): NewJob => ({
      kind: DIAL_JOB,
      key: dialJobKey(callId),
      payload: { callId } satisfies DialJob,
      // Retried only while the database is unreachable (see Dialer.dialJob); a failed launch ends the call.
      maxAttempts: 100,
      lockedBy: local ? this.o.nodeId : undefined,
    });
    // The usual start (no idempotency key, nothing to commit with it, no `call_dialing` webhook): the call
    // and its dial job are stored by one statement, atomic as the transaction below (three statements fewer).
    if (!opts.within && keys.length === 0 && !req.webhook?.events.includes('call_dialing')) {
      const row = withRoom(newCallRow(orgId, req, this.o.carrierName), req);
      const job = jobValues(dialJob(row.id));
      const stored = await this.o.db
        .with('call', (db) => db.insertInto('calls').values(row).returningAll())
        .with('dial', (db) => db.insertInto('jobs').values(job).returning(['id', 'created_at']))
        .selectFrom(['call', 'dial'])
        .selectAll('call')
        .select(['dial.id as dial_id', 'dial.created_at as dial_created_at'])
        .executeTakeFirstOrThrow()
        .catch((e: unknown) => {
          if (local) this.launcher?.release();
          throw e;
        });
      const { dial_id, dial_created_at, ...call } = stored;
      if (local) this.launcher?.launch(storedJob(job, dial_id, dial_created_at));
      else this.o.wakeDials?.();
      return { call, replayed: false };
    }
    const inserted = await this.o.db.transaction().execute(async (trx) => {
      const call = await trx
        .insertInto('calls')
        .values(withRoom(newCallRow(orgId, req, this.o.carrierName), req))
        .returningAll()
        .executeTakeFirstOrThrow();
      await opts.within?.(trx, call);
      dial = await enqueueJob(trx, dialJob(call.id));
      // Faces that announce dialling (agents/tasks' call_started) get it in the same transaction.
      dialingEnqueued = await this.enqueueWebhooks(trx, call, 'call_dialing', []);
      for (const key of keys) {
        const r = await trx
          .insertInto('idempotency_keys')
          .values({ org_id: orgId, key, body_hash: hash, call_id: call.id })
          .onConflict((oc) => oc.columns(['org_id', 'key']).doNothing())
          .executeTakeFirst();
        // Someone else stored this key first (a concurrent retry): give up ours and answer theirs.
        if (Number(r.numInsertedOrUpdatedRows ?? 0) === 0) throw new IdempotencyRace();
      }
      return call;
    }).catch(async (e) => {
      if (local) this.launcher?.release();
      if (e instanceof IdempotencyRace) return null;
      throw e;
    });
    if (!inserted) {
      const winner = await this.findByIdempotency(orgId, keys, hash);
      if (winner) return { call: winner, replayed: true };
      throw new SwitchboardError('SB_ERR_IDEMPOTENCY_MISMATCH', 'Idempotency key is being used by another request', {});
    }
    if (local && dial) this.launcher?.launch(dial);
    else {
      if (local) this.launcher?.release();
      this.o.wakeDials?.();
    }
    if (dialingEnqueued) this.o.wakeJobs?.();
    return { call: inserted, replayed: false };
  }

  /**
   * Stores a call that rings one of our numbers (`req.direction` inbound, `fromNumber` the caller, `to` our
   * number) as `ringing`; the engine answers it at once. No launcher: the engine that took the call runs it.
   */
  async startInbound(orgId: string, req: CallRequest, brain?: string): Promise<CallRow> {
    if (!this.acceptingCalls) throw new SwitchboardError('SB_ERR_SHUTTING_DOWN', 'Server is shutting down', {}, true);
    await this.o.credits.guard(orgId);
    const call = await this.o.db
      .insertInto('calls')
      .values({
        ...newCallRow(orgId, { ...req, direction: 'inbound' }, this.o.carrierName),
        direction: 'inbound',
        status: 'ringing',
        // Owned from the first moment: if this node dies before its session starts, the call is reaped.
        owner_node: this.o.nodeId,
        ...(brain ? { brain } : {}),
        task_id: null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    this.knowWebhookEvents(call);
    await this.record(call.id, { type: 'status', status: 'ringing' });
    return call;
  }

  /**
   * The call an earlier request with this idempotency key started (null when none); a different body under
   * the same key is refused. For routes that do more than start a call (executing a task).
   */
  async replay(orgId: string, idempotencyKey: string, rawBody: unknown): Promise<CallRow | null> {
    return this.findByIdempotency(orgId, ['hdr:' + idempotencyKey], bodyHash(rawBody));
  }

  private idempotencyKeys(req: CallRequest, opts: StartOptions): string[] {
    const keys: string[] = [];
    if (opts.idempotencyKey) keys.push('hdr:' + opts.idempotencyKey);
    const crid = req.metadata?.client_request_id;
    if (typeof crid === 'string' && crid) keys.push('crid:' + crid);
    return keys;
  }

  private async findByIdempotency(orgId: string, keys: string[], hash: string): Promise<CallRow | null> {
    if (keys.length === 0) return null;
    const rows = await this.o.db
      .selectFrom('idempotency_keys')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('key', 'in', keys)
      .where('created_at', '>', new Date(Date.now() - IDEMPOTENCY_WINDOW_MS))
      .execute();
    if (rows.length === 0) return null;
    if (rows.some((r) => r.body_hash !== hash)) {
      throw new SwitchboardError(
        'SB_ERR_IDEMPOTENCY_MISMATCH',
        'Idempotency key was already used with a different request body',
        { field: rows[0].key.startsWith('crid:') ? 'metadata.client_request_id' : 'Idempotency-Key' },
      );
    }
    return (await this.o.db.selectFrom('calls').selectAll().where('id', '=', rows[0].call_id).executeTakeFirst()) ?? null;
  }

  /**
   * Whether the organisation may show `number` as caller ID: a verified caller ID or one of its own
   * numbers (`phone_numbers`).
   */
  async mayCallFrom(orgId: string, number: string): Promise<boolean> {
    const own = await this.o.db.selectFrom('phone_numbers').select('id').where('org_id', '=', orgId).where('number', '=', number).executeTakeFirst();
    if (own) return true;
    const verified = await this.o.db
      .selectFrom('caller_ids')
      .select('phone_number')
      .where('org_id', '=', orgId)
      .where('phone_number', '=', number)
      .executeTakeFirst();
    return !!verified;
  }

  // ---- reading --------------------------------------------------------------------------------

  /** A call of this organisation by UUID or sid; another organisation's call is simply not found. */
  async find(orgId: string, idOrSid: string): Promise<CallRow> {
    const call = await this.findAny(idOrSid);
    if (!call || call.org_id !== orgId) throw notFound('Call');
    return call;
  }

  /** The call `idOrSid` names (naming.ts: UUID, sid or the carrier's sid), of any organisation. */
  async findAny(idOrSid: string): Promise<CallRow | undefined> {
    const named = namedCall(idOrSid);
    return named ? this.o.db.selectFrom('calls').selectAll().where(named).executeTakeFirst() : undefined;
  }

  async transcript(callId: string, afterSeq = 0): Promise<CallEventRow[]> {
    return this.o.db
      .selectFrom('call_events')
      .selectAll()
      .where('call_id', '=', callId)
      .where('kind', '=', 'transcript')
      .where('seq', '>', afterSeq)
      .orderBy('seq')
      .execute();
  }

  /** Stores one turn's latency figures (004's names). */
  async recordTurn(callId: string, turn: number, t: TurnFigures): Promise<void> {
    await retryOnConnectionLoss(() => this.o.db.insertInto('call_turns').values(turnRow(callId, turn, t)).execute());
  }

  async turns(callId: string) {
    return this.o.db.selectFrom('call_turns').selectAll().where('call_id', '=', callId).orderBy('turn').execute();
  }

  /** How many transcript segments, commands and supervisor overrides a call had. */
  async eventCounts(callId: string): Promise<{ transcript: number; command: number; override: number }> {
    const rows = await retryOnConnectionLoss(() =>
      this.o.db
        .selectFrom('call_events')
        .select(['kind', (eb) => eb.fn.countAll<string>().as('n')])
        .where('call_id', '=', callId)
        .groupBy('kind')
        .execute(),
    );
    const n = (k: string) => Number(rows.find((r) => r.kind === k)?.n ?? 0);
    return { transcript: n('transcript'), command: n('command'), override: n('override') };
  }

  /** The agent's unanswered question to the operator, if any (the last `ask_operator` not yet answered). */
  async pendingQuestion(callId: string): Promise<PendingQuestion | null> {
    const rows = await this.o.db
      .selectFrom('call_events')
      .select(['data', 'created_at'])
      .where('call_id', '=', callId)
      .where('kind', 'in', ['command', 'override'])
      .orderBy('seq', 'desc')
      .limit(50)
      .execute();
    return pendingQuestionIn(rows);
  }

  /** A call of this organisation with its transcript, pending question and turn figures: one statement. */
  async details(orgId: string, idOrSid: string): Promise<CallDetails> {
    const details = await readCallDetails(this.o.db, idOrSid);
    if (!details || details.call.org_id !== orgId) throw notFound('Call');
    return details;
  }

  requestOf(call: Pick<CallRow, 'request'>): CallRequest {
    return call.request;
  }

  /**
   * Follows a call of this organisation: its stored events after `afterSeq`, then live ones, each once and
   * in order, ending after its end state (see follow.ts). Not found before the first event if the call is not
   * the organisation's. A reader that falls too far behind gets `FollowerTooSlowError`.
   */
  async *follow(orgId: string, idOrSid: string, opts: FollowOptions = {}): AsyncGenerator<CallEvent> {
    const call = await this.find(orgId, idOrSid);
    yield* followCall(this.o, call.id, opts);
  }

  // ---- ending ---------------------------------------------------------------------------------

  /**
   * Ends a call (`by`: the supervisor who ended it, stored as an override). The command goes over the bus to the session that owns the call (on whichever node);
   * when no session answers in time (its node died), the call is closed here as `canceled`/`failed`.
   */
  async end(orgId: string, idOrSid: string, by?: string): Promise<EndResult> {
    const call = await this.find(orgId, idOrSid);
    if (isTerminal(call.status)) return { alreadyClosed: true, call };
    // A call still waiting for a line has no session: it is canceled here, unless a node takes it meanwhile.
    if (isWaiting(call) && (await this.transition(call.id, 'canceled', { reason: 'ended_by_api' }, isWaiting))) {
      return { alreadyClosed: false, call: await this.find(orgId, call.id) };
    }
    // Given `by`, a person (a supervisor) ended it: the session stores that as an override.
    const reply = await this.command(call.id, by ? { type: 'end', reason: 'ended_by_supervisor', by } : { type: 'end', reason: 'ended_by_api' });
    // Not sent is not unanswered: the session may be alive, so the call is not closed behind its back.
    if (reply.error === BUS_UNAVAILABLE) throw unavailable();
    if (!reply.ok) {
      const to: CallState = call.status === 'in_progress' ? 'failed' : 'canceled';
      await this.transition(call.id, to, { reason: 'ended_by_api', error: reply.error ?? 'session_unreachable' });
    }
    const after = await this.find(orgId, call.id);
    return { alreadyClosed: false, call: after };
  }

  /**
   * Cancels a call: it ends `failed` (reason `canceled_by_api`) at once, whatever the session would have
   * called its end, then the session (if any) is told to hang up; its own end is refused by the state machine.
   */
  async cancel(orgId: string, idOrSid: string): Promise<EndResult> {
    const call = await this.find(orgId, idOrSid);
    if (isTerminal(call.status)) return { alreadyClosed: true, call };
    await this.transition(call.id, 'failed', { reason: 'canceled_by_api', error: 'canceled' });
    await this.command(call.id, { type: 'end', reason: 'canceled_by_api' });
    return { alreadyClosed: false, call: await this.find(orgId, call.id) };
  }

  /**
   * Changes a live call: stored on the call's request and sent to its session, which applies them at the
   * agent's next turn. An ended call cannot be changed (409).
   */
  async update(orgId: string, idOrSid: string, changes: LiveChanges): Promise<CallRow> {
    const call = await this.liveCall(orgId, idOrSid);
    await this.storeChanges(call, changes);
    await this.mustReach(call.id, { type: 'update', changes });
    return this.find(orgId, call.id);
  }

  /** Answers the question the agent asked the operator (see the `ask_operator` tool); `by`: who answered. */
  async answerOperator(orgId: string, idOrSid: string, answer: string, by?: string): Promise<void> {
    const call = await this.liveCall(orgId, idOrSid);
    await this.mustReach(call.id, { type: 'operator_answer', answer, ...(by ? { by } : {}) });
  }

  /** Transfers a live call to `to` (warm by default, as 001); `by`: the supervisor who asked. */
  async transfer(orgId: string, idOrSid: string, to: string, warm: boolean, reason?: string, by?: string): Promise<CallRow> {
    const call = await this.connectedCall(orgId, idOrSid);
    await this.mustReach(call.id, { type: 'transfer', to, warm, reason, ...(by ? { by } : {}) });
    return call;
  }

  /**
   * A supervisor's command to a connected call: say a line (at once, or after the sentence being said),
   * or press keys. The session stores it as an override with `by`.
   */
  async supervise(orgId: string, idOrSid: string, command: Extract<CallCommand, { type: 'say' | 'press' }>): Promise<CallRow> {
    const call = await this.connectedCall(orgId, idOrSid);
    await this.mustReach(call.id, command);
    return call;
  }

  // ---- user-on-call (001) -----------------------------------------------------------------------

  /**
   * Checks a user-on-call request against the carrier (it must support it; the user's phone must be
   * reachable, like the target) and gives the session its ids: the user's leg sid and a session id.
   */
  private prepareUserOnCall(req: CallRequest): CallRequest {
    if (!this.o.userOnCall) throw validationError('userOnCall', 'userOnCall is not supported by this server’s carrier');
    const user = req.userOnCall!;
    if (user.userPhone === req.to) throw validationError('userPhone', 'userPhone must differ from phone_number');
    const reason = this.o.checkDestination?.(user.userPhone);
    if (reason) throw validationError('userPhone', reason);
    return { ...req, userOnCall: { userPhone: user.userPhone, userCallSid: newCallSid(), sessionId: newId() } };
  }

  /** The organisation's user-on-call call, or 404 `Call not found or not a userOnCall session` (001). */
  async userOnCallSession(orgId: string, idOrSid: string): Promise<CallRow & { conference: RoomState }> {
    const call = await this.find(orgId, idOrSid).catch(() => undefined);
    if (!call?.conference || !this.requestOf(call).userOnCall) throw new SwitchboardError('SB_ERR_NOT_FOUND', 'Call not found or not a userOnCall session', { resource: 'Call' });
    return call as CallRow & { conference: RoomState };
  }

  /**
   * The agent takes over a connected user-on-call session (`POST …/activate`): the changes (task, extra
   * prompt, transfer number) are stored on the call and applied by the session, which moves the target to
   * the agent and, with `dropUser`, ends the user's leg. 400 once the agent was asked to take over already or
   * before the room is connected (or `dropUser: false` where the carrier cannot keep the user in the room);
   * 500 when the carrier failed to move a leg.
   */
  async activate(orgId: string, idOrSid: string, o: { dropUser: boolean; changes: LiveChanges }, by?: string): Promise<CallRow> {
    const call = await this.userOnCallSession(orgId, idOrSid);
    if (isTerminal(call.status)) throw new SwitchboardError('SB_ERR_CALL_NOT_ACTIVE', 'Call has already ended', { status: call.status });
    if (TAKEN_OVER.has(call.conference.state)) throw aiAlreadyActive();
    if (!o.dropUser && !this.o.userOnCall?.threeWay) {
      throw validationError('drop_user', 'drop_user: false is not supported by this server’s carrier (the user cannot stay with the agent)');
    }
    // The stored room answers first (a session still being dialled may not take commands yet).
    if (call.conference.state === 'initiated') throw notConnectedYet(call.conference.state);
    await this.storeChanges(call, o.changes);
    const reply = await this.command(call.id, { type: 'activate', dropUser: o.dropUser, changes: o.changes, ...(by ? { by } : {}) });
    if (reply.error === BUS_UNAVAILABLE) throw unavailable();
    if (reply.error === 'already_active') throw aiAlreadyActive();
    if (reply.error === 'not_connected') throw notConnectedYet(call.conference.state);
    if (reply.error === 'carrier_failed') throw new SwitchboardError('SB_ERR_CARRIER_FAILED', 'Failed to redirect the call to the AI', {}, true);
    if (!reply.ok) throw new SwitchboardError('SB_ERR_CALL_NOT_ACTIVE', 'Call session is not reachable', { reason: reply.error });
    return this.find(orgId, call.id);
  }

  /** Ends the user's leg of a user-on-call session (`POST …/drop-user`); the call goes on. Idempotent. */
  async dropUser(orgId: string, idOrSid: string, by?: string): Promise<CallRow> {
    const call = await this.userOnCallSession(orgId, idOrSid);
    if (isTerminal(call.status)) throw new SwitchboardError('SB_ERR_CALL_NOT_ACTIVE', 'Call has already ended', { status: call.status });
    const reply = await this.command(call.id, { type: 'drop_user', ...(by ? { by } : {}) });
    if (reply.error === BUS_UNAVAILABLE) throw unavailable();
    if (reply.error === 'carrier_failed') throw new SwitchboardError('SB_ERR_CARRIER_FAILED', 'Failed to disconnect the user', {}, true);
    if (!reply.ok) throw new SwitchboardError('SB_ERR_CALL_NOT_ACTIVE', 'Call session is not reachable', { reason: reply.error });
    return this.find(orgId, call.id);
  }

  /**
   * A person at the dashboard speaks as the user of a user-on-call session (`POST …/user-say`): the line is
   * said in the room and enters the transcript as the user's (`operator`). 400 while the user is not in the
   * room, or where the carrier's user leg is a real phone (the user speaks into it).
   */
  async userSay(orgId: string, idOrSid: string, text: string, by?: string): Promise<CallRow> {
    const call = await this.userOnCallSession(orgId, idOrSid);
    if (isTerminal(call.status)) throw new SwitchboardError('SB_ERR_CALL_NOT_ACTIVE', 'Call has already ended', { status: call.status });
    // The stored room answers first (a session still being dialled may not take commands yet).
    const notInRoom = () => validationError('text', 'The user is not in the room: nothing can be said as the user now');
    if (!call.conference.participants.some((p) => p.role === 'user' && p.status === 'connected')) throw notInRoom();
    const reply = await this.command(call.id, { type: 'user_say', text, ...(by ? { by } : {}) });
    if (reply.error === BUS_UNAVAILABLE) throw unavailable();
    if (reply.error === 'user_not_in_room') throw notInRoom();
    if (reply.error === 'not_supported') throw validationError('text', 'This carrier’s user leg is a real phone: the user speaks into it');
    if (!reply.ok) throw new SwitchboardError('SB_ERR_CALL_NOT_ACTIVE', 'Call session is not reachable', { reason: reply.error });
    return this.find(orgId, call.id);
  }

  /** Stores how a user-on-call session stands (called by the engine on every change). */
  async setRoom(callId: string, room: RoomState): Promise<void> {
    await retryOnConnectionLoss(() => this.o.db.updateTable('calls').set({ conference: JSON.stringify(room), updated_at: new Date() }).where('id', '=', callId).execute());
  }

  /** Stores live changes on the call's request (read by a session that starts later, and by GET). */
  private async storeChanges(call: CallRow, changes: LiveChanges): Promise<void> {
    const req = this.requestOf(call);
    const next: CallRequest = {
      ...req,
      ...(changes.task !== undefined ? { task: changes.task } : {}),
      ...(changes.transferNumber !== undefined ? { transferNumber: changes.transferNumber } : {}),
      ...(changes.additionalPrompt !== undefined
        ? { additionalPrompt: [req.additionalPrompt, changes.additionalPrompt].filter(Boolean).join('\n') }
        : {}),
      ...(changes.maxDurationSeconds !== undefined ? { maxDurationSeconds: changes.maxDurationSeconds } : {}),
    };
    await this.o.db.updateTable('calls').set({ request: JSON.stringify(next), updated_at: new Date() }).where('id', '=', call.id).execute();
  }

  private async connectedCall(orgId: string, idOrSid: string): Promise<CallRow> {
    const call = await this.liveCall(orgId, idOrSid);
    if (call.status !== 'in_progress') {
      throw new SwitchboardError('SB_ERR_CALL_NOT_ACTIVE', 'Call is not connected', { status: call.status });
    }
    return call;
  }

  private async liveCall(orgId: string, idOrSid: string): Promise<CallRow> {
    const call = await this.find(orgId, idOrSid);
    if (isTerminal(call.status)) throw new SwitchboardError('SB_ERR_CALL_NOT_ACTIVE', 'Call has already ended', { status: call.status });
    return call;
  }

  private async mustReach(callId: string, command: CallCommand): Promise<void> {
    const reply = await this.command(callId, command);
    if (reply.error === BUS_UNAVAILABLE) throw unavailable();
    if (!reply.ok) {
      throw new SwitchboardError('SB_ERR_CALL_NOT_ACTIVE', reply.error === 'no_pending_question' ? 'No pending question for this call' : 'Call session is not reachable', { reason: reply.error });
    }
  }

  /**
   * Sends a command to the session owning the call and waits for its acknowledgement: `session_unreachable`
   * when nobody answers in time, `bus_unavailable` when the command could not even be sent (Redis away). A
   * call waiting for a line has no session yet: changes are already stored on it (read when it starts).
   */
  async command(callId: string, command: CallCommand): Promise<CommandReply> {
    const now = await this.findAny(callId);
    if (now && isWaiting(now)) return command.type === 'update' ? { ok: true } : { ok: false, error: 'not_connected' };
    const replyTo = randomUUID();
    let answer!: (r: CommandReply) => void;
    const reply = new Promise<CommandReply>((resolve) => (answer = resolve));
    const timer = setTimeout(() => answer({ ok: false, error: 'session_unreachable' }), this.o.commandTimeoutMs ?? 3000);
    timer.unref();
    let unsubscribe: (() => Promise<void>) | undefined;
    try {
      unsubscribe = await this.o.bus.subscribe(channels.commandReplies(replyTo), (m) => answer(m as CommandReply));
      const env: CommandEnvelope = { command, replyTo };
      await this.o.bus.publish(channels.callCommands(callId), env);
      return await reply;
    } catch (err) {
      this.o.log.warn({ err, callId, command: command.type }, 'call command not sent');
      return { ok: false, error: BUS_UNAVAILABLE };
    } finally {
      clearTimeout(timer);
      if (unsubscribe) background(this.o.log, 'command reply unsubscribe failed', unsubscribe(), { callId });
    }
  }

  /** Publishes what was stored: a follower that misses it (the bus is away) still finds it in the call's log. */
  private async announce(callId: string, event: CallEvent): Promise<void> {
    try {
      await this.o.bus.publish(channels.callEvents(callId), event);
    } catch (err) {
      this.o.log.warn({ err, callId, seq: event.seq }, 'call event not published');
    }
  }

  // ---- recording what happens (called by the engine) -------------------------------------------

  /**
   * Takes a call waiting for a line for this node's session: the call (now owned by `nodeId`), or undefined
   * when it is no longer waiting (ended meanwhile, or another node took it). A call this node already owns
   * comes back too (its claim was stored but the answer lost): it has not been dialled.
   */
  async claimQueued(callId: string, nodeId: string, brain?: string): Promise<CallRow | undefined> {
    const call = await this.o.db
      .updateTable('calls')
      // The brain that will carry it, stored by the same statement (the session then has nothing to store).
      .set({ owner_node: nodeId, ...(brain ? { brain } : {}), updated_at: new Date() })
      .where('id', '=', callId)
      .where('status', '=', 'queued')
      .where((eb) => eb.or([eb('owner_node', 'is', null), eb('owner_node', '=', nodeId)]))
      .returningAll()
      .executeTakeFirst();
    if (call) this.knowWebhookEvents(call);
    return call;
  }

  /** Claims a call for this node's session (the owner receives its commands). */
  /** Keeps the carrier's own id of the call, so the call can be found by it too (findAny). */
  async setCarrierCallSid(callId: string, carrierCallSid: string): Promise<void> {
    await retryOnConnectionLoss(() =>
      this.o.db.updateTable('calls').set({ carrier_call_sid: carrierCallSid, updated_at: new Date() }).where('id', '=', callId).execute(),
    );
  }

  async setOwner(callId: string, nodeId: string | null, brain?: string): Promise<void> {
    await retryOnConnectionLoss(() =>
      this.o.db
        .updateTable('calls')
        .set({ owner_node: nodeId, ...(brain ? { brain } : {}), updated_at: new Date() })
        .where('id', '=', callId)
        .execute(),
    );
  }

  /** Appends an event to the call's log, with its webhooks, and publishes it. Returns the stored event. */
  async record(callId: string, e: NewCallEvent, turn?: { turn: number; latency: TurnFigures }): Promise<CallEvent> {
    let enqueued = false;
    // A line lost with its connection is written again (the rare lost COMMIT may store it twice).
    const stored = await retryOnConnectionLoss(async (): Promise<CallEventRow> => {
      if (e.type === 'transcript' && (await this.webhookEvents(callId)).includes('transcript_updated')) {
        return this.o.db.transaction().execute(async (trx) => {
          const { seq, call } = await this.nextSeq(trx, callId);
          const row = await this.insertEvent(trx, callId, seq, e);
          if (turn) await trx.insertInto('call_turns').values(turnRow(callId, turn.turn, turn.latency)).execute();
          enqueued = await this.enqueueWebhooks(trx, call, 'transcript_updated', [row]);
          return row;
        });
      }
      // The hot path (every transcript line): one statement takes the sequence number and inserts, and
      // stores the figures of the turn the line belongs to when they came with it (see CallSession); a
      // statement run again after a lost COMMIT finds the turn already stored.
      const v = eventValues(e);
      const t = turn && turnRow(callId, turn.turn, turn.latency);
      const withTurn = t
        ? sql`, t as (insert into call_turns (call_id, turn, transcript_to_gpt_ms, gpt_first_token_ms, first_audio_playback_ms, stt_final_ms, tts_first_byte_ms)
            values (${callId}, ${t.turn}, ${t.transcript_to_gpt_ms}, ${t.gpt_first_token_ms}, ${t.first_audio_playback_ms}, ${t.stt_final_ms}, ${t.tts_first_byte_ms})
            on conflict (call_id, turn) do nothing)`
        : sql``;
      const r = await sql<CallEventRow>`
        with c as (update calls set next_seq = next_seq + 1 where id = ${callId} returning next_seq - 1 as seq)${withTurn}
        insert into call_events (call_id, seq, kind, role, text, data)
        select ${callId}, c.seq, ${v.kind}, ${v.role}, ${v.text}, ${v.data}::jsonb from c
        returning *`.execute(this.o.db);
      if (!r.rows[0]) throw notFound('Call');
      return r.rows[0];
    });
    const event = toCallEvent(stored);
    await this.announce(callId, event);
    if (enqueued) this.o.wakeJobs?.();
    return event;
  }

  /** Keeps the webhook events of a call this node is about to carry: its events then need no lookup. */
  private knowWebhookEvents(call: Pick<CallRow, 'id' | 'request'>): void {
    if (this.webhookEventsCache.size > 10_000) this.webhookEventsCache.clear();
    this.webhookEventsCache.set(call.id, Promise.resolve(this.requestOf(call).webhook?.events ?? []));
  }

  /** The webhook events a call asked for (they never change during a call, so they are kept in memory). */
  private webhookEvents(callId: string): Promise<string[]> {
    const hit = this.webhookEventsCache.get(callId);
    if (hit) return hit;
    // The promise is cached, so concurrent first writes of one call share a single lookup.
    const lookup = this.o.db
      .selectFrom('calls')
      .select('request')
      .where('id', '=', callId)
      .executeTakeFirst()
      .then((row) => row?.request.webhook?.events ?? []);
    if (this.webhookEventsCache.size > 10_000) this.webhookEventsCache.clear();
    this.webhookEventsCache.set(callId, lookup);
    lookup.catch(() => this.webhookEventsCache.delete(callId));
    return lookup;
  }



  /**
   * Moves the call to `to` if the state machine allows it (never backwards, never out of an end state);
   * returns false and changes nothing otherwise. Reaching an end state prices the call and enqueues
   * `call_completed` (and `price_updated`) in the same transaction, and drops its dial job if it never ran.
   * `guard`, checked on the locked row, can refuse the move too (the reaper: only if its owner is still dead).
   */
  async transition(callId: string, to: CallState, f: TransitionFields = {}, guard?: TransitionGuard): Promise<boolean> {
    if (!isTerminal(to) && !guard && !(to === 'in_progress' && (await this.webhookEvents(callId)).includes('call_started'))) {
      return this.moveAlone(callId, to, f);
    }
    let enqueued = false;
    // Run again when the connection is lost under it: a call must reach its end state. A lost COMMIT that
    // did commit is harmless to repeat: the state machine refuses the second move.
    const result = await retryOnConnectionLoss(() => this.o.db.transaction().execute(async (trx) => {
      const call = await trx.selectFrom('calls').selectAll().where('id', '=', callId).forUpdate().executeTakeFirst();
      if (!call || !canMove(call.status as CallState, to)) return null;
      if (guard && !(await guard(call, trx))) return null;
      const now = new Date();
      const terminal = isTerminal(to);
      const connected = f.durationSeconds ?? (call.answered_at ? Math.max(0, (now.getTime() - new Date(call.answered_at).getTime()) / 1000) : 0);
      const wasConnected = Boolean(call.answered_at) || to === 'completed' || to === 'voicemail';
      const usage: CallUsage = { ...emptyUsage(), ...f.usage, connectedSeconds: wasConnected ? (f.usage?.connectedSeconds ?? connected) : 0 };
      // Priced, stored and (billing on) charged once: the state machine lets a call end only once, and the
      // ledger keeps one charge per call besides.
      const price = terminal ? await this.o.credits.settle(trx, call, usage) : undefined;
      // One statement moves the call, stores its status event (the row is locked above, so the event's
      // sequence number is the one the update takes: the row's `next_seq`) and, at the end, drops its dial
      // job if it never ran. The event's time is the transaction's `now()`, its column's default.
      const event = eventValues({ type: 'status', status: to, reason: f.reason });
      const { event_at, ...updated } = await trx
        .with('event', (db) => db.insertInto('call_events').values({ call_id: callId, seq: call.next_seq, ...event }))
        .with('dial', (db) => db.deleteFrom('jobs').where('key', '=', dialJobKey(callId)).where(sql<boolean>`${terminal}`))
        .updateTable('calls')
        .set({
          ...movedColumns(to, f, now),
          ...(terminal
            ? { ended_at: now, duration_seconds: Math.round(connected), credits_charged: price!.credits, cost_usd: price!.costUsd, owner_node: null }
            : {}),
        })
        .where('id', '=', callId)
        .returningAll()
        .returning(sql<Date>`now()`.as('event_at'))
        .executeTakeFirstOrThrow();
      const row: CallEventRow = { call_id: callId, seq: call.next_seq, ...event, data: event.data === null ? null : JSON.parse(event.data), created_at: event_at };
      if (terminal && updated.task_id) {
        // The task follows its call's end: completed when the call completed, failed otherwise.
        await trx
          .updateTable('tasks')
          .set({
            status: to === 'completed' ? 'completed' : 'failed',
            last_error: to === 'completed' ? null : (f.error ?? f.reason ?? to),
            completed_at: now,
            updated_at: now,
          })
          .where('id', '=', updated.task_id)
          .where('status', '=', 'in_progress')
          .where((eb) => eb.or([eb('call_id', '=', callId), eb('call_id', 'is', null)]))
          .execute();
      }
      if (to === 'in_progress') enqueued = (await this.enqueueWebhooks(trx, updated, 'call_started', [])) || enqueued;
      if (terminal) {
        // The transcript goes into `call_completed` only: not read for a call that did not ask for it.
        const transcripts = this.wantsWebhook(updated, 'call_completed')
          ? await trx.selectFrom('call_events').selectAll().where('call_id', '=', callId).where('kind', '=', 'transcript').orderBy('seq').execute()
          : [];
        enqueued = (await this.enqueueWebhooks(trx, updated, 'call_completed', transcripts)) || enqueued;
        // After the charge above (same transaction), so the price it tells is the final one.
        const priced = { credits: price!.credits, cost_breakdown: price!.costBreakdown };
        enqueued = (await this.enqueueWebhooks(trx, updated, 'price_updated', [], priced)) || enqueued;
      }
      return row;
    }));
    if (!result) return false;
    if (isTerminal(to)) this.webhookEventsCache.delete(callId);
    await this.announce(callId, toCallEvent(result));
    if (enqueued) this.o.wakeJobs?.();
    return true;
  }

  /**
   * A move that needs nothing but the call's own row (not an end: nothing to price; no guard; no webhook):
   * one statement moves the call if the state machine allows it (`status in (…)`, checked again on the row
   * a concurrent move left, as PostgreSQL does for an UPDATE's WHERE) and stores its status event with the
   * sequence number the same update took. It replaces a transaction of five statements (begin, lock, update,
   * insert, commit), twice per call (ringing, answered).
   */
  private async moveAlone(callId: string, to: CallState, f: TransitionFields): Promise<boolean> {
    const v = eventValues({ type: 'status', status: to, reason: f.reason });
    const stored = await retryOnConnectionLoss(() =>
      this.o.db
        .with('moved', (db) =>
          db
            .updateTable('calls')
            .set(movedColumns(to, f, new Date()))
            .where('id', '=', callId)
            .where('status', 'in', statesBefore(to))
            .returning(['id', 'next_seq']),
        )
        .insertInto('call_events')
        .columns(['call_id', 'seq', 'kind', 'role', 'text', 'data'])
        .expression((eb) =>
          eb
            .selectFrom('moved')
            .select([
              'moved.id',
              sql<number>`moved.next_seq - 1`.as('seq'),
              sql<string>`${v.kind}`.as('kind'),
              sql<null>`null`.as('role'),
              sql<null>`null`.as('text'),
              sql<string>`${v.data}::jsonb`.as('data'),
            ]),
        )
        .returningAll()
        .executeTakeFirst(),
    );
    if (!stored) return false;
    await this.announce(callId, toCallEvent(stored));
    return true;
  }

  /** Live calls (queued, ringing, in progress), those owned by `nodeId` when given. */
  async liveCalls(nodeId?: string): Promise<CallRow[]> {
    let q = this.o.db.selectFrom('calls').selectAll().where('status', 'in', ['queued', 'ringing', 'in_progress']);
    if (nodeId) q = q.where('owner_node', '=', nodeId);
    return q.execute();
  }

  private async nextSeq(trx: Transaction<Database>, callId: string): Promise<{ seq: number; call: CallRow }> {
    const call = await trx
      .updateTable('calls')
      .set({ next_seq: sql`next_seq + 1` })
      .where('id', '=', callId)
      .returningAll()
      .executeTakeFirst();
    if (!call) throw notFound('Call');
    return { seq: call.next_seq - 1, call };
  }

  private async insertEvent(trx: Transaction<Database>, callId: string, seq: number, e: NewCallEvent): Promise<CallEventRow> {
    return trx.insertInto('call_events').values({ call_id: callId, seq, ...eventValues(e) }).returningAll().executeTakeFirstOrThrow();
  }

  private wantsWebhook(call: CallRow, event: CallWebhookEvent): boolean {
    return this.requestOf(call).webhook?.events.includes(event) ?? false;
  }

  private async enqueueWebhooks(
    trx: Transaction<Database>,
    call: CallRow,
    event: CallWebhookEvent,
    transcripts: CallEventRow[],
    price?: { credits: number; cost_breakdown: Record<string, number> },
  ): Promise<boolean> {
    if (!this.wantsWebhook(call, event)) return false;
    const request = this.requestOf(call);
    if (!request.webhook) return false;
    const body = this.o.payloads.build({ event, call, request, transcripts, timestamp: Math.floor(Date.now() / 1000), price });
    if (body === null) return false;
    await enqueueWebhook(trx, { orgId: call.org_id, callId: call.id, event, url: request.webhook.url, body });
    return true;
  }
}

class IdempotencyRace extends Error {}

/** Checked on the locked call row inside a transition's transaction; false refuses the move. */
export type TransitionGuard = (call: CallRow, trx: Transaction<Database>) => boolean | Promise<boolean>;

/** One turn's latency figures, as the engine measures them (004's names). */
export interface TurnFigures {
  transcript_to_gpt_ms: number;
  gpt_first_token_ms: number | null;
  first_audio_playback_ms: number | null;
  stt_final_ms?: number | null;
  tts_first_byte_ms?: number | null;
}

/** A turn's row of `call_turns`. */
function turnRow(callId: string, turn: number, t: TurnFigures) {
  return { call_id: callId, turn, ...t, stt_final_ms: t.stt_final_ms ?? null, tts_first_byte_ms: t.tts_first_byte_ms ?? null };
}

/** The columns a move to `to` sets, end or not (an end adds its price and duration: see transition). */
function movedColumns(to: CallState, f: TransitionFields, now: Date) {
  return {
    status: to,
    next_seq: sql<number>`next_seq + 1`,
    updated_at: now,
    ...(to === 'in_progress' ? { answered_at: now } : {}),
    ...(f.answeredBy !== undefined ? { answered_by: f.answeredBy } : {}),
    ...(f.outcome !== undefined ? { outcome: f.outcome } : {}),
    ...(f.reason !== undefined ? { end_reason: f.reason } : {}),
    ...(f.error !== undefined ? { last_error: f.error } : {}),
    ...(f.goalCompleted !== undefined ? { goal_completed: f.goalCompleted } : {}),
    ...(f.summary !== undefined ? { summary: f.summary } : {}),
    ...(f.extracted !== undefined ? { extracted: JSON.stringify(f.extracted) } : {}),
    ...(f.brain !== undefined ? { brain: f.brain } : {}),
  };
}

/** Stored and waiting in the database for a node with a free line (no node has taken it yet). */
export function isWaiting(call: Pick<CallRow, 'status' | 'owner_node'>): boolean {
  return call.status === 'queued' && !call.owner_node;
}

/** A new call's columns: what the request says, and nothing yet of what will happen. */
function newCallRow(orgId: string, req: CallRequest, carrier: string) {
  return {
    id: newId(),
    sid: newCallSid(),
    org_id: orgId,
    direction: 'outbound',
    from_number: req.fromNumber ?? null,
    to_number: req.to,
    status: 'queued',
    request: JSON.stringify(req),
    carrier,
    brain: null,
    answered_by: null,
    outcome: null,
    end_reason: null,
    last_error: null,
    goal_completed: null,
    summary: null,
    extracted: null,
    duration_seconds: null,
    credits_charged: null,
    cost_usd: null,
    owner_node: null,
    answered_at: null,
    ended_at: null,
    agent_id: req.agent?.id ?? null,
    task_id: req.taskId ?? null,
  };
}

/** A user-on-call call starts with its room `initiated` (see ./user-on-call.ts). */
function withRoom<R extends ReturnType<typeof newCallRow>>(row: R, req: CallRequest): R & { conference: string | null } {
  const room = req.userOnCall?.userCallSid ? initialRoom(row.sid, req.userOnCall.userCallSid) : null;
  return { ...row, conference: room ? JSON.stringify(room) : null };
}

/** 400 for `activate` before the user and the target are both in the room (001). */
function notConnectedYet(state: string): SwitchboardError {
  return new SwitchboardError('SB_ERR_VALIDATION', 'Call is not connected yet: activate once the user and the target are connected', { state });
}
