/**
 * Which offline audio programs this machine lacks. CI installs them (scripts/system-deps.sh runs as
 * `pretest`); a test that needs a missing one is skipped with the reason printed, never passed silently.
 */
import { spawnSync } from 'node:child_process';

/** Why tests needing `programs` cannot run here, or undefined when all are installed. */
export function missingTools(...programs: string[]): string | undefined {
  const missing = programs.filter((p) => spawnSync('sh', ['-c', 'command -v "$0"', p]).status !== 0);
  if (missing.length === 0) return undefined;
  const reason = `skipped: ${missing.join(', ')} not installed (run bash scripts/system-deps.sh)`;
  console.warn(reason);
  return reason;
}
