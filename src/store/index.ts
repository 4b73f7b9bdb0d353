import type { Worker } from 'node:worker_threads';
import { Kysely, Migrator, PostgresDialect, sql, type Migration, type MigrationProvider, type PostgresPool } from 'kysely';
import type pg from 'pg';
import * as m0001 from './migrations/0001_init.js';
import * as m0002 from './migrations/0002_call_turns.js';
import * as m0003 from './migrations/0003_agents_numbers_tasks.js';
import * as m0004 from './migrations/0004_caller_ids.js';
import * as m0005 from './migrations/0005_node_leases.js';
import * as m0007 from './migrations/0007_first_key_dead_letters.js';
import * as m0009 from './migrations/0009_user_on_call.js';
import * as m0011 from './migrations/0011_credit_ledger.js';
import * as m0013 from './migrations/0013_recordings.js';
import * as m0014 from './migrations/0014_calendar.js';
import * as m0015 from './migrations/0015_users_sessions.js';
import * as m0016 from './migrations/0016_carrier_call_sid.js';
import * as m0017 from './migrations/0017_caldav.js';
import * as m0020 from './migrations/0020_turn_speech_latency.js';
import { pgliteAsPool } from './pglite-pool.js';
import { openPglite } from './pglite.js';
import type { Database } from './schema.js';
import { fallbackLogger, type Logger } from '../lib/logger.js';

export type { Database } from './schema.js';
export * from './schema.js';
export { DataDirBusyError } from './lock.js';
export { prewarmPglite, pgliteThreadMode } from './pglite.js';
export { StoreThreadStoppedError } from './pglite-thread.js';
export { StoreHealth, type StoreState } from './health.js';
export { isConnectionLoss, retryOnConnectionLoss } from './retry.js';

export type Db = Kysely<Database>;

export interface Store {
  db: Db;
  kind: 'pglite' | 'postgres';
  /** The PostgreSQL schema in use, when not the default. */
  schema?: string;
  /** PGlite only: the whole database as a tarball, what `StoreOptions.template` takes (tests make theirs so). */
  dump?(): Promise<Blob>;
  /** PGlite on its worker (the default): that thread (its `performance.eventLoopUtilization()` is the store's load; tests end it). */
  thread?: Worker;
  close(): Promise<void>;
}

export interface StoreOptions {
  /** PostgreSQL URL; the embedded PGlite store in `dataDir` when absent. */
  databaseUrl?: string;
  dataDir?: string;
  /** PostgreSQL schema to use (created if missing); tests give each run its own. */
  schema?: string;
  /** Connections in the PostgreSQL pool. */
  poolSize?: number;
  /** PGlite only: keep the database in memory (tests). */
  inMemory?: boolean;
  /**
   * PGlite only: the database a new store starts from (a `dumpDataDir` tarball), instead of the install-time
   * template. The tests pass one with the migrations already applied, made once per run.
   */
  template?: Blob;
  /** PostgreSQL `application_name` of this node's connections (`switchboard:<nodeId>`): operators find them by it. */
  applicationName?: string;
  /** Where lost connections are reported. */
  log?: Pick<Logger, 'error' | 'warn'>;
}

const migrations: Record<string, Migration> = {
  '0001_init': m0001,
  '0002_call_turns': m0002,
  '0003_agents_numbers_tasks': m0003,
  '0004_caller_ids': m0004,
  '0005_node_leases': m0005,
  '0007_first_key_dead_letters': m0007,
  '0009_user_on_call': m0009,
  '0011_credit_ledger': m0011,
  '0013_recordings': m0013,
  '0014_calendar': m0014,
  '0015_users_sessions': m0015,
  '0016_carrier_call_sid': m0016,
  '0017_caldav': m0017,
  '0020_turn_speech_latency': m0020,
};
const provider: MigrationProvider = { getMigrations: async () => migrations };

/**
 * The PostgreSQL driver, loaded only by a node that uses PostgreSQL (the embedded default never needs it:
 * one less package to load at start-up).
 */
async function loadPg(): Promise<typeof pg> {
  const { default: driver } = await import('pg');
  // timestamptz and bigint come back as JS values the rest of the code expects.
  driver.types.setTypeParser(20, (v) => v); // bigint ids stay strings (no precision loss)
  return driver;
}

/** Opens the store and brings its schema up to date. */
export async function openStore(opts: StoreOptions): Promise<Store> {
  return startStore(opts).ready;
}

/**
 * A store being opened. Its `db` can be handed out at once: its statements wait until the store is open
 * and migrated. The server builds itself (its core, routes and schemas: a few hundred milliseconds of its
 * thread) meanwhile, instead of after it (docs/performance.md §12).
 */
export interface OpeningStore {
  db: Db;
  kind: Store['kind'];
  /** The store once open and migrated (with the same `db`). Rejects when it could not be: nothing is left open then. */
  ready: Promise<Store>;
}

/** What `openPostgres` and `openEmbedded` open: a pool for Kysely's PostgreSQL dialect, and its ending. */
interface OpenedPool {
  pool: PostgresPool;
  thread?: Worker;
  dump?(): Promise<Blob>;
  /** Ends the pool and lets go of what it holds (the data folder). */
  end(): Promise<void>;
}

/** Starts opening the store (see `OpeningStore`); `openStore` waits for it. */
export function startStore(opts: StoreOptions): OpeningStore {
  const kind = opts.databaseUrl ? 'postgres' : 'pglite';
  const opening = (async (): Promise<OpenedPool> => {
    const opened = opts.databaseUrl ? await openPostgres(opts) : await openEmbedded(opts);
    try {
      // On a Kysely of its own: the statements of `db` below wait for this one's to end.
      await migrate(new Kysely<Database>({ dialect: new PostgresDialect({ pool: opened.pool }) }), opts.schema);
    } catch (err) {
      await opened.end().catch(() => {});
      throw err;
    }
    return opened;
  })();
  let ended: Promise<void> | undefined;
  const end = () => (ended ??= opening.then((opened) => opened.end(), () => {}));
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({
      // Kysely asks for its pool at the first statement; `db.destroy()` ends it (and so the store).
      pool: async () => {
        const { pool } = await opening;
        return { connect: () => pool.connect(), end };
      },
    }),
  });
  const ready = opening.then(
    (opened): Store => ({
      db,
      kind,
      ...(opts.schema ? { schema: opts.schema } : {}),
      ...(opened.thread ? { thread: opened.thread } : {}),
      ...(opened.dump ? { dump: opened.dump } : {}),
      // `db.destroy()` ends the pool only when a statement ran on it: the pool is ended here in any case.
      close: async () => {
        try {
          await db.destroy();
        } finally {
          await end();
        }
      },
    }),
  );
  return { db, kind, ready };
}

async function openPostgres(opts: StoreOptions): Promise<OpenedPool> {
  const pg = await loadPg();
  const schema = opts.schema;
  if (schema && !/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error('invalid schema name');
  const log = opts.log ?? fallbackLogger();
  if (schema) {
    const c = new pg.Client({ connectionString: opts.databaseUrl, application_name: opts.applicationName });
    c.on('error', (err) => log.warn({ err }, 'database connection error'));
    await c.connect();
    try {
      await c.query(`create schema if not exists ${schema}`);
    } finally {
      await c.end();
    }
  }
  const pool = new pg.Pool({
    connectionString: opts.databaseUrl,
    max: opts.poolSize ?? 10,
    options: schema ? `-c search_path=${schema}` : undefined,
    application_name: opts.applicationName,
  });
  watchConnections(pool, log);
  return { pool, end: () => pool.end() };
}

/**
 * A PostgreSQL connection can die at any time (failover, restart, idle timeout, pg_terminate_backend).
 * `pg` reports it as an `error` event, which ends the process when nobody listens: the pool's (an idle
 * connection) and each connection's own (one lent to a query or a transaction, between statements).
 * The failed statement rejects for its caller; the pool drops the dead connection and opens a new one.
 */
function watchConnections(pool: pg.Pool, log: Pick<Logger, 'error' | 'warn'>): void {
  pool.on('error', (err) => log.error({ err }, 'idle database connection lost'));
  pool.on('connect', (client) => {
    client.on('error', (err) => log.warn({ err }, 'database connection error'));
  });
}

async function openEmbedded(opts: StoreOptions): Promise<OpenedPool> {
  const { connection, thread, release } = await openPglite(opts);
  const pool = pgliteAsPool(connection);
  return {
    pool: pool as unknown as PostgresPool,
    ...(thread ? { thread } : {}),
    dump: () => connection.dump(),
    end: async () => {
      try {
        await pool.end();
      } finally {
        release();
      }
    },
  };
}

/**
 * PostgreSQL's codes for a catalog that changed under a read of it: a schema dropped (3F000), a table or a column
 * added or dropped (42P01, 42703) by another client at that moment.
 */
const CATALOG_RACE_CODES = new Set(['3F000', '42P01', '42703']);

/**
 * Whether a migration run failed only because another client changed the catalog while Kysely read it: its check
 * for its bookkeeping table reads the catalog of every schema, so a schema dropped or a table altered elsewhere
 * at that moment (parallel test runs, another tenant migrating its own schema) fails it. Nothing was migrated
 * then (no results): trying again is safe.
 */
export function isCatalogRace(error: unknown, results: readonly unknown[] | undefined): boolean {
  return !results?.length && CATALOG_RACE_CODES.has(String((error as { code?: unknown } | null)?.code));
}

/** Brings the schema up to date; `schema` keeps Kysely's own bookkeeping tables in that schema too. */
export async function migrate(db: Db, schema?: string): Promise<void> {
  if (await isCurrent(db, schema)) return;
  const migrator = new Migrator({ db, provider, ...(schema ? { migrationTableSchema: schema } : {}) });
  for (let attempt = 1; ; attempt++) {
    const { error, results } = await migrator.migrateToLatest();
    if (!error) return;
    if (attempt < 5 && isCatalogRace(error, results)) continue;
    const failed = results?.find((r) => r.status === 'Error');
    throw new Error(`migration ${failed?.migrationName ?? '?'} failed`, { cause: error });
  }
}

/**
 * Whether every migration is already applied: one read of Kysely's bookkeeping table, where Kysely's own check
 * (which then finds nothing to do) takes about ten statements and a lock. Most starts — every warm start — end
 * here, and on the embedded store each statement of a start meets a cold catalog (docs/performance.md §14a):
 * no separate look-up of whether the table exists; a database without it (a new one) fails this read, and
 * Kysely creates it. Anything unexpected leaves the decision to Kysely.
 */
async function isCurrent(db: Db, schema?: string): Promise<boolean> {
  const table = `${schema ? schema + '.' : ''}kysely_migration`;
  try {
    const applied = await sql<{ name: string }>`select name from ${sql.table(table)}`.execute(db);
    const done = new Set(applied.rows.map((r) => r.name));
    // Exactly ours: a database migrated by newer code (more names) goes to Kysely, which refuses it.
    const names = Object.keys(migrations);
    return done.size === names.length && names.every((name) => done.has(name));
  } catch {
    return false;
  }
}
