/**
 * Migration 0011 turns each organisation's former `orgs.credits` into an opening entry of the credit ledger
 * (a grant, or a charge for a negative balance), so every balance is the same before and after.
 */
import { describe, expect, it } from 'vitest';
import { Kysely, Migrator, PostgresDialect, sql } from 'kysely';
import * as m0001 from '../../src/store/migrations/0001_init.js';
import * as m0002 from '../../src/store/migrations/0002_call_turns.js';
import * as m0003 from '../../src/store/migrations/0003_agents_numbers_tasks.js';
import * as m0004 from '../../src/store/migrations/0004_caller_ids.js';
import * as m0005 from '../../src/store/migrations/0005_node_leases.js';
import * as m0007 from '../../src/store/migrations/0007_first_key_dead_letters.js';
import { migrate, type Database } from '../../src/store/index.js';
import { pgliteAsPool } from '../../src/store/pglite-pool.js';
import { openLocalPglite } from '../../src/store/pglite-local.js';
import { initdbModule, pgliteModules } from '../../src/store/pglite-template.js';
import { Credits } from '../../src/core/credits/index.js';
import { DEFAULT_RATES } from '../../src/config/index.js';

describe('migration 0011 (credit ledger)', () => {
  it("moves every organisation's credits into an opening ledger entry and drops the column", async () => {
    // A database made from scratch (no template: that one is migrated already).
    const pglite = await openLocalPglite({ ...(await pgliteModules()), initdbWasmModule: await initdbModule() });
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: pgliteAsPool(pglite) as any }) });
    try {
      // The schema as it was before 0011.
      const before = { '0001_init': m0001, '0002_call_turns': m0002, '0003_agents_numbers_tasks': m0003, '0004_caller_ids': m0004, '0005_node_leases': m0005, '0007_first_key_dead_letters': m0007 };
      const r = await new Migrator({ db, provider: { getMigrations: async () => before } }).migrateToLatest();
      expect(r.error).toBeUndefined();
      const orgs = { rich: ['00000000-0000-4000-8000-000000000001', 750], empty: ['00000000-0000-4000-8000-000000000002', 0], owing: ['00000000-0000-4000-8000-000000000003', -4] } as const;
      for (const [name, [id, credits]] of Object.entries(orgs)) {
        await sql`insert into orgs (id, name, credits) values (${id}, ${name}, ${credits})`.execute(db);
      }

      await migrate(db);

      const credits = new Credits({ db, billing: { enabled: true, rates: { ...DEFAULT_RATES } }, minCallCredits: 1 });
      for (const [id, amount] of Object.values(orgs)) expect(await credits.balance(id)).toBe(amount);
      const entries = await db.selectFrom('credit_ledger').select(['org_id', 'kind', 'amount', 'note']).orderBy('amount').execute();
      expect(entries).toEqual([
        { org_id: orgs.owing[0], kind: 'charge', amount: -4, note: 'opening balance' },
        { org_id: orgs.rich[0], kind: 'grant', amount: 750, note: 'opening balance' },
      ]);
      const cols = await sql<{ column_name: string }>`select column_name from information_schema.columns where table_name = 'orgs'`.execute(db);
      expect(cols.rows.map((c) => c.column_name)).not.toContain('credits');
      expect(cols.rows.map((c) => c.column_name)).toContain('subscription_active');
    } finally {
      await db.destroy();
    }
    // A fresh PGlite cluster (initdb in WebAssembly) takes a while on a busy machine.
  }, 180_000);
});
