/**
 * Nodes and their leases: every node renews a lease in `nodes` (its heartbeat) and owns the calls it carries
 * (`calls.owner_node`). A node whose lease has run out is dead: any live node's reaper closes its calls as
 * `failed` (reason `node_lost`) through the calls' normal transition (price, `call_completed`, task end), and
 * frees the jobs it had claimed (a dial job it had not yet run goes to another node). A dead node's calls
 * therefore end within `leaseMs + reaperMs` of its last heartbeat. Times are the database's (`now()`), so
 * the nodes' clocks need not agree.
 */
import { sql, type Transaction } from 'kysely';
import type { Logger } from '../lib/logger.js';
import { background } from '../lib/background.js';
import type { Database, Db } from '../store/index.js';
import type { CallService } from './calls/service.js';

export interface NodeLeaseOptions {
  db: Db;
  calls: CallService;
  log: Logger;
  nodeId: string;
  heartbeatMs: number;
  leaseMs: number;
  reaperMs: number;
  /** The lease was found run out when renewed (the database was out of reach): other nodes may have closed our calls. */
  onLapsed?: () => Promise<void>;
}

/** Calls in these states have a session somewhere (or wait for one). */
const LIVE = sql`('queued', 'ringing', 'in_progress')`;
/** How many of a dead node's calls one pass closes (the next pass takes the rest). */
const BATCH = 200;

export class NodeLeases {
  private heartbeat: NodeJS.Timeout | undefined;
  private reaper: NodeJS.Timeout | undefined;
  private reaping = false;

  constructor(private readonly o: NodeLeaseOptions) {}

  /**
   * Takes this node's lease, after closing what a previous process under the same id left behind (it has no
   * session here). `alone`: the embedded store belongs to this one process, so every other node is dead too
   * and its calls close now, with reason `server_restarted`.
   */
  async start(opts: { alone: boolean }): Promise<void> {
    const gone = this.o.db.updateTable('nodes').set({ expires_at: new Date(0) });
    await (opts.alone ? gone : gone.where('id', '=', this.o.nodeId)).execute();
    await this.reap(opts.alone ? 'server_restarted' : 'node_lost');
    await this.renew();
    this.heartbeat = setInterval(() => background(this.o.log, 'node heartbeat failed', () => this.renew()), this.o.heartbeatMs);
    this.reaper = setInterval(() => background(this.o.log, 'node reaper failed', () => this.reap()), this.o.reaperMs);
    this.heartbeat.unref();
    this.reaper.unref();
  }

  /** Stops the heartbeat and the reaper (the lease then runs out by itself). */
  stop(): void {
    clearInterval(this.heartbeat);
    clearInterval(this.reaper);
  }

  /**
   * Graceful stop: the lease ends now, so whatever this node still owns (a call whose end could not be
   * written) is closed by the other nodes at their next pass, not a lease later.
   */
  async release(): Promise<void> {
    this.stop();
    await this.o.db.updateTable('nodes').set({ expires_at: new Date(0) }).where('id', '=', this.o.nodeId).execute();
  }

  /** Renews this node's lease (stored again if a reaper had already removed it). */
  async renew(): Promise<void> {
    const r = await sql<{ lapsed: boolean | null }>`
      with prev as (select expires_at < now() as lapsed from nodes where id = ${this.o.nodeId})
      insert into nodes (id, started_at, heartbeat_at, expires_at)
      values (${this.o.nodeId}, now(), now(), now() + ${this.o.leaseMs} * interval '1 millisecond')
      on conflict (id) do update set heartbeat_at = now(), expires_at = excluded.expires_at
      returning (select lapsed from prev) as lapsed`.execute(this.o.db);
    // The database was out of reach longer than a lease: other nodes may have closed our calls meanwhile.
    if (r.rows[0]?.lapsed) {
      this.o.log.warn({ nodeId: this.o.nodeId }, 'node lease had run out before it was renewed');
      await this.o.onLapsed?.();
    }
  }

  /**
   * One reaper pass: closes the live calls whose owner holds no lease, frees the jobs such nodes had
   * claimed, and forgets dead nodes that own nothing any more. Safe with several reapers at once: each
   * call's move is checked on its locked row (still live, same owner, owner still dead), so it happens once.
   * Returns how many calls it closed.
   */
  async reap(reason = 'node_lost'): Promise<number> {
    if (this.reaping) return 0;
    this.reaping = true;
    try {
      const orphans = await sql<{ id: string; owner_node: string }>`
        select id, owner_node from calls
        where status in ${LIVE} and owner_node is not null
          and not exists (select 1 from nodes n where n.id = calls.owner_node and n.expires_at > now())
        order by created_at
        limit ${BATCH}`.execute(this.o.db);
      let closed = 0;
      for (const c of orphans.rows) {
        const stillDead = async (call: { owner_node: string | null }, trx: Transaction<Database>) =>
          call.owner_node === c.owner_node && !(await hasLease(trx, c.owner_node));
        if (await this.o.calls.transition(c.id, 'failed', { reason, error: reason }, stillDead)) closed++;
      }
      if (closed > 0) this.o.log.warn({ calls: closed, reason }, 'closed calls of nodes whose lease ran out');
      await sql`
        update jobs set locked_at = null, locked_by = null
        where locked_by is not null
          and not exists (select 1 from nodes n where n.id = jobs.locked_by and n.expires_at > now())`.execute(this.o.db);
      await sql`
        delete from nodes
        where expires_at <= now()
          and not exists (select 1 from calls c where c.owner_node = nodes.id and c.status in ${LIVE})`.execute(this.o.db);
      return closed;
    } finally {
      this.reaping = false;
    }
  }
}

async function hasLease(trx: Transaction<Database>, nodeId: string): Promise<boolean> {
  const r = await sql<{ id: string }>`select id from nodes where id = ${nodeId} and expires_at > now()`.execute(trx);
  return r.rows.length > 0;
}
