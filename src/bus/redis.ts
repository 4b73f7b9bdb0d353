import { Redis } from 'ioredis';
import { deliver, type Bus, type BusHandler } from './bus.js';
import { fallbackLogger, type Logger } from '../lib/logger.js';

/**
 * The cluster bus over Redis pub/sub. One connection publishes, one subscribes; channels ending in `*`
 * use pattern subscriptions. Every key and channel carries the deployment's prefix so that several
 * deployments (or test runs) can share one Redis.
 *
 * When Redis goes away both connections reconnect on their own (ioredis) and the subscriber subscribes
 * again; meanwhile a publish fails after a few attempts (its caller decides what that means) and
 * messages published elsewhere are lost, as pub/sub always loses them with no subscriber.
 */
export class RedisBus implements Bus {
  private readonly pub: Redis;
  private readonly sub: Redis;
  private readonly handlers = new Map<string, Set<BusHandler>>();

  constructor(
    url: string,
    private readonly prefix = 'sb:',
    private readonly log: Pick<Logger, 'error' | 'warn'> = fallbackLogger(),
  ) {
    this.pub = this.connect(url, 'publish');
    this.sub = this.connect(url, 'subscribe');
    const onMessage = (channel: string, raw: string) => {
      const set = this.handlers.get(channel);
      if (!set) return;
      let msg: unknown;
      try {
        msg = JSON.parse(raw);
      } catch {
        this.log.warn({ channel }, 'bus message is not JSON');
        return;
      }
      deliver(this.log, channel, set, () => msg);
    };
    this.sub.on('message', (channel: string, raw: string) => onMessage(channel, raw));
    this.sub.on('pmessage', (pattern: string, _channel: string, raw: string) => onMessage(pattern, raw));
  }

  private connect(url: string, role: string): Redis {
    const r = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 3 });
    // Without a listener ioredis reports connection errors on the console; ioredis reconnects by itself.
    r.on('error', (err: Error) => this.log.warn({ err, role }, 'redis bus connection error'));
    return r;
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
      try {
        if (pattern) await this.sub.psubscribe(full);
        else await this.sub.subscribe(full);
      } catch (err) {
        // Not subscribed: the next subscriber to this channel must try again.
        if (this.handlers.get(full) === set && set.size === 0) this.handlers.delete(full);
        throw err;
      }
    }
    set.add(handler);
    return async () => {
      set.delete(handler);
      if (set.size === 0 && this.handlers.get(full) === set) {
        this.handlers.delete(full);
        // A failed unsubscribe only leaves Redis sending to a channel nobody listens to here.
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
