/**
 * The dashboard's browser tests drive Debian's Chromium (scripts/system-deps.sh installs it) with
 * playwright-core, against a whole Switchboard listening on a real port. Screenshots go to
 * test-artifacts/dashboard/ (git-ignored).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { DASHBOARD_DIR } from '../../src/faces/dashboard/index.js';

export const ARTIFACTS = path.resolve('test-artifacts', 'dashboard');

/** The browser: CHROMIUM_PATH, else Debian's. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** The app as `npm run build` makes it; built here when missing (a checkout where only tests ran). */
export function ensureDashboardBuilt(): void {
  if (existsSync(path.join(DASHBOARD_DIR, 'index.html'))) return;
  const r = spawnSync(process.execPath, ['node_modules/vite/bin/vite.js', 'build', '--config', 'web/vite.config.js'], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('building the dashboard failed');
}

export async function launchBrowser(): Promise<Browser> {
  mkdirSync(ARTIFACTS, { recursive: true });
  // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

export const screenshot = (name: string) => path.join(ARTIFACTS, `${name}.png`);
