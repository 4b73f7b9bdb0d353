/**
 * Publish/subscribe between the parts of Switchboard and, with Redis, between nodes. Call events
 * (`call.events.<callId>`) fan out to every subscriber on every node; commands for a live call
 * (`call.commands.<callId>`) reach the node whose session owns the call.
 */
export type BusHandler = (message: unknown) => void;

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
