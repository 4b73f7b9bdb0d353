#!/usr/bin/env node
/**
 * The `switchboard` command. Thin: each subcommand calls the same functions as the server, and each flag
 * names the environment variable it stands for.
 */
import { Command } from 'commander';
import { ConfigError } from '../config/index.js';
import { DataDirBusyError } from '../store/index.js';
import { SwitchboardError } from '../core/errors.js';
import { serveCommand } from './serve.js';
import { keysCommand } from './keys.js';
import { migrateCommand } from './migrate.js';
import { scenariosCommand } from './scenarios.js';
import { callCommand } from './call.js';
import { numbersCommand } from './numbers.js';

const program = new Command('switchboard')
  .description('Switchboard: AI phone calls, on a simulated phone network or a real carrier.')
  .showHelpAfterError();

program.addCommand(serveCommand());
program.addCommand(keysCommand());
program.addCommand(migrateCommand());
program.addCommand(scenariosCommand());
program.addCommand(callCommand());
program.addCommand(numbersCommand());

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof ConfigError || err instanceof DataDirBusyError || err instanceof SwitchboardError || err instanceof SyntaxError) {
    process.stderr.write(`switchboard: ${err.message}\n`);
  } else {
    process.stderr.write(`switchboard: ${(err as Error)?.stack ?? String(err)}\n`);
  }
  process.exit(1);
});
