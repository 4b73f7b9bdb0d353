import { Command } from 'commander';
import { loadConfig } from '../config/index.js';
import { openStore } from '../store/index.js';
import { Orgs, newWebhookSecret } from '../core/orgs.js';

export function keysCommand(): Command {
  const keys = new Command('keys').description('Manage API keys (DATA_DIR or DATABASE_URL)');
  keys
    .command('create')
    .description('Create an API key for an organisation (created if new); prints the key alone on stdout')
    .requiredOption('--org <name>', 'organisation name')
    .option('--credits <n>', 'credits for a new organisation', '1000')
    .action(async (opts: { org: string; credits: string }) => {
      const config = loadConfig();
      const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, schema: config.databaseSchema });
      try {
        // On the simulated network a new organisation gets its simulated number, as the server makes them.
        const orgs = new Orgs(store.db, { simulatedNetwork: config.carrier === 'sim' });
        const credits = Number(opts.credits);
        if (!Number.isInteger(credits) || credits < 0) throw new Error('--credits must be a whole number');
        const { org } = await orgs.ensure(opts.org, { credits, webhookSecret: newWebhookSecret() });
        process.stdout.write((await orgs.createKey(org.id, 'cli')) + '\n');
      } finally {
        await store.close();
      }
    });
  keys
    .command('webhook-secret')
    .description("Print an organisation's webhook signing secret (--rotate makes a new one)")
    .requiredOption('--org <name>', 'organisation name')
    .option('--rotate', 'replace the secret with a new one')
    .action(async (opts: { org: string; rotate?: boolean }) => {
      const config = loadConfig();
      const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, schema: config.databaseSchema });
      try {
        const orgs = new Orgs(store.db);
        const org = await orgs.findByName(opts.org);
        if (!org) throw new Error(`no organisation named ${opts.org}`);
        let secret = org.webhook_secret;
        if (opts.rotate || !secret) {
          secret = newWebhookSecret();
          await orgs.setWebhookSecret(org.id, secret);
        }
        process.stdout.write(secret + '\n');
      } finally {
        await store.close();
      }
    });
  return keys;
}
