import type { Bus, BusHandler } from './bus.js';

/**
 * The in-process bus of a single node. Messages are delivered asynchronously (on a microtask), as they
 * would be over Redis, so code that works on one node does not depend on synchronous delivery.
 * A channel ending in `.*` receives every message whose channel starts with what precedes the `*`.
 */
export class MemoryBus implements Bus {
  private readonly handlers = new Map<string, Set<BusHandler>>();

  async publish(channel: string, message: unknown): Promise<void> {
    // Deliver a copy, as a network bus would: subscribers must not share mutable objects.
    const payload = JSON.stringify(message);
    const targets: BusHandler[] = [];
    for (const [pattern, set] of this.handlers) {
      if (pattern === channel || (pattern.endsWith('*') && channel.startsWith(pattern.slice(0, -1)))) targets.push(...set);
    }
    if (targets.length === 0) return;
    queueMicrotask(() => {
      for (const h of targets) {
        try {
          h(JSON.parse(payload));
        } catch {
          /* a failing subscriber must not break the others */
        }
      }
    });
  }

  async subscribe(channel: string, handler: BusHandler): Promise<() => Promise<void>> {
    let set = this.handlers.get(channel);
    if (!set) this.handlers.set(channel, (set = new Set()));
    set.add(handler);
    return async () => {
      set!.delete(handler);
      if (set!.size === 0) this.handlers.delete(channel);
    };
  }

  async close(): Promise<void> {
    this.handlers.clear();
  }
}
