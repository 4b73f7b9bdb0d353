/**
 * A refused API key is remembered as briefly as an accepted one: a client retrying with a revoked or mistyped
 * key costs the store one lookup a second, not one a request.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Orgs } from '../../src/core/orgs.js';
import type { Store } from '../../src/store/index.js';
import { BACKENDS } from '../helpers/backends.js';

const CACHE_MS = 300;

for (const backend of BACKENDS) {
  describe(`API key lookups [${backend.name}]`, () => {
    let store: Store;
    let orgs: Orgs;
    beforeAll(async () => {
      store = await backend.open();
      orgs = new Orgs(store.db, { cacheMs: CACHE_MS });
    });
    afterAll(() => store.close());

    it('answers a refused key again from memory until its second is over, then asks the store', async () => {
      const { org } = await orgs.ensure(`key-cache-${Math.random().toString(36).slice(2)}`, { credits: 0 });
      const key = await orgs.createKey(org.id);
      const row = await store.db.selectFrom('api_keys').selectAll().where('org_id', '=', org.id).executeTakeFirstOrThrow();
      // The key is not in the store: refused.
      await store.db.deleteFrom('api_keys').where('id', '=', row.id).execute();
      expect(await orgs.authenticate(key)).toBeNull();
      // Back in the store at once: the refusal is remembered (no lookup) …
      await store.db.insertInto('api_keys').values(row).execute();
      expect(await orgs.authenticate(key)).toBeNull();
      // … for as long as an accepted key is, then the store is asked again.
      await new Promise((r) => setTimeout(r, CACHE_MS + 50));
      expect(await orgs.authenticate(key)).toMatchObject({ id: org.id });
    });
  });
}
