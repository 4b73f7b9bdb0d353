import type { Bus } from './bus.js';
import { MemoryBus } from './memory.js';
import type { Logger } from '../lib/logger.js';

export * from './bus.js';
export { MemoryBus };

/** The bus: Redis when configured (its client, ioredis, loaded only then: a single node never needs it). */
export async function openBus(opts: { redisUrl?: string; prefix?: string; log: Logger }): Promise<Bus> {
  if (!opts.redisUrl) return new MemoryBus(opts.log);
  const { RedisBus } = await import('./redis.js');
  return new RedisBus(opts.redisUrl, opts.prefix, opts.log);
}
