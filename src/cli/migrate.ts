import { Command } from 'commander';
import { loadConfig } from '../config/index.js';
import { openStore } from '../store/index.js';

export function migrateCommand(): Command {
  return new Command('migrate').description('Bring the store schema up to date (DATA_DIR or DATABASE_URL)').action(async () => {
    const config = loadConfig();
    const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, schema: config.databaseSchema });
    await store.close();
    process.stdout.write(`migrated (${store.kind})\n`);
  });
}
