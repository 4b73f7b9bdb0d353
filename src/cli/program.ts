/**
 * The `switchboard` command. Thin: each subcommand calls the same functions as the server, and each flag
 * names the environment variable it stands for. Run from the sources by main.ts, and in the built CLI by
 * launch.ts (dist/cli/main.js), which loads this module's bundle with V8's code cache.
 */
import { Command } from 'commander';
import { serveCommand, type ServeHooks } from './serve.js';
import { keysCommand } from './keys.js';
import { migrateCommand } from './migrate.js';
import { scenariosCommand } from './scenarios.js';
import { callCommand } from './call.js';
import { numbersCommand } from './numbers.js';
import { creditsCommand } from './credits.js';

/** Runs the command line `argv` (`process.argv`); a failure is one line on standard error and exit status 1. */
export function runCli(argv: string[], hooks: ServeHooks = {}): void {
  const program = new Command('switchboard')
    .description('Switchboard: AI phone calls, on a simulated phone network or a real carrier.')
    .showHelpAfterError();

  program.addCommand(serveCommand(hooks));
  program.addCommand(keysCommand());
  program.addCommand(migrateCommand());
  program.addCommand(scenariosCommand());
  program.addCommand(callCommand());
  program.addCommand(numbersCommand());
  program.addCommand(creditsCommand());

  program.parseAsync(argv).catch((err: unknown) => {
    process.stderr.write(`switchboard: ${describeFailure(err)}\n`);
    process.exit(1);
  });
}

/**
 * What went wrong, on one line: the operator needs the message, not our call stack. The stack (and any
 * cause) is added only when LOG_LEVEL asks for detail.
 */
function describeFailure(err: unknown): string {
  const verbose = ['debug', 'trace'].includes(process.env.LOG_LEVEL ?? '');
  if (!(err instanceof Error)) return String(err);
  if (verbose) return `${err.stack ?? err.message}${err.cause ? `\ncaused by: ${(err.cause as Error).stack ?? String(err.cause)}` : ''}`;
  const sys = err as NodeJS.ErrnoException;
  if (sys.code === 'ENOENT' && sys.path) return `no such file or folder: ${sys.path}`;
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return (err.message + cause).replace(/\s*\n\s*/g, ' ');
}
