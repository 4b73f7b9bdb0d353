/**
 * The first start's API key (issue 11 §7): kept sealed, shown at every start until it is first used, so a
 * start that fails after making it does not lose it. The CLI side (a taken port) is in test/cli/start-stop.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { createSwitchboard, type Switchboard } from '../../src/app.js';
import { createLogger } from '../../src/lib/logger.js';
import type { Store } from '../../src/store/index.js';
import { BACKENDS } from '../helpers/backends.js';

for (const backend of BACKENDS) {
  describe(`first key [${backend.name}]`, () => {
    let store: Store | undefined;
    let sb: Switchboard | undefined;
    afterEach(async () => {
      await sb?.shutdown();
      await store?.close();
    });

    it('is shown again until used, sealed in the store, and no longer once used', async () => {
      store = await backend.open();
      const config = loadConfig({ LOG_LEVEL: 'silent', NODE_ENV: 'test', PORT: '0', SHUTDOWN_GRACE_SECONDS: '0' });
      sb = await createSwitchboard(config, { log: createLogger('silent'), store });

      const first = await sb.bootstrapDevOrg();
      expect(first).toMatchObject({ key: expect.stringMatching(/^sk_/), created: true, org: 'development', webhookSecret: expect.stringMatching(/^whsec_/) });
      // A later start (the first one failed before anyone saw the key) shows the same key again.
      const again = await sb.bootstrapDevOrg();
      expect(again).toEqual({ ...first, created: false });
      // Stored sealed, never in clear.
      const rows = await store.db.selectFrom('pending_first_key').selectAll().execute();
      expect(rows).toHaveLength(1);
      expect(rows[0].sealed).not.toContain(first!.key!);

      // Using it ends the pending record: the next start shows nothing, and the key still works.
      expect(await sb.core.orgs.authenticate(first!.key!)).toMatchObject({ name: 'development' });
      expect(await sb.bootstrapDevOrg()).toBeNull();
      expect(await store.db.selectFrom('pending_first_key').selectAll().execute()).toEqual([]);
      expect(await sb.core.orgs.authenticate(first!.key!)).toMatchObject({ name: 'development' });
    });

    it('a revoked first key is not shown', async () => {
      store = await backend.open();
      const config = loadConfig({ LOG_LEVEL: 'silent', NODE_ENV: 'test', PORT: '0', SHUTDOWN_GRACE_SECONDS: '0' });
      sb = await createSwitchboard(config, { log: createLogger('silent'), store });
      expect(await sb.bootstrapDevOrg()).not.toBeNull();
      await store.db.updateTable('api_keys').set({ revoked_at: new Date() }).execute();
      expect(await sb.bootstrapDevOrg()).toBeNull();
    });
  });
}
