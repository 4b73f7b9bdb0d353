/**
 * Loading a CommonJS bundle with V8's code cache kept beside it (`<file>.cache`), so that a warm start skips
 * parsing and compiling the bundle: the built CLI, dist/cli/switchboard.cjs (scripts/bundle-server.js).
 *
 * Why by hand: Node 20 has no `module.enableCompileCache()` (Node ≥ 22.1), and `vm.Script`'s `cachedData` serves
 * only a classic script, so the bundle is CommonJS, run here in the wrapper Node's own loader gives such a file.
 *
 * The cache file is a header (magic, then a SHA-256 of the bundle and one of the V8 data) and V8's data. A cache
 * that is stale (the bundle was rebuilt), damaged, or refused by V8 (another Node or V8 flags) is ignored: the
 * bundle compiles as if there were none, and `save` writes a new one. Saving never fails the caller: a folder
 * that cannot be written is only logged (at debug).
 */
import { isAscii } from 'node:buffer';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import vm from 'node:vm';

const MAGIC = Buffer.from('SBCC1\n');
const HASH_BYTES = 32;
const HEADER_BYTES = MAGIC.length + 2 * HASH_BYTES;

/** How the cache was found at load: `used` when V8 took it. */
export type CacheState = 'used' | 'missing' | 'stale' | 'damaged' | 'rejected';

export interface CachedModule {
  /** The bundle's `module.exports`. */
  exports: unknown;
  /** How the cache was found when the bundle was loaded. */
  state: CacheState;
  /**
   * Writes the cache when the one found was not used (V8's code for the functions run so far: call it once the
   * work worth caching has run, such as the server listening). Atomic (a temporary file, then a rename); never
   * throws.
   */
  save(log?: { debug: (obj: object, msg: string) => void }): Promise<void>;
}

/** The file holding `file`'s code cache. */
export function cacheFileOf(file: string): string {
  return `${file}.cache`;
}

/** Runs the CommonJS file `file` as Node's loader would (its own `require`, `module`, `__dirname`), with its code cache. */
export function requireWithCodeCache(file: string): CachedModule {
  const bytes = fs.readFileSync(file);
  const sourceHash = sha256(bytes);
  // An ASCII file (the bundle is made so) decodes ≈ 3× faster as Latin-1, into a string of one byte a character.
  const source = bytes.toString(isAscii(bytes) ? 'latin1' : 'utf8');
  const found = readCache(cacheFileOf(file), sourceHash);
  // The wrapper's head is on the bundle's first line, so line numbers in stack traces are the file's own.
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: file,
    ...(found.data ? { cachedData: found.data } : {}),
  });
  const state: CacheState = found.data ? (script.cachedDataRejected ? 'rejected' : 'used') : found.state;
  const mod = { exports: {} as unknown };
  const wrapper = script.runInThisContext() as (...args: unknown[]) => void;
  wrapper.call(mod.exports, mod.exports, createRequire(file), mod, file, path.dirname(file));
  let saved = state === 'used';
  return {
    exports: mod.exports,
    state,
    async save(log) {
      if (saved) return;
      saved = true;
      try {
        await writeCache(cacheFileOf(file), sourceHash, script.createCachedData());
      } catch (err) {
        log?.debug({ err, file: cacheFileOf(file) }, 'code cache not written (the next start compiles the bundle again)');
      }
    },
  };
}

function sha256(data: Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}

function readCache(cacheFile: string, sourceHash: Buffer): { data?: Buffer; state: CacheState } {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(cacheFile);
  } catch {
    return { state: 'missing' };
  }
  if (bytes.length <= HEADER_BYTES || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) return { state: 'damaged' };
  const forSource = bytes.subarray(MAGIC.length, MAGIC.length + HASH_BYTES);
  if (!forSource.equals(sourceHash)) return { state: 'stale' };
  const data = bytes.subarray(HEADER_BYTES);
  // V8's release builds skip checking their data's own checksum: a damaged file must not reach V8.
  if (!sha256(data).equals(bytes.subarray(MAGIC.length + HASH_BYTES, HEADER_BYTES))) return { state: 'damaged' };
  return { data, state: 'used' };
}

async function writeCache(cacheFile: string, sourceHash: Buffer, data: Buffer): Promise<void> {
  const tmp = `${cacheFile}.${process.pid}.tmp`;
  try {
    await fs.promises.writeFile(tmp, Buffer.concat([MAGIC, sourceHash, sha256(data), data]));
    await fs.promises.rename(tmp, cacheFile);
  } finally {
    await fs.promises.rm(tmp, { force: true });
  }
}
