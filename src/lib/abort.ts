/**
 * One shared reason for routine aborts: a timer that is no longer needed, a clause that is over. `abort()`
 * with no reason builds a new `DOMException` with a stack trace each time, and every turn of every call
 * aborts a few such controllers: at 100 calls that was a visible share of a node's CPU (docs/performance.md
 * §8, "Per-call CPU, second round"). Its name is `AbortError`, as the DOMException's would be, so code that
 * tells an abort from a failure by name reads it the same way. Never thrown where its stack would matter.
 *
 * @example
 *   timer.abort(ROUTINE_ABORT);
 */
export const ROUTINE_ABORT: Error = Object.assign(new Error('aborted'), { name: 'AbortError' });
