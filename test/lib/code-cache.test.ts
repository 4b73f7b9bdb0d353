/**
 * The built CLI's code cache (src/lib/code-cache.ts): a bundle runs the same whether its cache is missing,
 * fresh, stale or damaged, and a cache that was not used is written again.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cacheFileOf, requireWithCodeCache } from '../../src/lib/code-cache.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** A CommonJS "bundle" using what Node's loader gives a file: `require`, `module`, `__dirname`, `__filename`. */
function bundle(version: number): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-code-cache-'));
  dirs.push(dir);
  const file = path.join(dir, 'bundle.cjs');
  writeBundle(file, version);
  return file;
}

function writeBundle(file: string, version: number): void {
  fs.writeFileSync(
    file,
    [
      "const path = require('node:path');",
      `function answer(n) { return n * ${version}; }`,
      `module.exports = { version: ${version}, answer, here: path.basename(__dirname) === path.basename(path.dirname(__filename)), self: exports === module.exports };`,
      // Enough code for V8 to have something to cache (and functions run before the cache is made).
      ...Array.from({ length: 200 }, (_, i) => `module.exports.f${i} = function f${i}(x) { return [x, ${i}].join('-'); };`),
      'for (let i = 0; i < 200; i++) module.exports[`f${i}`](i);',
    ].join('\n'),
  );
}

interface Exports {
  version: number;
  answer: (n: number) => number;
  here: boolean;
  self: boolean;
}

describe('code cache', () => {
  it('runs the bundle as Node would, writes a fresh cache when asked, and uses it on the next load', async () => {
    const file = bundle(2);
    const first = requireWithCodeCache(file);
    const mod = first.exports as Exports;
    expect([mod.version, mod.answer(21), mod.here, mod.self]).toEqual([2, 42, true, true]);
    expect(first.state).toBe('missing');
    expect(fs.existsSync(cacheFileOf(file))).toBe(false); // nothing written before `save`

    await first.save();
    expect(fs.statSync(cacheFileOf(file)).size).toBeGreaterThan(1000);
    expect(fs.readdirSync(path.dirname(file)).sort()).toEqual(['bundle.cjs', 'bundle.cjs.cache']); // no temporary file left

    const second = requireWithCodeCache(file);
    expect(second.state).toBe('used');
    expect((second.exports as Exports).answer(21)).toBe(42);
    // A cache that was used is not written again.
    const earlier = new Date('2020-01-01T00:00:00Z');
    fs.utimesSync(cacheFileOf(file), earlier, earlier);
    await second.save();
    expect(fs.statSync(cacheFileOf(file)).mtime).toEqual(earlier);
  });

  it('a cache made for an earlier build is ignored: the new bundle runs, and its own cache replaces it', async () => {
    const file = bundle(2);
    const old = requireWithCodeCache(file);
    await old.save();
    writeBundle(file, 3);

    const rebuilt = requireWithCodeCache(file);
    expect(rebuilt.state).toBe('stale');
    expect((rebuilt.exports as Exports).answer(21)).toBe(63);
    await rebuilt.save();
    const next = requireWithCodeCache(file);
    expect(next.state).toBe('used');
    expect((next.exports as Exports).answer(21)).toBe(63);
  });

  it.each([
    ['cut short', (b: Buffer) => b.subarray(0, b.length - 100)],
    ['one byte of V8 data flipped', (b: Buffer) => Buffer.concat([b.subarray(0, b.length - 50), Buffer.from([b[b.length - 50]! ^ 0xff]), b.subarray(b.length - 49)])],
    ['not a cache at all', () => Buffer.from('garbage')],
    ['empty', () => Buffer.alloc(0)],
  ])('a damaged cache (%s) is ignored: the bundle still runs, and the cache is written again', async (_what, damage) => {
    const file = bundle(5);
    await requireWithCodeCache(file).save();
    fs.writeFileSync(cacheFileOf(file), damage(fs.readFileSync(cacheFileOf(file))));

    const loaded = requireWithCodeCache(file);
    expect(loaded.state).toBe('damaged');
    expect((loaded.exports as Exports).answer(2)).toBe(10);
    await loaded.save();
    expect(requireWithCodeCache(file).state).toBe('used');
  });

  it('a cache that cannot be written: saving logs at debug and neither throws nor leaves a file behind', async () => {
    // The cache's path taken by a folder, which no file can replace (a read-only folder would not stop root).
    const file = bundle(7);
    fs.mkdirSync(cacheFileOf(file));
    const loaded = requireWithCodeCache(file);
    expect(loaded.state).toBe('missing');
    expect((loaded.exports as Exports).answer(3)).toBe(21);
    const log = { debug: vi.fn() };
    await expect(loaded.save(log)).resolves.toBeUndefined();
    expect(log.debug).toHaveBeenCalledWith(expect.objectContaining({ file: cacheFileOf(file) }), expect.stringMatching(/code cache not written/));
    expect(fs.readdirSync(path.dirname(file)).sort()).toEqual(['bundle.cjs', 'bundle.cjs.cache']);
  });
});
