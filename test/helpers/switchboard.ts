/**
 * A whole Switchboard for a test: a fresh store (per backend), the simulated network on a virtual clock
 * (no real sleeping), the rules brain, an organisation with an API key.
 */
import { loadConfig, type Config } from '../../src/config/index.js';
import { createSwitchboard, type Switchboard, type SwitchboardOverrides } from '../../src/app.js';
import { VirtualClock } from '../../src/lib/clock.js';
import { createLogger } from '../../src/lib/logger.js';
import type { Backend } from './backends.js';

export interface TestSwitchboard {
  sb: Switchboard;
  key: string;
  orgId: string;
  clock: VirtualClock;
  close(): Promise<void>;
}

/** The key every test node of one cluster shares (a cluster refuses to start without one: see config). */
export const TEST_CLUSTER_KEY = Buffer.alloc(32, 42).toString('base64');

/** The environment of a test node: a node given REDIS_URL is in a cluster, and gets the shared key. */
export function nodeEnv(env: Record<string, string>): Record<string, string> {
  return env.REDIS_URL && !env.CREDENTIALS_KEY ? { ...env, CREDENTIALS_KEY: TEST_CLUSTER_KEY } : env;
}

export async function startSwitchboard(
  backend: Backend,
  env: Record<string, string> = {},
  overrides: SwitchboardOverrides = {},
): Promise<TestSwitchboard> {
  const config: Config = loadConfig({ LOG_LEVEL: 'silent', NODE_ENV: 'test', PORT: '0', ...nodeEnv(env) });
  const store = await backend.open();
  const clock = (overrides.clock as VirtualClock | undefined) ?? new VirtualClock();
  const sb = await createSwitchboard(config, { log: createLogger(config.logLevel), jobPollMs: 50, ...overrides, store, clock });
  const { org } = await sb.core.orgs.ensure('acme', { credits: 1000 });
  const key = await sb.core.orgs.createKey(org.id);
  return {
    sb,
    key,
    orgId: org.id,
    clock,
    async close() {
      await sb.shutdown();
      await store.close();
    },
  };
}

/** Moves a manual VirtualClock forward step by step until `fn` is satisfied. */
export async function advanceUntil<T>(clock: VirtualClock, fn: () => Promise<T | undefined | null | false>, stepMs = 500, ms = 15_000): Promise<T> {
  return until(async () => {
    const v = await fn();
    if (v) return v;
    clock.advance(stepMs);
    return null;
  }, ms, 'clock condition');
}

/** Polls `fn` until it returns a truthy value (events settle asynchronously); fails after `ms`. */
export async function until<T>(fn: () => Promise<T | undefined | null | false>, ms = 15_000, what = 'condition'): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
