#!/usr/bin/env node
// Thin launcher: the CLI is built into dist/ by `npm install` (the prepare script).
import module from 'node:module';

// Node 22.1 and later keep V8's compiled code of the CLI's modules on disk for the next start (Node 20: none).
module.enableCompileCache?.();
await import('../dist/cli/main.js');
