/**
 * `switchboard credits`: an organisation's credit ledger (docs/billing.md). The same Credits service as the
 * server; each command writes one ledger entry (or changes the subscription flag) and prints the result.
 */
import { Command, InvalidArgumentError } from 'commander';
import { loadConfig } from '../config/index.js';
import { openStore } from '../store/index.js';
import { Orgs } from '../core/orgs.js';
import { Credits } from '../core/credits/index.js';

/** Runs `fn` with the Credits service of this configuration and the organisation named `orgName`. */
async function withCredits<T>(orgName: string, fn: (credits: Credits, orgId: string) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, schema: config.databaseSchema });
  try {
    const org = await new Orgs(store.db).findByName(orgName);
    if (!org) throw new Error(`no organisation named ${orgName}`);
    return await fn(new Credits({ db: store.db, billing: config.billing, minCallCredits: config.minCallCredits }), org.id);
  } finally {
    await store.close();
  }
}

function wholeNumber(value: string): number {
  const n = Number(value);
  if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n === 0) throw new InvalidArgumentError('must be a whole number other than 0');
  return n;
}

function print(v: unknown): void {
  process.stdout.write(JSON.stringify(v) + '\n');
}

export function creditsCommand(): Command {
  const credits = new Command('credits').description("An organisation's credits: grants, balance, refunds, subscription (DATA_DIR or DATABASE_URL)");
  credits
    .command('grant')
    .description('Add credits to an organisation (a negative amount corrects an earlier grant); prints the entry and the new balance')
    .requiredOption('--org <name>', 'organisation name')
    .option('--note <text>', 'why (shown in GET /v1/credits)')
    .argument('<amount>', 'credits to add', wholeNumber)
    .action(async (amount: number, o: { org: string; note?: string }) => {
      await withCredits(o.org, async (c, orgId) => {
        const entry = await c.grant(orgId, amount, o.note);
        print({ entry: { id: entry.id, kind: entry.kind, amount: entry.amount, note: entry.note }, credits_balance: await c.balance(orgId) });
      });
    });
  credits
    .command('balance')
    .description("Print an organisation's balance (the sum of its ledger) and its latest entries")
    .requiredOption('--org <name>', 'organisation name')
    .option('--entries <n>', 'how many entries to list', '10')
    .action(async (o: { org: string; entries: string }) => {
      await withCredits(o.org, async (c, orgId) => {
        const rows = await c.entries(orgId, Number(o.entries) || 10);
        print({
          billing_enabled: c.enabled,
          credits_balance: await c.balance(orgId),
          entries: rows.map((e) => ({ kind: e.kind, amount: e.amount, call_sid: e.call_sid, note: e.note, created_at: new Date(e.created_at).toISOString() })),
        });
      });
    });
  credits
    .command('refund')
    .description('Give back what a call was charged (once per call)')
    .requiredOption('--org <name>', 'organisation name')
    .requiredOption('--call <sid>', 'the call (sid or id)')
    .option('--note <text>', 'why')
    .action(async (o: { org: string; call: string; note?: string }) => {
      await withCredits(o.org, async (c, orgId) => {
        const entry = await c.refund(orgId, o.call, o.note);
        print({ entry: { id: entry.id, kind: entry.kind, amount: entry.amount, call_sid: entry.call_sid }, credits_balance: await c.balance(orgId) });
      });
    });
  credits
    .command('subscription')
    .description('Mark the subscription active or inactive (inactive: 402 "Subscription inactive" on new calls while BILLING_ENABLED)')
    .requiredOption('--org <name>', 'organisation name')
    .argument('<state>', 'active or inactive', (v: string) => {
      if (v !== 'active' && v !== 'inactive') throw new InvalidArgumentError('must be active or inactive');
      return v;
    })
    .action(async (state: 'active' | 'inactive', o: { org: string }) => {
      await withCredits(o.org, async (c, orgId) => {
        await c.setSubscription(orgId, state === 'active');
        print({ subscription_active: state === 'active' });
      });
    });
  return credits;
}
