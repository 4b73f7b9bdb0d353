import { Redis } from 'ioredis';
import type { Bus, BusHandler } from './bus.js';

/**
 * The cluster bus over Redis pub/sub. One connection publishes, one subscribes; channels ending in `*`
 * use pattern subscriptions. Every key and channel carries the deployment's prefix so that several
 * deployments (or test runs) can share one Redis.
 */
export class RedisBus implements Bus {
  private readonly pub: Redis;
  private readonly sub: Redis;
  private readonly handlers = new Map<string, Set<BusHandler>>();

  constructor(
    url: string,
    private readonly prefix = 'sb:',
  ) {
    this.pub = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 3 });
    this.sub = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 3 });
    const deliver = (channel: string, raw: string) => {
      const set = this.handlers.get(channel);
      if (!set) return;
      let msg: unknown;
      try {
        msg = JSON.parse(raw);
      } catch {
        return;
      }
      for (const h of set) {
        try {
          h(msg);
        } catch {
          /* isolate subscribers */
        }
      }
    };
    this.sub.on('message', (channel: string, raw: string) => deliver(channel, raw));
    this.sub.on('pmessage', (pattern: string, _channel: string, raw: string) => deliver(pattern, raw));
  }

  async publish(channel: string, message: unknown): Promise<void> {
    await this.pub.publish(this.prefix + channel, JSON.stringify(message));
  }

  async subscribe(channel: string, handler: BusHandler): Promise<() => Promise<void>> {
    const full = this.prefix + channel;
    const pattern = channel.endsWith('*');
    let set = this.handlers.get(full);
    if (!set) {
      this.handlers.set(full, (set = new Set()));
      if (pattern) await this.sub.psubscribe(full);
      else await this.sub.subscribe(full);
    }
    set.add(handler);
    return async () => {
      set!.delete(handler);
      if (set!.size === 0 && this.handlers.get(full) === set) {
        this.handlers.delete(full);
        if (pattern) await this.sub.punsubscribe(full).catch(() => {});
        else await this.sub.unsubscribe(full).catch(() => {});
      }
    };
  }

  async close(): Promise<void> {
    this.handlers.clear();
    this.sub.disconnect();
    this.pub.disconnect();
  }
}
