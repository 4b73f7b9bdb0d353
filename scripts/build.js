#!/usr/bin/env node
/**
 * `npm run build` (also run at install, by `prepare`), and the freshness check behind `npm start`.
 *
 * A build compiles src/ into dist/ (tsc), bundles the server (src/cli/main.ts → dist/cli/main.js and its
 * chunks, esbuild: see `bundleServer`), bundles the dashboard (web/ → dist/dashboard, Vite), makes the
 * embedded database template, and leaves a stamp dated when the build began. `npm start` rebuilds only when a source is newer than that stamp, so a warm start
 * runs the compiled server at once instead of compiling first. (Plain JS, no dependency: it must run
 * before anything is compiled.)
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

/** Whether the compiler is installed (not after `npm ci --omit=dev`, where dist/ is all there is). */
export function canBuild() {
  try {
    createRequire(import.meta.url).resolve('typescript/bin/tsc');
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
    bundleServer,
    [vite, 'build', '--config', path.join('web', 'vite.config.js')],
    [path.join('scripts', 'pglite-template.js')],
  ];
  for (const step of steps) {
    if (typeof step === 'function') {
      if (!step()) return false;
      continue;
    }
    const r = spawnSync(process.execPath, step, { cwd: ROOT, stdio: 'inherit' });
    if (r.status !== 0) return false;
  }
  fs.writeFileSync(STAMP, `${began.toISOString()}\n`);
  fs.utimesSync(STAMP, began, began);
  return true;
}

/**
 * Packages left out of the server bundle, loaded from node_modules as before: PGlite finds its WebAssembly
 * and data files next to its own module; `@fastify/swagger-ui` serves files from its own folder
 * (`__dirname`); pino starts its transports from file paths; `@alexanderolsen/libsamplerate-js` is loaded
 * with `require` on purpose (src/ai/tts/pcm-to-mulaw.ts). The rest are large and loaded only when a feature
 * needs them (dynamic imports): bundling them would only make the build slower.
 */
const EXTERNAL = [
  '@electric-sql/pglite',
  '@fastify/swagger-ui',
  'pino',
  '@alexanderolsen/libsamplerate-js',
  'twilio',
  '@aws-sdk/*',
  'google-auth-library',
  'ioredis',
  'pg',
  'playwright-core',
];

/**
 * The server as one ES module and the chunks it loads on demand: dist/cli/main.js (overwriting tsc's file
 * of that name) and dist/cli/chunk-*.js. Node's ES module loader resolves, reads and links each file on its
 * own; the default start loaded about 1,100 of them (our 560 compiled files, Kysely, TypeBox, the OpenAI SDK
 * …), which was most of a warm start's module loading (docs/performance.md, "Warm start, fourth round").
 * The chunks sit in dist/cli/ beside main.js, two folders below the repository like every compiled file
 * (`projectRoot()` counts on it). A package written as CommonJS calls `require`, which an ES module lacks:
 * each output file defines one. The other files of dist/ (tsc's) stay for the tools that import them.
 */
export function bundleServer() {
  const require = createRequire(import.meta.url);
  const esbuild = require('esbuild');
  const out = path.join(ROOT, 'dist', 'cli');
  for (const f of fs.readdirSync(out)) if (/^chunk-.*\.js(\.map)?$/.test(f)) fs.rmSync(path.join(out, f));
  try {
    esbuild.buildSync({
      absWorkingDir: ROOT,
      entryPoints: { main: 'src/cli/main.ts' },
      outdir: out,
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      external: EXTERNAL,
      sourcemap: true,
      chunkNames: 'chunk-[hash]',
      banner: { js: "import { createRequire as __sbCreateRequire } from 'node:module';\nconst require = __sbCreateRequire(import.meta.url);" },
      logLevel: 'warning',
    });
    return true;
  } catch {
    return false; // esbuild has printed why
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exit(build() ? 0 : 1);
}
