import type { Bus } from './bus.js';
import { MemoryBus } from './memory.js';
import { RedisBus } from './redis.js';

export * from './bus.js';
export { MemoryBus, RedisBus };

export function openBus(opts: { redisUrl?: string; prefix?: string }): Bus {
  return opts.redisUrl ? new RedisBus(opts.redisUrl, opts.prefix) : new MemoryBus();
}
