#!/usr/bin/env node
/**
 * The `switchboard` command run from the sources (`npm run dev`, `tsx src/cli/main.ts`). The built CLI starts
 * from launch.ts instead (dist/cli/main.js), which runs the same program from one bundle with V8's code cache.
 */
import module from 'node:module';
import { runCli } from './program.js';

// Node 22.1 and later keep V8's compiled code of the modules loaded from here on in a cache on disk, so the
// next start skips compiling them; Node 20 has no such cache.
(module as { enableCompileCache?: () => unknown }).enableCompileCache?.();

runCli(process.argv);
