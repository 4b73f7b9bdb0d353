/**
 * The `switchboard` command as it is installed: the compiled dist/cli/main.js. The CLI tests start dozens of
 * processes; one that runs the built JavaScript starts about a second of CPU sooner than one that compiles
 * the TypeScript sources through tsx, which on a loaded 2-core machine is minutes of the suite.
 *
 * `ensureBuilt()` brings dist/ up to date first (a no-op after `npm ci`, which builds): once, however many
 * test files ask at the same time (a lock folder makes the others wait for that build, then find it fresh).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';

export const ROOT = path.resolve(__dirname, '../..');
export const MAIN = path.join(ROOT, 'dist', 'cli', 'main.js');

/** A lock held longer than this is left by a process that died mid-build: taken over. */
const STALE_LOCK_MS = 15 * 60_000;

interface Build {
  build(): boolean;
  isStale(): boolean;
}

export async function ensureBuilt(): Promise<void> {
  const { build, isStale } = (await import(path.join(ROOT, 'scripts', 'build.js'))) as Build;
  const lock = path.join(os.tmpdir(), `switchboard-build-${createHash('sha256').update(ROOT).digest('hex').slice(0, 12)}`);
  for (;;) {
    if (!isStale()) return;
    if (takeLock(lock)) {
      try {
        if (isStale() && !build()) throw new Error('npm run build failed (its output is above)');
        return;
      } finally {
        fs.rmSync(lock, { recursive: true, force: true });
      }
    }
    await new Promise((r) => setTimeout(r, 500)); // another test file is building
  }
}

function takeLock(lock: string): boolean {
  try {
    fs.mkdirSync(lock);
    return true;
  } catch {
    const since = fs.statSync(lock, { throwIfNoEntry: false })?.mtimeMs;
    if (since !== undefined && Date.now() - since > STALE_LOCK_MS) fs.rmSync(lock, { recursive: true, force: true });
    return false;
  }
}
