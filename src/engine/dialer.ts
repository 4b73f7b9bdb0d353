/**
 * Starts calls on this node, at most `maxConcurrent` at a time (its lines; carriers limit calls per second
 * and per account as well). Calls that find no free line wait as `queued` in the database with their dial
 * job (core/calls/service.ts); the dial-job runner takes them while this node has free lines (`take`/`give`),
 * so any node of a cluster may start them, and ending one while it waits cancels it before it is dialled.
 */
import type { CallRow } from '../store/index.js';
import type { DialJob } from '../core/calls/service.js';
import type { CallRequest } from '../core/calls/request.js';
import type { InboundCall } from '../carriers/carrier.js';
import { RetryJob, type JobSlots } from '../jobs/runner.js';
import { background } from '../lib/background.js';
import { CallSession, type CallSessionDeps } from './call-session.js';
import { allBusyLine, notInServiceLine } from './lines.js';

/** Who answers a call to one of our numbers (core/calls/inbound.ts), or why nobody does. */
export type InboundRouter = (from: string, to: string) => Promise<{ ok: true; orgId: string; request: CallRequest } | { ok: false; reason: string }>;

/** What every session needs, and how many may run at once on this node. */
export interface DialerOptions extends CallSessionDeps {
  maxConcurrent: number;
  /** Routes inbound calls to their agents; without it every inbound call is refused. */
  routeInbound?: InboundRouter;
  /** A line came free: look for queued calls now rather than at the next poll. */
  onLineFree?: () => void;
}

/** How soon a dial job is tried again when the database could not be reached. */
const RETRY_MS = 1000;

export class Dialer implements JobSlots {
  private readonly live = new Map<string, CallSession>();
  /** Lines taken for calls being started (claimed dial jobs, calls stored to start here, inbound calls). */
  private reserved = 0;
  /** Calls whose launch failed and whose end could not be written yet (the dial job's retry writes it). */
  private readonly launchFailed = new Set<string>();
  private draining = false;

  constructor(private readonly o: DialerOptions) {}

  get liveCount(): number {
    return this.live.size;
  }

  /** Takes up to `max` free lines; returns how many it took. None while draining. */
  take(max: number): number {
    const free = this.draining ? 0 : this.o.maxConcurrent - this.live.size - this.reserved;
    const n = Math.max(0, Math.min(max, free));
    this.reserved += n;
    return n;
  }

  /** Gives back lines taken by `take` that no call used (the runner polls again on its own). */
  give(n: number): void {
    this.reserved -= Math.max(0, n);
  }

  /**
   * The `call.dial` job, run on a line taken for it: starts the queued call here unless it ended meanwhile
   * or another node has it. A database error before the call is ours retries the job (the call waits on);
   * once it is ours, a launch that fails ends it `failed` (reason `launch_failed`) and frees the line.
   */
  async dialJob({ callId }: DialJob): Promise<void> {
    let handedOver = false;
    try {
      if (this.launchFailed.has(callId)) return await this.endFailedLaunch(callId);
      if (this.live.has(callId)) return; // a second run of a job whose first run is still starting the call
      const call = await this.o.calls.claimQueued(callId, this.o.nodeId, this.o.brain.name);
      if (!call) return;
      handedOver = true;
      await this.run(call);
    } catch (err) {
      this.o.log.warn({ err, callId }, 'dial job failed; retrying');
      throw new RetryJob(RETRY_MS, 'dial_retry');
    } finally {
      if (!handedOver) this.give(1);
    }
  }

  /**
   * A call rings one of our numbers (from a carrier with the `inbound` capability). Answered by the agent
   * the number is assigned to: the call is stored (`direction: 'inbound'`) and its session answers at once.
   * Refused otherwise, with a short message and no stored call: an unassigned number (or a disabled agent)
   * hears "not in service"; a full node, a server stopping, or an organisation without credits hears
   * "all lines busy". Inbound calls never wait in the queue: a caller cannot be kept ringing. Returns the
   * stored call, or null when refused.
   */
  async acceptInbound(inbound: InboundCall): Promise<CallRow | null> {
    let language = 'en';
    let line = false;
    try {
      const route = this.o.routeInbound ? await this.o.routeInbound(inbound.from, inbound.to) : { ok: false as const, reason: 'not_assigned' };
      if (!route.ok) {
        this.o.log.info({ reason: route.reason }, 'inbound call refused');
        await inbound.reject(notInServiceLine());
        return null;
      }
      language = route.request.language;
      line = this.take(1) === 1;
      if (!line) {
        this.o.log.info({ orgId: route.orgId }, 'inbound call refused: no free line');
        await inbound.reject(allBusyLine(language));
        return null;
      }
      const call = await this.o.calls.startInbound(route.orgId, route.request, this.o.brain.name);
      line = false;
      await this.run(call, inbound);
      return call;
    } catch (err) {
      if (line) this.give(1);
      this.o.log.warn({ err }, 'inbound call refused');
      await inbound.reject(allBusyLine(language)).catch(() => {});
      return null;
    }
  }

  /** Runs the call's session on the line taken for it; the line is free again when the call ends. */
  private async run(call: CallRow, inbound?: InboundCall): Promise<void> {
    const session = new CallSession(call, this.o, inbound);
    this.live.set(call.id, session);
    this.reserved--;
    background(this.o.log, 'call session failed', session.done.then(() => this.free(call.id, session)), { callId: call.id });
    try {
      await session.start();
    } catch (err) {
      // Nothing was dialled (or the dial failed and its end could not be written): the call must not stay
      // live holding a line, and shutdown must not wait for it.
      this.o.log.error({ err, callId: call.id }, 'launch failed');
      this.free(call.id, session);
      this.launchFailed.add(call.id);
      await this.endFailedLaunch(call.id);
      // The session stops listening for commands; its own end is refused by the state machine.
      background(this.o.log, 'failed launch cleanup failed', session.hangup('launch_failed'), { callId: call.id });
    }
  }

  private free(callId: string, session: CallSession): void {
    if (this.live.get(callId) !== session) return;
    this.live.delete(callId);
    this.o.onLineFree?.();
  }

  private async endFailedLaunch(callId: string): Promise<void> {
    await this.o.calls.transition(callId, 'failed', { reason: 'launch_failed', error: 'launch_failed' });
    this.launchFailed.delete(callId);
  }

  /**
   * After this node's lease had run out (the database out of reach too long), other nodes may have closed
   * its calls (`node_lost`): their sessions here hang up, so no one talks on a call the record says ended.
   */
  async dropClosed(): Promise<void> {
    for (const [callId, session] of [...this.live]) {
      const call = await this.o.calls.findAny(callId);
      if (!call || call.ended_at) await session.hangup('node_lost');
    }
  }

  /**
   * Shutdown: no new call starts here (queued calls wait in the database for another node, or for this one
   * after a restart); live calls may finish until `graceMs`, then are hung up.
   */
  async drain(graceMs: number): Promise<void> {
    this.draining = true;
    const all = Promise.all([...this.live.values()].map((s) => s.done));
    const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), graceMs).unref());
    if ((await Promise.race([all, timeout])) === 'timeout') {
      await Promise.all([...this.live.values()].map((s) => s.hangup('server_shutdown')));
      await Promise.race([all, new Promise((r) => setTimeout(r, 5000).unref())]);
    }
  }
}
