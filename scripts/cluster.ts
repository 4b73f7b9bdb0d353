/**
 * `npm run cluster`: a Switchboard cluster on this machine — N nodes (default 3) on PostgreSQL and Redis
 * behind a local load balancer (scripts/cluster/balancer.ts, http-proxy-3), everything on loopback.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/switchboard REDIS_URL=redis://127.0.0.1:6379 npm run cluster
 *
 * PORT (default 3000) is the balancer's; the nodes take free ports. PUBLIC_URL defaults to the balancer's
 * address (what carriers call back). CLUSTER_NODES sets how many nodes. CREDENTIALS_KEY, when unset, is made
 * once in DATA_DIR/cluster-credentials.key and given to every node (a cluster needs one shared key).
 * Every other variable (DATABASE_SCHEMA, REDIS_PREFIX, SIM_TIME_SCALE, LOG_LEVEL…) is passed to the nodes.
 * Ctrl-C stops the nodes (SIGTERM: live calls may finish) and the balancer.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { startBalancer } from './cluster/balancer.js';
import { freePort, startNode, type ClusterNode } from './cluster/nodes.js';

function fail(message: string): never {
  process.stderr.write(`cluster: ${message}\n`);
  process.exit(1);
}

function credentialsKey(): string {
  if (process.env.CREDENTIALS_KEY) return process.env.CREDENTIALS_KEY;
  const dir = path.resolve(process.env.DATA_DIR ?? './data');
  const file = path.join(dir, 'cluster-credentials.key');
  if (!fs.existsSync(file)) {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(file, randomBytes(32).toString('base64') + '\n', { mode: 0o600 });
  }
  return fs.readFileSync(file, 'utf8').trim();
}

async function main(): Promise<void> {
  if (!process.env.DATABASE_URL) fail('set DATABASE_URL (PostgreSQL shared by the nodes), e.g. postgres://postgres@127.0.0.1:5432/switchboard');
  if (!process.env.REDIS_URL) fail('set REDIS_URL (the bus between the nodes), e.g. redis://127.0.0.1:6379');
  const count = Number(process.env.CLUSTER_NODES ?? 3);
  if (!Number.isInteger(count) || count < 1 || count > 16) fail('CLUSTER_NODES must be a whole number from 1 to 16');
  const port = Number(process.env.PORT ?? 3000);
  const targets: string[] = [];
  const nodes: ClusterNode[] = [];
  // The balancer first (its address is every node's PUBLIC_URL); nodes join it as they come up.
  const ports = await Promise.all(Array.from({ length: count }, () => freePort()));
  for (const p of ports) targets.push(`http://127.0.0.1:${p}`);
  const balancer = await startBalancer({ port, targets });
  const env: Record<string, string> = { PUBLIC_URL: process.env.PUBLIC_URL ?? balancer.url, CREDENTIALS_KEY: credentialsKey() };
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    process.stdout.write('\ncluster: stopping the nodes\n');
    await Promise.all(nodes.map((n) => n.stop()));
    await balancer.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop().catch(() => process.exit(1)));
  process.on('SIGTERM', () => void stop().catch(() => process.exit(1)));
  try {
    // The first node alone: it migrates the schema and makes the development organisation (its key is printed once).
    nodes.push(await startNode({ id: 'node-1', port: ports[0], env, echo: true }));
    nodes.push(...(await Promise.all(ports.slice(1).map((p, i) => startNode({ id: `node-${i + 2}`, port: p, env, echo: true })))));
  } catch (err) {
    await Promise.all(nodes.map((n) => n.stop()));
    await balancer.close();
    fail((err as Error).message);
  }
  process.stdout.write(
    `\ncluster: ${count} nodes behind ${balancer.url} (${nodes.map((n) => `${n.id} ${n.url}`).join(', ')}); PUBLIC_URL ${env.PUBLIC_URL}. Ctrl-C stops it.\n`,
  );
}

await main();
