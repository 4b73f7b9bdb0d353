import { Command } from 'commander';
import { loadConfig } from '../config/index.js';
import { openStore, type Store } from '../store/index.js';
import { Orgs } from '../core/orgs.js';
import { PhoneNumbers, numberView } from '../core/numbers.js';
import { Secrets } from '../core/secrets.js';

/** Runs `fn` with the organisation's numbers service, on the store of this configuration. */
async function withNumbers<T>(orgName: string, fn: (numbers: PhoneNumbers, orgId: string) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const store: Store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, schema: config.databaseSchema });
  try {
    const org = await new Orgs(store.db).findByName(orgName);
    if (!org) throw new Error(`no organisation named ${orgName}`);
    return await fn(new PhoneNumbers(store.db, new Secrets(config), config.carrier === 'sim'), org.id);
  } finally {
    await store.close();
  }
}

function parseCredentials(json: string | undefined): Record<string, unknown> | undefined {
  if (json === undefined) return undefined;
  const v: unknown = JSON.parse(json);
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('--credentials must be a JSON object');
  return v as Record<string, unknown>;
}

/**
 * Phone numbers of an organisation and the agents that answer and call from them (no API document has
 * routes for them; the dashboard will). Credentials are encrypted at rest (CREDENTIALS_KEY).
 */
export function numbersCommand(): Command {
  const numbers = new Command('numbers').description("Manage an organisation's phone numbers (DATA_DIR or DATABASE_URL)");
  numbers
    .command('add')
    .description('Add a number, optionally assigned to agents for inbound and/or outbound calls')
    .requiredOption('--org <name>', 'organisation name')
    .requiredOption('--number <e164>', 'the number, E.164')
    .option('--carrier <carrier>', 'sim or twilio', 'sim')
    .option('--inbound-agent <id>', 'agent that answers calls to this number')
    .option('--outbound-agent <id>', 'agent that may call from this number')
    .option('--credentials <json>', 'the number\'s own carrier account as a JSON object, Twilio: {"account_sid":"AC…","auth_token":"…"} (stored encrypted with CREDENTIALS_KEY)')
    .action(async (o: { org: string; number: string; carrier: string; inboundAgent?: string; outboundAgent?: string; credentials?: string }) => {
      const row = await withNumbers(o.org, (n, orgId) =>
        n.add(orgId, {
          number: o.number,
          carrier: o.carrier as 'sim' | 'twilio',
          inbound_agent_id: o.inboundAgent,
          outbound_agent_id: o.outboundAgent,
          credentials: parseCredentials(o.credentials),
        }),
      );
      process.stdout.write(JSON.stringify(numberView(row)) + '\n');
    });
  numbers
    .command('assign')
    .description('Assign a number to agents (an empty value removes the assignment)')
    .requiredOption('--org <name>', 'organisation name')
    .requiredOption('--id <id>', 'the number id (see `numbers list`)')
    .option('--inbound-agent <id>', 'agent that answers calls to this number')
    .option('--outbound-agent <id>', 'agent that may call from this number')
    .action(async (o: { org: string; id: string; inboundAgent?: string; outboundAgent?: string }) => {
      const row = await withNumbers(o.org, (n, orgId) =>
        n.update(orgId, o.id, {
          ...(o.inboundAgent !== undefined ? { inbound_agent_id: o.inboundAgent || null } : {}),
          ...(o.outboundAgent !== undefined ? { outbound_agent_id: o.outboundAgent || null } : {}),
        }),
      );
      process.stdout.write(JSON.stringify(numberView(row)) + '\n');
    });
  numbers
    .command('list')
    .description("List an organisation's numbers")
    .requiredOption('--org <name>', 'organisation name')
    .action(async (o: { org: string }) => {
      const rows = await withNumbers(o.org, (n, orgId) => n.list(orgId));
      for (const r of rows) process.stdout.write(JSON.stringify(numberView(r)) + '\n');
    });
  return numbers;
}
