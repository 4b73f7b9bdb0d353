/**
 * What the server's thread and the embedded store's worker (pglite-worker.ts) say to each other, in one
 * place both sides import. Every request carries an id and gets exactly one reply with that id: a value, or
 * an error. Messages go by structured clone, which keeps what PGlite's rows hold (Date, BigInt, Uint8Array,
 * plain objects and arrays, null) but not an Error's own properties: a DatabaseError's `code`, `detail`,
 * `constraint`… are copied into the reply by `errorToWire` and put back by `errorFromWire`.
 */
import type { PGliteOptions } from '@electric-sql/pglite';
import type { KnownArrayTypes } from './pglite-array-types.js';

/** A compiled WebAssembly module, as PGlite's options name it (one compiled module can be posted to many threads). */
export type WasmModule = NonNullable<PGliteOptions['pgliteWasmModule']>;

/** How to start one PGlite: what `new PGlite()` is given, without anything a thread cannot receive. */
export interface PgliteSpec {
  /** The database folder; in memory when absent. */
  dir?: string;
  /**
   * PGlite's WebAssembly, compiled once per process (pglite-template.ts `pgliteModules`), and its file
   * bundle. Absent: PGlite reads and compiles its own, on the thread that runs it (pglite.ts `ownModules`).
   */
  pgliteWasmModule?: WasmModule;
  fsBundle?: Blob;
  /** A tarball to start a new database from (a template). */
  loadDataDir?: Blob;
  /** initdb's WebAssembly, for a new database made without a template. */
  initdbWasmModule?: WasmModule;
  /** The array types of PostgreSQL's built-in types, listed at build time (pglite-array-types.ts). */
  arrayTypes?: KnownArrayTypes;
}

/** What the store's worker is started with (its `workerData`). */
export interface StoreThreadData {
  /**
   * Read and compile PGlite's WebAssembly at once, before `open` says which database: a worker started to boot
   * the server's own store, whose `open` brings no compiled modules (pglite.ts `ownModules`).
   */
  prepare: boolean;
}

/** What Kysely's PostgreSQL driver reads of a result. */
export interface StatementResult {
  rows: Record<string, unknown>[];
  rowCount: number;
  command: string;
}

/** One PGlite as the store uses it, wherever it runs (this thread: pglite-local.ts, a worker: pglite-thread.ts). */
export interface PgliteConnection {
  /** One statement; without parameters the text may hold several (migrations), and the last answers. */
  query(sql: string, params?: readonly unknown[]): Promise<StatementResult>;
  /** The whole database as an uncompressed tarball (what `loadDataDir` takes). */
  dump(): Promise<Blob>;
  /** Closes PGlite (its files written and let go); statements after it fail. */
  close(): Promise<void>;
}

export type Request =
  | { id: number; kind: 'open'; spec: PgliteSpec; nice?: number }
  | { id: number; kind: 'query'; sql: string; params?: readonly unknown[] }
  | { id: number; kind: 'dump' }
  | { id: number; kind: 'close' };

/** What `open` answers: the thread as the operating system knows it (Linux; undefined elsewhere). */
export interface OpenedThread {
  threadId?: number;
  /** Its niceness, after `open`'s `nice` was applied. */
  nice?: number;
}

/** A dump travels as bytes (moved, not copied) and becomes a Blob again on arrival. */
export type Reply = { id: number; ok: true; value: StatementResult | ArrayBuffer | OpenedThread | undefined } | { id: number; ok: false; error: WireError };

export interface WireError {
  /** PostgreSQL's own error (PGlite's DatabaseError), rebuilt as `DatabaseError` below. */
  database: boolean;
  message: string;
  stack?: string;
  /** The error's own properties (name, code, detail, constraint, table, column, severity, position…). */
  fields: Record<string, unknown>;
  cause?: WireError;
}

/**
 * An error as it can travel: its message, stack and every own property a message can carry. `isDatabaseError`
 * tells PostgreSQL's errors apart (PGlite's class, which only the worker loads).
 */
export function errorToWire(err: unknown, isDatabaseError: (err: unknown) => boolean, depth = 0): WireError {
  if (!(err instanceof Error)) return { database: false, message: String(err), fields: {} };
  const fields: Record<string, unknown> = {};
  for (const key of Object.keys(err)) {
    const value = (err as unknown as Record<string, unknown>)[key];
    if (key !== 'cause' && cloneable(value)) fields[key] = value;
  }
  // An Error's `name` is usually its prototype's; PGlite's DatabaseError sets its own ('error'), kept above.
  if (!('name' in fields) && err.name !== 'Error') fields.name = err.name;
  const cause = err.cause !== undefined && depth < 3 ? errorToWire(err.cause, isDatabaseError, depth + 1) : undefined;
  return { database: isDatabaseError(err), message: err.message, stack: err.stack, fields, ...(cause ? { cause } : {}) };
}

/** The error again, with the same message, properties and stack, so callers matching on `.code` see no difference. */
export function errorFromWire(wire: WireError): Error {
  const err = wire.database ? new DatabaseError(wire.message) : new Error(wire.message);
  Object.assign(err, wire.fields);
  if (wire.stack) err.stack = wire.stack;
  if (wire.cause) err.cause = errorFromWire(wire.cause);
  return err;
}

/**
 * PostgreSQL's error as raised by a statement in the worker: a copy of PGlite's own DatabaseError (same
 * fields), made without loading PGlite on this thread. Nothing in Switchboard tests `instanceof`; code
 * matches `.code` (23505, 40001…).
 */
export class DatabaseError extends Error {}

/** Whether a value survives structured clone (an error's `params` may hold anything a caller passed). */
function cloneable(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return typeof value !== 'function' && typeof value !== 'symbol';
  try {
    structuredClone(value);
    return true;
  } catch {
    return false;
  }
}
