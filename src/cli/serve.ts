import { Command } from 'commander';
import { loadConfig } from '../config/index.js';
import { createSwitchboard } from '../app.js';
import { background } from '../lib/background.js';
import { installLastResort } from '../lib/last-resort.js';

export function serveCommand(): Command {
  return new Command('serve')
    .description('Start the Switchboard server (PORT, HOST, DATA_DIR, DATABASE_URL, REDIS_URL, …)')
    .option('-p, --port <port>', 'port to listen on (PORT)')
    .action(async (opts: { port?: string }) => {
      const t0 = performance.now();
      const config = loadConfig({ ...process.env, ...(opts.port ? { PORT: opts.port } : {}) });
      const sb = await createSwitchboard(config);
      installLastResort(sb.log);
      const first = await sb.bootstrapDevOrg();
      const url = await sb.listen();
      const brainNote = sb.brain.name === 'rules' ? 'offline rules brain (no LLM configured)' : sb.brain.name;
      const lines = [
        '',
        `  Switchboard is listening on ${url}   (public URL ${config.publicUrl})`,
        `  store: ${sb.store.kind}${sb.store.kind === 'pglite' ? ` in ${config.dataDir}` : ''} · bus: ${config.redisUrl ? 'redis' : 'in-process'} · carrier: ${sb.carrier.name} · brain: ${brainNote}`,
        `  API docs: ${url}/docs · started in ${Math.round(performance.now() - t0)} ms`,
      ];
      if (first) {
        lines.push(
          '',
          '  A development organisation was created. Its API key (shown only this once):',
          '',
          `    ${first.key}`,
          '',
          `  Webhook signing secret: ${first.webhookSecret}`,
        );
      }
      process.stdout.write(lines.join('\n') + '\n\n');
      let stopping = false;
      const stop = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        sb.log.info({ signal }, 'shutting down: no new calls; live calls may finish');
        await sb.shutdown();
        process.exit(0);
      };
      process.on('SIGTERM', () => background(sb.log, 'shutdown failed', stop('SIGTERM')));
      process.on('SIGINT', () => background(sb.log, 'shutdown failed', stop('SIGINT')));
    });
}
