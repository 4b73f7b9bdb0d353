/**
 * A ready-made empty database for the embedded store. Creating a PGlite cluster (initdb, in WebAssembly)
 * is most of a first start; loading a dump of one made at install time takes a third of that. The template
 * is made by `npm run build` (see `main` below), named after the PGlite version so a stale one is never used,
 * and is only an optimisation: without it the store is created from scratch as before.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { WasmModule } from './pglite-protocol.js';
import { compilePglite, compileWasm, pgliteDist, type PgliteModules } from './pglite-modules.js';
import { ARRAY_TYPES_SQL, arrayTypesOf, isKnownArrayTypes, type KnownArrayTypes } from './pglite-array-types.js';
import { projectRoot } from '../config/index.js';

/** The installed PGlite's version (its package.json is not exported, so it is found from its entry). */
function pgliteVersion(): string {
  let dir = pgliteDist();
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg)) {
      const j = JSON.parse(fs.readFileSync(pkg, 'utf8')) as { name?: string; version?: string };
      if (j.name === '@electric-sql/pglite' && j.version) return j.version;
    }
    const up = path.dirname(dir);
    if (up === dir) return 'unknown';
    dir = up;
  }
}

export function templatePath(): string {
  return path.join(projectRoot(), 'dist', `pglite-template-${pgliteVersion()}.tar.gz`);
}

/** The array types of a new database (pglite-array-types.ts), listed beside the template. */
export function arrayTypesPath(): string {
  return path.join(projectRoot(), 'dist', `pglite-array-types-${pgliteVersion()}.json`);
}

let arrayTypes: KnownArrayTypes | null | undefined;

/** The array types listed at build time, read once per process; undefined when there is no list (or it is not one). */
export function loadArrayTypes(): KnownArrayTypes | undefined {
  if (arrayTypes === undefined) {
    try {
      const listed: unknown = JSON.parse(fs.readFileSync(arrayTypesPath(), 'utf8'));
      arrayTypes = isKnownArrayTypes(listed) ? listed : null;
    } catch {
      arrayTypes = null;
    }
  }
  return arrayTypes ?? undefined;
}

/** The template as PGlite's `loadDataDir` wants it, or undefined when there is none. */
export function loadTemplate(): Blob | undefined {
  try {
    return new Blob([fs.readFileSync(templatePath())]);
  } catch {
    return undefined;
  }
}

let modules: Promise<PgliteModules> | undefined;
let initdb: Promise<WasmModule> | undefined;

/**
 * PGlite's WebAssembly, compiled once per process and shared by every instance (a compiled module holds no
 * state; each instance gets its own memory, and a compiled module posted to a worker thread is shared, not
 * compiled again). PGlite would read and compile it again for each `new PGlite()`, which a process opening
 * several stores (the test suite: one or more per file) pays each time. A failure is not kept: the next
 * store tries again.
 */
export function pgliteModules(): Promise<PgliteModules> {
  modules ??= compilePglite().catch((err: unknown) => {
    modules = undefined;
    throw err;
  });
  return modules;
}

/** `initdb`'s WebAssembly, compiled once per process: only a store created without a template runs it. */
export function initdbModule(): Promise<WasmModule> {
  initdb ??= fs.promises
    .readFile(path.join(pgliteDist(), 'initdb.wasm'))
    .then((wasm) => compileWasm(wasm))
    .catch((err: unknown) => {
      initdb = undefined;
      throw err;
    });
  return initdb;
}

/** Whether `dir` holds no database yet. */
export function isEmptyDataDir(dir: string): boolean {
  try {
    return fs.readdirSync(dir).length === 0;
  } catch {
    return true;
  }
}

/**
 * Makes the template and the list of its array types (once per PGlite version, whichever is missing). Run by
 * `npm run build` (scripts/pglite-template.js).
 */
export async function makeTemplate(): Promise<string> {
  const file = templatePath();
  const types = arrayTypesPath();
  if (fs.existsSync(file) && fs.existsSync(types)) return file;
  const { PGlite } = await import('@electric-sql/pglite');
  const db = new PGlite();
  try {
    await db.waitReady;
    if (!fs.existsSync(types)) {
      const listed = arrayTypesOf((await db.query<{ oid: number | null; typarray: number | null }>(ARRAY_TYPES_SQL)).rows);
      writeAtomically(types, JSON.stringify(listed));
    }
    if (!fs.existsSync(file)) writeAtomically(file, Buffer.from(await (await db.dumpDataDir('gzip')).arrayBuffer()));
  } finally {
    await db.close();
  }
  return file;
}

/** A build running beside another (the test suite's processes) never reads half a file. */
function writeAtomically(file: string, data: string | Buffer): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(`${file}.${process.pid}.tmp`, data);
  fs.renameSync(`${file}.${process.pid}.tmp`, file);
}
