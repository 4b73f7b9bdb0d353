/**
 * The `switchboard` command as a user runs it: real processes, a real data folder.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, MAIN, ROOT } from '../helpers/built-cli.js';

const CLI = [MAIN];

beforeAll(ensureBuilt, 600_000);

function run(args: string[], env: Record<string, string>) {
  return spawnSync(process.execPath, [...CLI, ...args], { cwd: ROOT, env: { ...process.env, LOG_LEVEL: 'silent', ...env }, encoding: 'utf8', timeout: 150_000 });
}

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'sb-cli-'));
}

async function waitForLine(child: ChildProcess, re: RegExp, ms = 150_000): Promise<string> {
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${re} in: ${out}`)), ms);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (re.test(out)) {
        clearTimeout(timer);
        resolve(out);
      }
    });
  });
}

// Each test starts real processes: slow on a loaded 2-core machine.
describe('switchboard CLI', { timeout: 150_000 }, () => {
  it('keys create prints the new key alone on stdout, and stores only its hash', () => {
    const dir = tmp();
    const r = run(['keys', 'create', '--org', 'acme'], { DATA_DIR: dir });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^sk_[A-Za-z0-9_-]{20,}\n$/);
    const key = r.stdout.trim();
    // The key is nowhere in the data folder.
    const grep = spawnSync('grep', ['-rl', key, dir], { encoding: 'utf8' });
    expect(grep.stdout).toBe('');
  });

  it('numbers add/list keeps credentials encrypted and refuses a bad number naming it', () => {
    const dir = tmp();
    expect(run(['keys', 'create', '--org', 'acme'], { DATA_DIR: dir }).status).toBe(0);
    const add = run(['numbers', 'add', '--org', 'acme', '--number', '+15557770000', '--credentials', '{"authToken":"tok_secret_123"}'], { DATA_DIR: dir });
    expect(add.status, add.stderr).toBe(0);
    expect(JSON.parse(add.stdout)).toMatchObject({ number: '+15557770000', carrier: 'sim', has_credentials: true });
    expect(add.stdout).not.toContain('tok_secret_123');
    const list = run(['numbers', 'list', '--org', 'acme'], { DATA_DIR: dir });
    expect(list.stdout).toContain('+15557770000');
    expect(spawnSync('grep', ['-rl', 'tok_secret_123', dir], { encoding: 'utf8' }).stdout).toBe('');
    const bad = run(['numbers', 'add', '--org', 'acme', '--number', '123'], { DATA_DIR: dir });
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/number must be an E\.164/);
  });

  it('scenarios lists the simulated numbers', () => {
    const r = run(['scenarios'], { DATA_DIR: tmp() });
    expect(r.status).toBe(0);
    for (const n of ['+15550100', '+15550101', '+15550102', '+15550103', '+15550104', '+46701740605']) expect(r.stdout).toContain(n);
  });

  it('refuses a bad configuration naming the variable', () => {
    const r = run(['scenarios'], { PORT: 'abc' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('PORT');
  });

  it('says what went wrong in one line, without a stack trace (the stack with LOG_LEVEL=debug)', () => {
    const dir = tmp();
    const unknown = run(['keys', 'webhook-secret', '--org', 'unknown'], { DATA_DIR: dir });
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toBe('switchboard: no organisation named unknown\n');

    const missing = run(['scenarios'], { DATA_DIR: dir, SCENARIOS_DIR: path.join(dir, 'no-such-folder') });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toBe(`switchboard: no such file or folder: ${path.join(dir, 'no-such-folder')}\n`);

    const credits = run(['keys', 'create', '--org', 'acme', '--credits', 'lots'], { DATA_DIR: dir });
    expect(credits.status).toBe(1);
    expect(credits.stderr).toBe('switchboard: --credits must be a whole number\n');

    const debug = run(['keys', 'webhook-secret', '--org', 'unknown'], { DATA_DIR: dir, LOG_LEVEL: 'debug' });
    expect(debug.status).toBe(1);
    expect(debug.stderr).toMatch(/^switchboard: Error: no organisation named unknown\n\s+at /);
  }, 240_000); // four CLI runs, each a process start on a loaded machine

  it('call places a call on an embedded server and prints the transcript and outcome', () => {
    const r = run(['call', '--to', '+15550100', '--task', 'Confirm my booking for Tuesday at 7 pm, booking reference AB123', '--language', 'en', '--name', 'Alex Smith'], {
      DATA_DIR: tmp(),
      SIM_TIME_SCALE: '200',
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/callee: .*Bella Cucina/);
    expect(r.stdout).toMatch(/agent : .*booking/i);
    expect(r.stdout).toMatch(/outcome: completed .*goal completed: yes/);
  });

  it('call prints the keys the agent presses', () => {
    const r = run(['call', '--to', '+15550105', '--task', 'Check whether my prescription is ready to pick up', '--language', 'en'], {
      DATA_DIR: tmp(),
      SIM_TIME_SCALE: '200',
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/callee: To check on a prescription, press 1/);
    expect(r.stdout).toMatch(/^agent  pressed 1$/m);
  }, 120_000); // a process start on a loaded machine

  describe('while a server holds the data folder', () => {
    let server: ChildProcess;
    let dir: string;
    let banner: string;
    beforeAll(async () => {
      dir = tmp();
      server = spawn(process.execPath, [...CLI, 'serve'], {
        cwd: ROOT,
        env: { ...process.env, DATA_DIR: dir, PORT: '0', LOG_LEVEL: 'silent', SHUTDOWN_GRACE_SECONDS: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      banner = await waitForLine(server, /Webhook signing secret/);
    }, 180_000);
    afterAll(() => {
      if (server.exitCode === null) server.kill('SIGKILL');
    });

    it('prints the development key once at first start', () => {
      expect(banner).toMatch(/Its API key \(shown at each start until it is first used\):\s+sk_\S+/);
      expect(banner).toMatch(/brain: offline rules brain/);
    });

    it('a CLI command says the folder is busy and exits non-zero, changing nothing', () => {
      const r = run(['keys', 'create', '--org', 'x'], { DATA_DIR: dir });
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/in use by another Switchboard process/);
      expect(r.stdout).toBe('');
    });

    it('SIGTERM stops the server cleanly and frees the folder', async () => {
      const exited = new Promise<number | null>((r) => server.on('exit', (code) => r(code)));
      server.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(fs.existsSync(path.join(dir, 'switchboard.lock'))).toBe(false);
      const r = run(['keys', 'create', '--org', 'after'], { DATA_DIR: dir });
      expect(r.status, r.stderr).toBe(0);
    });
  });
});
