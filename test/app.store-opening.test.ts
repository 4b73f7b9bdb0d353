/**
 * `createSwitchboard` builds the server while its embedded store opens (src/app.ts, `startStore`): it still
 * returns only with the store open and migrated, and a store that cannot open fails the start cleanly.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createSwitchboard } from '../src/app.js';
import { loadConfig } from '../src/config/index.js';
import { createLogger } from '../src/lib/logger.js';
import { DataDirBusyError, openStore } from '../src/store/index.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});
const configIn = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-app-opening-'));
  dirs.push(dir);
  return loadConfig({ LOG_LEVEL: 'silent', NODE_ENV: 'test', PORT: '0', DATA_DIR: dir });
};

describe('createSwitchboard with its own embedded store', () => {
  it('returns with the store open and migrated: /healthz answers 200 and the API reads it; shutdown lets the folder go', async () => {
    const config = configIn();
    const sb = await createSwitchboard(config, { log: createLogger('silent') });
    try {
      expect(sb.store.kind).toBe('pglite');
      const health = await sb.app.inject({ method: 'GET', url: '/healthz' });
      expect(health.statusCode).toBe(200);
      expect(await sb.core.orgs.count()).toBe(0);
    } finally {
      await sb.shutdown();
    }
    expect(fs.existsSync(path.join(config.dataDir, 'switchboard.lock'))).toBe(false);
  });

  it('fails with the folder busy, and leaves the process holding it undisturbed', async () => {
    const config = configIn();
    const holder = await openStore({ dataDir: config.dataDir });
    try {
      await expect(createSwitchboard(config, { log: createLogger('silent') })).rejects.toBeInstanceOf(DataDirBusyError);
      expect(fs.readFileSync(path.join(config.dataDir, 'switchboard.lock'), 'utf8')).toBe(String(process.pid));
      expect(await holder.db.selectFrom('orgs').selectAll().execute()).toEqual([]);
    } finally {
      await holder.close();
    }
  });
});
