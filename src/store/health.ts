/**
 * Whether the store answers: `/healthz` asks, and a load balancer or process manager acts on it. One
 * `select 1` at a time, bounded by `timeoutMs`; its answer is kept for `cacheMs`, so a health poll every few
 * milliseconds costs the store at most one statement a second. A probe still waiting on a hung store is
 * not repeated: the next check sees it pending past its bound and answers `down` at once.
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.js';

export type StoreState = 'ok' | 'down';

export class StoreHealth {
  private last: { state: StoreState; at: number } | undefined;
  private probe: { answered: Promise<boolean>; startedAt: number } | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly timeoutMs = 1000,
    private readonly cacheMs = 1000,
  ) {}

  async state(): Promise<StoreState> {
    if (this.last && Date.now() - this.last.at < this.cacheMs) return this.last.state;
    const probe = (this.probe ??= this.startProbe());
    const ok = await withinBound(probe.answered, probe.startedAt + this.timeoutMs - Date.now());
    this.last = { state: ok ? 'ok' : 'down', at: Date.now() };
    return this.last.state;
  }

  private startProbe(): { answered: Promise<boolean>; startedAt: number } {
    const done = (ok: boolean) => {
      this.probe = undefined;
      return ok;
    };
    const answered = sql`select 1`.execute(this.db).then(
      () => done(true),
      () => done(false),
    );
    return { answered, startedAt: Date.now() };
  }
}

/** `answered`'s value, or false once `ms` have passed without it. */
async function withinBound(answered: Promise<boolean>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, ms));
    timer.unref();
  });
  try {
    return await Promise.race([answered, late]);
  } finally {
    clearTimeout(timer);
  }
}
