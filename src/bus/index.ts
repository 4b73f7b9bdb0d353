import type { Bus } from './bus.js';
import { MemoryBus } from './memory.js';
import { RedisBus } from './redis.js';
import type { Logger } from '../lib/logger.js';

export * from './bus.js';
export { MemoryBus, RedisBus };

export function openBus(opts: { redisUrl?: string; prefix?: string; log: Logger }): Bus {
  return opts.redisUrl ? new RedisBus(opts.redisUrl, opts.prefix, opts.log) : new MemoryBus(opts.log);
}
