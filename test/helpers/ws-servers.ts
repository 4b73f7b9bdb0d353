/** `ws` servers a test file opens, closed (their clients cut off) after each test. */
import { afterEach } from 'vitest';
import type { WebSocketServer } from 'ws';

/** Registers the `afterEach` that closes them; returns the list to push each server onto. */
export function closedAfterEach(): WebSocketServer[] {
  const servers: WebSocketServer[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) {
      for (const c of s.clients) c.terminate();
      await new Promise((r) => s.close(r));
    }
  });
  return servers;
}
