#!/usr/bin/env node
/**
 * `npm start`: the compiled server, rebuilt first only when a source is newer than the last build.
 * The server runs in this very process, and package.json `exec`s it in place of npm's shell (dash does not
 * on its own), so a signal a process manager sends to `npm` reaches the server, not an orphaned child.
 */
import { build, canBuild, isStale } from './build.js';

if (isStale()) {
  if (canBuild()) {
    process.stderr.write('switchboard: sources changed since the last build: building first\n');
    if (!build()) process.exit(1);
  } else {
    process.stderr.write('switchboard: dist/ may be older than src/, and the compiler is not installed: starting it as it is\n');
  }
}
// dist/cli/main.js runs the CLI from one bundle with V8's code cache kept beside it (src/cli/launch.ts).
await import('../dist/cli/main.js');
