/**
 * The built `switchboard` command (scripts/bundle-server.js makes this file dist/cli/main.js): it runs the CLI
 * bundled as one CommonJS file, dist/cli/switchboard.cjs, with V8's code cache of it beside it, so that a warm
 * start does not parse and compile the ≈ 6 MB of JavaScript again (docs/performance.md §14). The cache is
 * written once the server listens, when the functions a start runs have been compiled (src/lib/code-cache.ts).
 */
import { fileURLToPath } from 'node:url';
import { requireWithCodeCache } from '../lib/code-cache.js';
import { opensEmbeddedStore, startEarlyStoreThread } from '../store/early-thread.js';
import type { runCli } from './program.js';

// `serve` on the embedded store: its worker starts now and compiles PGlite while the bundle loads.
if (opensEmbeddedStore(process.argv, process.env)) startEarlyStoreThread(new URL('./pglite-worker.js', import.meta.url));

const cli = requireWithCodeCache(fileURLToPath(new URL('./switchboard.cjs', import.meta.url)));
(cli.exports as { runCli: typeof runCli }).runCli(process.argv, { listening: (log) => cli.save(log) });
