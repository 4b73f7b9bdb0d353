/** `switchboard credits` as an operator runs it: real processes, a real data folder. */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, MAIN, ROOT } from '../helpers/built-cli.js';

const CLI = [MAIN];

beforeAll(ensureBuilt, 600_000);

function run(args: string[], env: Record<string, string>) {
  return spawnSync(process.execPath, [...CLI, ...args], { cwd: ROOT, env: { ...process.env, LOG_LEVEL: 'silent', ...env }, encoding: 'utf8', timeout: 300_000 });
}

describe('switchboard credits', () => {
  it('grant adds to the ledger (negative amounts correct), balance sums it, bad input is named', () => {
    const env = { DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'sb-credits-')), BILLING_ENABLED: 'true' };
    expect(run(['keys', 'create', '--org', 'acme', '--credits', '100'], env).status).toBe(0);
    const grant = run(['credits', 'grant', '--org', 'acme', '250', '--note', 'top-up'], env);
    expect(grant.status, grant.stderr).toBe(0);
    expect(JSON.parse(grant.stdout)).toMatchObject({ entry: { kind: 'grant', amount: 250, note: 'top-up' }, credits_balance: 350 });
    expect(JSON.parse(run(['credits', 'grant', '--org', 'acme', '-50'], env).stdout)).toMatchObject({ credits_balance: 300 });
    const balance = JSON.parse(run(['credits', 'balance', '--org', 'acme'], env).stdout);
    expect(balance).toMatchObject({ billing_enabled: true, credits_balance: 300 });
    expect(balance.entries.map((e: { amount: number }) => e.amount)).toEqual([-50, 250, 100]);

    const bad = run(['credits', 'grant', '--org', 'acme', 'lots'], env);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/amount/);
    const refund = run(['credits', 'refund', '--org', 'acme', '--call', 'CA' + '0'.repeat(32)], env);
    expect(refund.status).not.toBe(0);
    expect(refund.stderr).toMatch(/Charge not found/);
  }, 1_800_000);
});
