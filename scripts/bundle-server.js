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

/**
 * The server as one ES module and the chunks it loads on demand: dist/cli/main.js (overwriting tsc's file
 * of that name) and dist/cli/chunk-*.js, and the embedded store's worker, dist/cli/pglite-worker.js. Node's ES module loader resolves, reads and links each file on its
 * own; the default start loaded about 1,100 of them (our 560 compiled files, Kysely, TypeBox, the OpenAI SDK
 * …), which was most of a warm start's module loading (docs/performance.md, "Warm start, fourth round").
 * The chunks sit in dist/cli/ beside main.js, two folders below the repository like every compiled file
 * (`projectRoot()` counts on it). A package written as CommonJS calls `require`, which an ES module lacks:
 * each output file defines one (and `__sbPackagePath`, see `ownFolders`). The other files of dist/ (tsc's) stay for
 * the tools that import them.
 */
async function bundleServer() {
  const out = path.join(ROOT, 'dist', 'cli');
  for (const f of fs.readdirSync(out)) if (/^chunk-.*\.js(\.map)?$/.test(f)) fs.rmSync(path.join(out, f));
  try {
    await esbuild.build({
      absWorkingDir: ROOT,
      // The embedded store's worker thread is started from its own file beside main.js (src/store/pglite-thread.ts).
      entryPoints: { main: 'src/cli/main.ts', 'pglite-worker': 'src/store/pglite-worker.ts' },
      outdir: out,
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      external: EXTERNAL,
      sourcemap: true,
      chunkNames: 'chunk-[hash]',
      plugins: [ownFolders()],
      banner: {
        js: [
          "import { createRequire as __sbCreateRequire } from 'node:module';",
          'const require = __sbCreateRequire(import.meta.url);',
          PACKAGE_PATH,
        ].join('\n'),
      },
      logLevel: 'warning',
    });
    return true;
  } catch {
    return false; // esbuild has printed why
  }
}

process.exit((await bundleServer()) ? 0 : 1);
