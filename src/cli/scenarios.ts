import path from 'node:path';
import { Command } from 'commander';
import { loadConfig } from '../config/index.js';
import { loadScenarios } from '../carriers/sim/index.js';
import { openStore } from '../store/index.js';
import { Orgs } from '../core/orgs.js';
import { CallReplays } from '../core/calls/replay.js';
import { notFound } from '../core/errors.js';
import { namedCall } from '../core/calls/naming.js';
import { scenarioTestsCommand } from './scenario-tests/command.js';

export function scenariosCommand(): Command {
  return new Command('scenarios')
    .description('List the numbers of the simulated phone network (SCENARIOS_DIR)')
    .action(async () => {
      const config = loadConfig();
      const list = await loadScenarios(config.scenariosDir);
      const rows = list.map((s) => [s.number, s.kind, s.language ?? '', s.name + (s.description ? ` — ${s.description}` : '')]);
      const head = ['NUMBER', 'KIND', 'LANG', 'WHO'];
      const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
      const fmt = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ');
      process.stdout.write([fmt(head), ...rows.map(fmt)].join('\n') + '\n');
    })
    .addCommand(scenarioTestsCommand())
    .addCommand(recordCommand());
}

/** `switchboard scenarios record CALL`: the same file as `POST /v1/calls/:callSid/scenario`, from the store. */
function recordCommand(): Command {
  return new Command('record')
    .description('Make a finished call into a scenario test replaying its callee (DATA_DIR or DATABASE_URL); prints the file path')
    .argument('<call>', 'the call: its sid (CA…), id or carrier sid')
    .requiredOption('--org <name>', 'the organisation the call belongs to')
    .option('--out <dir>', 'folder to write to (default: SCENARIOS_DIR/tests/recorded)')
    .action(async (call: string, opts: { org: string; out?: string }) => {
      const config = loadConfig();
      const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, schema: config.databaseSchema });
      try {
        const org = await new Orgs(store.db).findByName(opts.org);
        if (!org) throw new Error(`no organisation named ${opts.org}`);
        const replays = new CallReplays(store.db, async (orgId, id) => {
          const named = namedCall(id);
          const row = named ? await store.db.selectFrom('calls').selectAll().where(named).where('org_id', '=', orgId).executeTakeFirst() : undefined;
          if (!row) throw notFound('Call');
          return row;
        });
        const recorded = await replays.record(org.id, call);
        const file = await replays.save(opts.out ?? path.join(config.scenariosDir, 'tests', 'recorded'), recorded);
        process.stdout.write(file + '\n');
      } finally {
        await store.close();
      }
    });
}
