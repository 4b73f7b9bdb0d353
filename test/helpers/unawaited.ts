/**
 * Test code's `background()`: work a fake or a test starts and does not await. Its failure is printed
 * and kept in `unawaitedFailures` (instead of an unhandled rejection ending the test run somewhere else),
 * so a suite can assert that none happened.
 */
export const unawaitedFailures: unknown[] = [];

export function unawaited(work: unknown): void {
  if (work && typeof (work as Promise<unknown>).then === 'function') {
    (work as Promise<unknown>).then(undefined, (err: unknown) => {
      unawaitedFailures.push(err);
      console.error('unawaited test work failed', err);
    });
  }
}
