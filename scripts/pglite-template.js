#!/usr/bin/env node
/**
 * Build step: makes the embedded database template (src/store/pglite-template.ts, compiled by the step
 * before). Only an optimisation: a failure here does not fail the build.
 */
import path from 'node:path';
import { makeTemplate } from '../dist/store/pglite-template.js';

try {
  const file = await makeTemplate();
  process.stdout.write(`embedded database template: ${path.relative(process.cwd(), file)}\n`);
} catch (err) {
  process.stderr.write(`embedded database template not made: ${err instanceof Error ? err.message : String(err)}\n`);
}
