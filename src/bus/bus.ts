/**
 * Publish/subscribe between the parts of Switchboard and, with Redis, between nodes. Call events
 * (`call.events.<callId>`) fan out to every subscriber on every node; commands for a live call
 * (`call.commands.<callId>`) reach the node whose session owns the call.
 */
import type { Logger } from '../lib/logger.js';

/**
 * A subscriber; it may be async (a returned promise is watched). A failure, thrown or rejected, is logged
 * by the bus and never passed on. Its return value is otherwise ignored (hence `unknown`, not `void`,
 * which would make async handlers a lint error).
 */
export type BusHandler = (message: unknown) => unknown;

export interface Bus {
  publish(channel: string, message: unknown): Promise<void>;
  /** Returns the function that ends the subscription. */
  subscribe(channel: string, handler: BusHandler): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export const channels = {
  callEvents: (callId: string) => `call.events.${callId}`,
  callCommands: (callId: string) => `call.commands.${callId}`,
  commandReplies: (replyTo: string) => `call.replies.${replyTo}`,
  /** Every call event of every call (the metrics and the dashboard). */
  allCallEvents: 'call.events.*',
};

/**
 * Hands `message` to each handler. One failing subscriber (sync or async) must not break the others nor
 * end the process: its failure is logged here, the one place every bus delivers through.
 */
export function deliver(log: Pick<Logger, 'error'>, channel: string, handlers: Iterable<BusHandler>, message: () => unknown): void {
  for (const h of handlers) {
    try {
      const r = h(message());
      if (r instanceof Promise) r.catch((err: unknown) => log.error({ err, channel }, 'bus subscriber failed'));
    } catch (err) {
      log.error({ err, channel }, 'bus subscriber failed');
    }
  }
}
