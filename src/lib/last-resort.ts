import type { Logger } from './logger.js';

/**
 * The server's safety net: a rejection nobody handled or an exception nobody caught is logged loudly
 * (level fatal) instead of ending the process and every live call with it. It is not how failures are
 * handled: each path awaits its promises or hands them to `background()`, and the fault tests count what
 * reaches this net and expect nothing. A line from here is a bug to fix. Installed by `switchboard serve`
 * only; tests and embedders keep Node's own behaviour.
 */
export function installLastResort(log: Pick<Logger, 'fatal'>): void {
  process.on('unhandledRejection', (reason) => {
    log.fatal({ err: reason }, 'unhandled promise rejection (a bug: it must be awaited or handed to background())');
  });
  process.on('uncaughtException', (err, origin) => {
    log.fatal({ err, origin }, 'uncaught exception (a bug: an error event or a throw nobody handles)');
  });
}
