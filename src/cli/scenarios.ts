import { Command } from 'commander';
import { loadConfig } from '../config/index.js';
import { loadScenarios } from '../carriers/sim/index.js';
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
    .addCommand(scenarioTestsCommand());
}
