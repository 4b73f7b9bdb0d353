/**
 * PGlite's WebAssembly and file bundle, read and compiled: by the server's thread once per process for every
 * store it opens (pglite-template.ts `pgliteModules`), or by the store's worker at its first line when it was
 * started early to boot the server's own store (pglite-worker.ts). A file of its own, importing nothing of
 * PGlite's JavaScript or of the configuration, so that the worker can start reading and compiling before it
 * has loaded those.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { WasmModule } from './pglite-protocol.js';

/** What PGlite would otherwise read and compile again for every instance. */
export interface PgliteModules {
  pgliteWasmModule: WasmModule;
  fsBundle: Blob;
}

/** The folder of the installed PGlite's entry point, where its WebAssembly and file-system bundle lie too. */
export function pgliteDist(): string {
  return path.dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite'));
}

/** Node's WebAssembly compiler (the project's type library, ES2022 without the DOM, does not declare it). */
export const compileWasm = (globalThis as unknown as { WebAssembly: { compile(bytes: Uint8Array): Promise<WasmModule> } }).WebAssembly.compile;

/** Reads PGlite's WebAssembly and file bundle and compiles the WebAssembly (on V8's helper threads). */
export async function compilePglite(): Promise<PgliteModules> {
  const dir = pgliteDist();
  const [wasm, data] = await Promise.all([fs.promises.readFile(path.join(dir, 'pglite.wasm')), fs.promises.readFile(path.join(dir, 'pglite.data'))]);
  return { pgliteWasmModule: await compileWasm(wasm), fsBundle: new Blob([data]) };
}
