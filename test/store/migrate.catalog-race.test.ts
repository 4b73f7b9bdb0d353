/**
 * A migration run that failed only because another client changed the catalog while Kysely read it (parallel
 * test runs or tenants migrating their own schemas on one database) is tried again (src/store/index.ts
 * `migrate`); any other failure, or one after a migration ran, is not. The race itself cannot be timed from a
 * test; this pins the rule that decides.
 */
import { describe, expect, it } from 'vitest';
import { isCatalogRace } from '../../src/store/index.js';

const pgError = (code: string) => Object.assign(new Error('catalog changed'), { code });

describe('migrate: a catalog that changed under the read', () => {
  it('a schema dropped, a table or a column gone elsewhere, before anything was migrated, is tried again', () => {
    for (const code of ['3F000', '42P01', '42703']) expect(isCatalogRace(pgError(code), []), code).toBe(true);
    expect(isCatalogRace(pgError('42703'), undefined)).toBe(true);
  });

  it('not once a migration ran, and not for any other failure', () => {
    expect(isCatalogRace(pgError('42703'), [{ migrationName: '0001_init', status: 'Error' }])).toBe(false);
    expect(isCatalogRace(pgError('23505'), [])).toBe(false);
    expect(isCatalogRace(new Error('connection refused'), [])).toBe(false);
    expect(isCatalogRace(null, [])).toBe(false);
  });
});
