#!/usr/bin/env node
// Thin launcher: the CLI is built into dist/ by `npm install` (the prepare script). dist/cli/main.js runs it
// from one bundle with V8's code cache kept beside it (src/cli/launch.ts).
await import('../dist/cli/main.js');
