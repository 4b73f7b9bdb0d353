import type { Logger } from './logger.js';

/**
 * Runs work nobody waits for, and logs its failure instead of letting it end the process.
 *
 * Node ends the process on an unhandled rejection, so a promise is either awaited or handed here: one
 * place where fire-and-forget work is visible (the linter's `no-floating-promises` allows nothing else).
 * `what` is a static message (values go in `fields`, never in the message; no personal data).
 *
 * @example background(log, 'webhook wake failed', jobs.wake(), { callId })
 */
export function background(log: Pick<Logger, 'error'>, what: string, work: Promise<unknown> | (() => Promise<unknown>), fields: Record<string, unknown> = {}): void {
  let p: Promise<unknown>;
  try {
    p = typeof work === 'function' ? work() : work;
  } catch (err) {
    log.error({ ...fields, err }, what);
    return;
  }
  p.catch((err: unknown) => {
    try {
      log.error({ ...fields, err }, what);
    } catch {
      // A logger that throws (its stream is gone) must not turn a logged failure into a crash.
    }
  });
}
