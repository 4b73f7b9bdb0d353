/**
 * Starts stored calls on this node, at most `maxConcurrent` at a time; further calls wait as `queued`
 * (carriers limit calls per second and per account as well). A call waiting here already answers
 * commands: ending it cancels it before it is dialled.
 */
import { channels } from '../bus/bus.js';
import type { CommandEnvelope } from '../core/calls/events.js';
import type { CallLauncher } from '../core/calls/service.js';
import type { CallRequest } from '../core/calls/request.js';
import type { CallRow } from '../store/index.js';
import type { InboundCall } from '../carriers/carrier.js';
import { CallSession, type CallSessionDeps } from './call-session.js';
import { allBusyLine, notInServiceLine } from './lines.js';
import { background } from '../lib/background.js';

/** Who answers a call to one of our numbers (core/calls/inbound.ts), or why nobody does. */
export type InboundRouter = (from: string, to: string) => Promise<{ ok: true; orgId: string; request: CallRequest } | { ok: false; reason: string }>;

/** What every session needs, and how many may run at once on this node. */
export interface DialerOptions extends CallSessionDeps {
  maxConcurrent: number;
  /** Routes inbound calls to their agents; without it every inbound call is refused. */
  routeInbound?: InboundRouter;
}

interface Waiting {
  call: CallRow;
  unsubscribe: () => Promise<void>;
}

export class Dialer implements CallLauncher {
  private readonly live = new Map<string, CallSession>();
  private readonly waiting: Waiting[] = [];
  private draining = false;
  private starting = 0;

  constructor(private readonly o: DialerOptions) {}

  get liveCount(): number {
    return this.live.size;
  }

  get queuedCount(): number {
    return this.waiting.length;
  }

  launch(call: CallRow): void {
    void this.admit(call).catch((err) => this.o.log.error({ err, callId: call.id }, 'launch failed'));
  }

  private async admit(call: CallRow): Promise<void> {
    if (this.hasRoom() && this.waiting.length === 0) return this.run(call);
    const unsubscribe = await this.o.bus.subscribe(channels.callCommands(call.id), (m) => this.cancelWaiting(call.id, m as CommandEnvelope));
    await this.o.calls.setOwner(call.id, this.o.nodeId);
    this.waiting.push({ call, unsubscribe });
  }

  private async cancelWaiting(callId: string, env: CommandEnvelope): Promise<void> {
    const i = this.waiting.findIndex((w) => w.call.id === callId);
    if (i < 0) return; // it has started meanwhile: its session answers
    if (env.command.type !== 'end') {
      // Changes are already stored on the call and read when it starts; nothing else applies before dialling.
      const ok = env.command.type === 'update';
      await this.o.bus.publish(channels.commandReplies(env.replyTo), ok ? { ok } : { ok, error: 'not_connected' });
      return;
    }
    const [w] = this.waiting.splice(i, 1);
    await w.unsubscribe();
    await this.o.calls.transition(callId, 'canceled', { reason: env.command.reason ?? 'ended_by_api' });
    await this.o.bus.publish(channels.commandReplies(env.replyTo), { ok: true });
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
    try {
      const route = this.o.routeInbound ? await this.o.routeInbound(inbound.from, inbound.to) : { ok: false as const, reason: 'not_assigned' };
      if (!route.ok) {
        this.o.log.info({ reason: route.reason }, 'inbound call refused');
        await inbound.reject(notInServiceLine());
        return null;
      }
      language = route.request.language;
      if (this.draining || this.live.size >= this.o.maxConcurrent) {
        this.o.log.info({ orgId: route.orgId }, 'inbound call refused: no free line');
        await inbound.reject(allBusyLine(language));
        return null;
      }
      const call = await this.o.calls.startInbound(route.orgId, route.request);
      await this.run(call, inbound);
      return call;
    } catch (err) {
      this.o.log.warn({ err }, 'inbound call refused');
      await inbound.reject(allBusyLine(language)).catch(() => {});
      return null;
    }
  }

  private async run(call: CallRow, inbound?: InboundCall): Promise<void> {
    const session = new CallSession(call, this.o, inbound);
    this.live.set(call.id, session);
    background(
      this.o.log,
      'next waiting call not started',
      async () => {
        try {
          await session.done;
        } finally {
          this.live.delete(call.id);
        }
        await this.next();
      },
      { callId: call.id },
    );
    await session.start();
  }

  private async next(): Promise<void> {
    if (this.draining) return;
    while (this.hasRoom() && this.waiting.length) {
      const w = this.waiting.shift()!;
      // The slot is taken before the awaits below, so concurrent calls of next() cannot overfill the node.
      this.starting++;
      try {
        await w.unsubscribe();
        // Read it again: a PATCH may have changed it while it waited.
        const fresh = await this.o.calls.findAny(w.call.id);
        if (fresh && fresh.status === 'queued') await this.run(fresh);
      } finally {
        this.starting--;
      }
    }
  }

  /** Calls being started count against the limit as much as live ones. */
  private hasRoom(): boolean {
    return this.live.size + this.starting < this.o.maxConcurrent;
  }

  /**
   * Shutdown: waiting calls are canceled at once; live calls may finish until `graceMs`, then are hung up.
   */
  async drain(graceMs: number): Promise<void> {
    this.draining = true;
    for (const w of this.waiting.splice(0)) {
      await w.unsubscribe();
      await this.o.calls.transition(w.call.id, 'canceled', { reason: 'server_shutdown' });
    }
    const all = Promise.all([...this.live.values()].map((s) => s.done));
    const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), graceMs).unref());
    if ((await Promise.race([all, timeout])) === 'timeout') {
      await Promise.all([...this.live.values()].map((s) => s.hangup('server_shutdown')));
      await Promise.race([all, new Promise((r) => setTimeout(r, 5000).unref())]);
    }
  }
}
