import { deliver, type Bus, type BusHandler } from './bus.js';
import { fallbackLogger, type Logger } from '../lib/logger.js';

/**
 * The in-process bus of a single node. Messages are delivered asynchronously (on a microtask), as they
 * would be over Redis, so code that works on one node does not depend on synchronous delivery.
 * A channel ending in `.*` receives every message whose channel starts with what precedes the `*`.
 */
export class MemoryBus implements Bus {
  private readonly handlers = new Map<string, Set<BusHandler>>();
  /** Wildcard subscriptions (few: metrics, dashboards), kept apart so exact channels are one lookup. */
  private readonly patterns = new Map<string, Set<BusHandler>>();

  constructor(private readonly log: Pick<Logger, 'error'> = fallbackLogger()) {}

  async publish(channel: string, message: unknown): Promise<void> {
    const targets: BusHandler[] = [...(this.handlers.get(channel) ?? [])];
    for (const [prefix, set] of this.patterns) if (channel.startsWith(prefix)) targets.push(...set);
    if (targets.length === 0) return;
    // Deliver a copy, as a network bus would: subscribers must not share mutable objects.
    const payload = JSON.stringify(message);
    queueMicrotask(() => deliver(this.log, channel, targets, () => JSON.parse(payload)));
  }

  async subscribe(channel: string, handler: BusHandler): Promise<() => Promise<void>> {
    const pattern = channel.endsWith('*');
    const map = pattern ? this.patterns : this.handlers;
    const key = pattern ? channel.slice(0, -1) : channel;
    let set = map.get(key);
    if (!set) map.set(key, (set = new Set()));
    set.add(handler);
    return async () => {
      set!.delete(handler);
      if (set!.size === 0 && map.get(key) === set) map.delete(key);
    };
  }

  async close(): Promise<void> {
    this.handlers.clear();
    this.patterns.clear();
  }
}
