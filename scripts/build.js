#!/usr/bin/env node
/**
 * `npm run build` (also run at install, by `prepare`), and the freshness check behind `npm start`.
 *
 * A build compiles src/ into dist/ (tsc), bundles the CLI and server (src/cli/program.ts → dist/cli/switchboard.cjs,
 * run by dist/cli/main.js: scripts/bundle-server.js), bundles the dashboard (web/ → dist/dashboard, Vite), makes the
 * embedded database template, and leaves a stamp dated when the build began. `npm start` rebuilds only when
 * a source is newer than that stamp, so a warm start runs the built server at once instead of compiling
 * first. (Plain JS, no dependency: it must run before anything is compiled.)
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const STAMP = path.join(ROOT, 'dist', '.build-stamp');
/** What a build reads: a change to any of them (an edit, a new or deleted file) calls for a new build. */
const INPUTS = ['src', 'web', 'tsconfig.json', 'tsconfig.build.json'];

/** The latest modification under `p` (directories count: deleting a file changes its folder). */
function newest(p) {
  const st = fs.statSync(p, { throwIfNoEntry: false });
  if (!st) return 0;
  if (!st.isDirectory()) return st.mtimeMs;
  let m = st.mtimeMs;
  for (const entry of fs.readdirSync(p)) m = Math.max(m, newest(path.join(p, entry)));
  return m;
}

/** Whether dist/ is missing or older than a source. */
export function isStale() {
  const stamp = fs.statSync(STAMP, { throwIfNoEntry: false });
  if (!stamp || !fs.existsSync(path.join(ROOT, 'dist', 'cli', 'main.js'))) return true;
  return INPUTS.some((input) => newest(path.join(ROOT, input)) > stamp.mtimeMs);
}

/** Whether the compiler and the bundler are installed (not after `npm ci --omit=dev`, where dist/ is all there is). */
export function canBuild() {
  try {
    const require = createRequire(import.meta.url);
    require.resolve('typescript/bin/tsc');
    require.resolve('esbuild');
    return true;
  } catch {
    return false;
  }
}

/** Builds dist/; false when a step failed (its output has said why). */
export function build() {
  const began = new Date(); // a source saved during the build is then still newer than the stamp
  const require = createRequire(import.meta.url);
  const tsc = require.resolve('typescript/bin/tsc');
  const vite = path.join(path.dirname(require.resolve('vite/package.json')), 'bin', 'vite.js');
  const steps = [
    [tsc, '-p', 'tsconfig.build.json'],
    [path.join('scripts', 'bundle-server.js')],
    [vite, 'build', '--config', path.join('web', 'vite.config.js')],
    [path.join('scripts', 'pglite-template.js')],
  ];
  for (const args of steps) {
    const r = spawnSync(process.execPath, args, { cwd: ROOT, stdio: 'inherit' });
    if (r.status !== 0) return false;
  }
  fs.writeFileSync(STAMP, `${began.toISOString()}\n`);
  fs.utimesSync(STAMP, began, began);
  return true;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exit(build() ? 0 : 1);
}
