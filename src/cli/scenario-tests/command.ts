/** `switchboard scenarios test FILE…`: run scenario test files and print a pass/fail table. */
import { Command, InvalidArgumentError } from 'commander';
import { loadScenarioTests, ScenarioTestFileError } from './load.js';
import { formatReport } from './report.js';

function positive(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number');
  return n;
}

export function scenarioTestsCommand(): Command {
  return new Command('test')
    .description('Run scenario test files (scenarios/tests/*.yaml) against the simulated network; exit 1 when a case fails, 2 on a bad file')
    .argument('<files...>', 'test files, or folders of them')
    .option('--concurrency <n>', 'cases run at the same time', positive, 4)
    .option('--time-scale <n>', 'run the simulated network in real time sped up N times (default: virtual time, no waiting)', positive)
    .option('--transcripts', 'print the transcript of each failed case')
    .action(async (files: string[], opts: { concurrency: number; timeScale?: number; transcripts?: boolean }) => {
      let cases;
      try {
        cases = await loadScenarioTests(files);
      } catch (e) {
        if (!(e instanceof ScenarioTestFileError)) throw e;
        process.stderr.write(`switchboard: ${e.message}\n`);
        process.exitCode = 2;
        return;
      }
      let run;
      try {
        // Loaded here, not with the CLI: it brings the whole server (see `serve`).
        const { runScenarioTests } = await import('./run.js');
        run = await runScenarioTests(cases, { concurrency: opts.concurrency, timeScale: opts.timeScale });
      } catch (e) {
        // A case's callee on a number the network already has.
        if (!(e instanceof ScenarioTestFileError)) throw e;
        process.stderr.write(`switchboard: ${e.message}\n`);
        process.exitCode = 2;
        return;
      }
      process.stdout.write(formatReport(run, { transcripts: opts.transcripts }));
      process.exitCode = run.failed > 0 ? 1 : 0;
    });
}
