/**
 * A ready-made empty database for the embedded store. Creating a PGlite cluster (initdb, in WebAssembly)
 * is most of a first start; loading a dump of one made at install time takes a third of that. The template
 * is made by `npm run build` (see `main` below), named after the PGlite version so a stale one is never used,
 * and is only an optimisation: without it the store is created from scratch as before.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { WasmModule } from './pglite-protocol.js';
import { projectRoot } from '../config/index.js';

/** The folder of the installed PGlite's entry point, where its WebAssembly and file-system bundle lie too. */
function pgliteDist(): string {
  return path.dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite'));
}

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

/** The template as PGlite's `loadDataDir` wants it, or undefined when there is none. */
export function loadTemplate(): Blob | undefined {
  try {
    return new Blob([fs.readFileSync(templatePath())]);
  } catch {
    return undefined;
  }
}

/** What PGlite would otherwise read and compile again for every instance. */
export interface PgliteModules {
  pgliteWasmModule: WasmModule;
  fsBundle: Blob;
}

/** Node's WebAssembly compiler (the project's type library, ES2022 without the DOM, does not declare it). */
const compileWasm = (globalThis as unknown as { WebAssembly: { compile(bytes: Uint8Array): Promise<WasmModule> } }).WebAssembly.compile;

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

async function compilePglite(): Promise<PgliteModules> {
  const dir = pgliteDist();
  const [wasm, data] = await Promise.all([fs.promises.readFile(path.join(dir, 'pglite.wasm')), fs.promises.readFile(path.join(dir, 'pglite.data'))]);
  return { pgliteWasmModule: await compileWasm(wasm), fsBundle: new Blob([data]) };
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

/** Makes the template (once per PGlite version). Run by `npm run build` (scripts/pglite-template.js). */
export async function makeTemplate(): Promise<string> {
  const file = templatePath();
  if (fs.existsSync(file)) return file;
  const { PGlite } = await import('@electric-sql/pglite');
  const db = new PGlite();
  await db.waitReady;
  const dump = await db.dumpDataDir('gzip');
  await db.close();
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file + '.tmp', Buffer.from(await dump.arrayBuffer()));
  fs.renameSync(file + '.tmp', file);
  return file;
}
