/**
 * Counts the SQL statements a Switchboard sends to its store: every query Kysely compiles (builders and
 * raw `sql`) and, for each `db.transaction().execute(...)`, its `begin` and `commit` (or `rollback`), which
 * Kysely sends without compiling. Works the same on PGlite and PostgreSQL, above the store's own pool.
 */
import { PostgresQueryCompiler, type Kysely, type KyselyPlugin } from 'kysely';
import type { Database, Store } from '../../src/store/index.js';
import type { Backend } from './backends.js';
import { startSwitchboard, type TestSwitchboard } from './switchboard.js';

export interface Statement {
  sql: string;
  /** The first frame of src/ that issued it (file:line), for grouping. */
  from: string;
}

export interface StatementLog {
  /** The store to give createSwitchboard. */
  store: Store;
  /** Every statement since the last `reset()`, in the order sent. */
  statements: Statement[];
  reset(): void;
}

const compiler = new PostgresQueryCompiler();

function origin(): string {
  const frames = (new Error().stack ?? '').split('\n').slice(2);
  const ours = frames.find((f) => f.includes('/src/') && !f.includes('/src/store/') && !f.includes('node_modules'));
  const m = ours?.match(/\/src\/([^)]+?):(\d+):\d+\)?$/);
  return m ? `${m[1]}:${m[2]}` : '?';
}

/** Wraps `store` so that every statement sent through its `db` is recorded. */
export function countStatements(store: Store): StatementLog {
  const statements: Statement[] = [];
  const record = (sql: string) => statements.push({ sql, from: origin() });
  const plugin: KyselyPlugin = {
    transformQuery(args) {
      record(compiler.compileQuery(args.node, args.queryId).sql);
      return args.node;
    },
    async transformResult(args) {
      return args.result;
    },
  };
  const counted = store.db.withPlugin(plugin);
  // Kysely's methods use private fields: they must run on the real instance, not on the proxy.
  const db = new Proxy(counted, {
    get(target, prop) {
      if (prop === 'transaction') {
        return () => {
          const builder = target.transaction();
          return {
            async execute<T>(fn: Parameters<typeof builder.execute<T>>[0]): Promise<T> {
              record('begin');
              try {
                const result = await builder.execute(fn);
                record('commit');
                return result;
              } catch (err) {
                record('rollback');
                throw err;
              }
            },
          };
        };
      }
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  }) as Kysely<Database>;
  return {
    store: { ...store, db },
    statements,
    reset() {
      statements.length = 0;
    },
  };
}

/**
 * A switchboard on `backend` whose statements are counted, with nothing periodic running meanwhile: job
 * polls, the lease's heartbeat and the reaper wait an hour, so what the log holds is what the test did.
 */
export async function startCountedSwitchboard(backend: Backend): Promise<{ t: TestSwitchboard; log: StatementLog }> {
  let log!: StatementLog;
  const counted: Backend = { name: backend.name, open: async () => (log = countStatements(await backend.open())).store };
  const t = await startSwitchboard(
    counted,
    { SHUTDOWN_GRACE_SECONDS: '1', NODE_HEARTBEAT_MS: '600000', NODE_LEASE_MS: '3600000', NODE_REAPER_MS: '600000' },
    { jobPollMs: 3_600_000 },
  );
  return { t, log };
}
