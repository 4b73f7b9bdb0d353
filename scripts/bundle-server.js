#!/usr/bin/env node
/**
 * Build step (scripts/build.js, after tsc): the server bundled by esbuild. Run on its own after a change to
 * src/ when only the bundle is wanted: `node scripts/bundle-server.js`.
 */
import esbuild from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Packages left out of the server bundle, loaded from node_modules as before: PGlite finds its WebAssembly
 * and data files next to its own module, and `@alexanderolsen/libsamplerate-js` is loaded with `require` on
 * purpose (src/ai/tts/pcm-to-mulaw.ts). The rest are large and loaded only when a feature needs them
 * (dynamic imports): bundling them would only make the build slower.
 */
const EXTERNAL = [
  '@electric-sql/pglite',
  '@alexanderolsen/libsamplerate-js',
  'twilio',
  '@aws-sdk/*',
  'google-auth-library',
  'ioredis',
  'pg',
  'playwright-core',
  // Loaded when OpenAI's speech is configured (src/lib/kept-fetch.ts), not parsed at every start.
  'undici',
  // Only the sources (`.ts`, run by tsx) bundle the store's worker at run time (src/store/pglite-thread.ts).
  'esbuild',
];

/**
 * A bundled CommonJS file of a package that reads its own folder (`__dirname`: swagger-ui's page and logo,
 * pino's transport worker) gets that folder in the installed package, found at run time by Node's own
 * resolution from the bundle's place (`__sbPackagePath`, defined by the banner), wherever npm put it.
 */
function ownFolders() {
  return {
    name: 'own-folders',
    setup(b) {
      b.onLoad({ filter: /[\\/]node_modules[\\/].*\.c?js$/ }, (args) => {
        const text = fs.readFileSync(args.path, 'utf8');
        if (!/\b__(dirname|filename)\b/.test(text)) return undefined;
        // An ES module of a package declares its own (from import.meta.url).
        if (/import\.meta|\b(const|let|var|function)\s+__(dirname|filename)\b/.test(text)) return undefined;
        const pkg = packageOf(args.path);
        const at = (p) => `__sbPackagePath(${JSON.stringify(pkg.name)}, ${JSON.stringify(path.relative(pkg.dir, p).split(path.sep).join('/'))})`;
        const head = `var __dirname = ${at(path.dirname(args.path))}, __filename = ${at(args.path)};`;
        // On the file's first line (after a `#!` line), so that the source map's lines stay those of the file.
        const cut = text.startsWith('#!') ? text.indexOf('\n') + 1 : 0;
        return { contents: text.slice(0, cut) + head + text.slice(cut), loader: 'js', resolveDir: path.dirname(args.path) };
      });
    },
  };
}

/** The package a file belongs to: the nearest package.json above it that has a name. */
function packageOf(file) {
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    const json = path.join(dir, 'package.json');
    const name = fs.existsSync(json) ? JSON.parse(fs.readFileSync(json, 'utf8')).name : undefined;
    if (name) return { name, dir };
    if (path.dirname(dir) === dir) throw new Error(`no package above ${file}`);
  }
}

/**
 * Run time (banner): a path inside an installed package, from its entry point up to its package.json. A
 * package this place cannot resolve (a dependency's own nested dependency) gets the path where npm usually
 * puts it: such a file only names its folder in code a default start never runs (pino's transport worker).
 */
const PACKAGE_PATH = `function __sbPackagePath(name, rel) {
  const { dirname, join } = require('node:path');
  const { existsSync, readFileSync } = require('node:fs');
  let dir;
  try {
    dir = dirname(require.resolve(name));
  } catch {
    return join(dirname(require.resolve('./main.js')), '..', '..', 'node_modules', name, rel);
  }
  for (; ; dir = dirname(dir)) {
    const json = join(dir, 'package.json');
    if (existsSync(json) && JSON.parse(readFileSync(json, 'utf8')).name === name) return join(dir, rel);
    if (dirname(dir) === dir) return join(dirname(require.resolve(name)), rel);
  }
}`;

/** What a build of ours leaves in dist/cli/ besides tsc's files: removed first, so nothing stale stays. */
const OUTPUTS = /^(chunk-.*\.js|switchboard\.cjs(\.cache)?|pglite-worker\.js)(\.map)?$/;

/**
 * The CLI, server included, as ONE CommonJS file, dist/cli/switchboard.cjs, run by a small launcher,
 * dist/cli/main.js (src/cli/launch.ts, overwriting tsc's file of that name), with V8's code cache of it kept
 * beside it (src/lib/code-cache.ts). One file because Node's ES module loader resolves, reads and links each
 * file on its own (a warm start loaded about 1,100 of them before the bundle: docs/performance.md, "Warm start,
 * fourth round"); CommonJS because Node 20 keeps no compiled code of ES modules, and `vm.Script`'s cached data
 * serves classic scripts only. A module imported with `import()` in src/ stays lazy inside the file (esbuild
 * runs its top level at that `import()`), so `keys` or `migrate` never run the server's modules.
 * The embedded store's worker is a file of its own, dist/cli/pglite-worker.js (an ES module, as before).
 * The files sit in dist/cli/, two folders below the repository like every compiled file (`projectRoot()`
 * counts on it). The other files of dist/ (tsc's) stay for the tools that import them.
 */
async function bundleServer() {
  const out = path.join(ROOT, 'dist', 'cli');
  for (const f of fs.readdirSync(out)) if (OUTPUTS.test(f)) fs.rmSync(path.join(out, f));
  const common = {
    absWorkingDir: ROOT,
    bundle: true,
    platform: 'node',
    target: 'node20',
    external: EXTERNAL,
    plugins: [ownFolders()],
    logLevel: 'warning',
  };
  try {
    await esbuild.build({
      ...common,
      entryPoints: { switchboard: 'src/cli/program.ts' },
      outdir: out,
      outExtension: { '.js': '.cjs' },
      format: 'cjs',
      // `import()` of a package left out becomes a `require` (each has a CommonJS build): a script run by
      // `vm.Script` has no loader for `import()` without an experimental flag.
      supported: { 'dynamic-import': false },
      // Whitespace and syntax only: the file is 40 % smaller to read and hash at each start, and stack traces
      // keep the functions' names. Their positions are in one long line: the source map beside the file reads
      // them back to src/ (by hand, e.g. `npx source-map-cli`; Node applies no source map to a `vm.Script`).
      minifyWhitespace: true,
      minifySyntax: true,
      sourcemap: 'external',
      define: { 'import.meta.url': '__sbImportMetaUrl' },
      banner: { js: [`var __sbImportMetaUrl = require('node:url').pathToFileURL(__filename).href;`, PACKAGE_PATH].join('\n') },
    });
    asciiOnly(path.join(out, 'switchboard.cjs'));
    await esbuild.build({
      ...common,
      entryPoints: { main: 'src/cli/launch.ts', 'pglite-worker': 'src/store/pglite-worker.ts' },
      outdir: out,
      format: 'esm',
      sourcemap: true,
      banner: {
        js: [
          "import { createRequire as __sbCreateRequire } from 'node:module';",
          'const require = __sbCreateRequire(import.meta.url);',
          PACKAGE_PATH,
        ].join('\n'),
      },
    });
    return true;
  } catch {
    return false; // esbuild has printed why
  }
}

/**
 * esbuild escapes characters beyond ASCII in strings, but not in regular expression literals (a few of ours):
 * escaped here too, so that the launcher can read the bundle as a one-byte string, ≈ 3× faster than decoding
 * UTF-8, and half the memory V8 keeps it in (src/lib/code-cache.ts). `\uXXXX` means the same character in a
 * string, a template, a regular expression (with or without the `u` flag) and an identifier.
 */
function asciiOnly(file) {
  const text = fs.readFileSync(file, 'utf8');
  const escaped = text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (escaped !== text) fs.writeFileSync(file, escaped);
}

process.exit((await bundleServer()) ? 0 : 1);
