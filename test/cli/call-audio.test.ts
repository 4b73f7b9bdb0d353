/**
 * `switchboard call --audio` with no keys: the simulated network carries the call as audio, the agent hears
 * the callee through the offline recogniser and speaks through espeak-ng. Needs the engine's cascaded
 * audio pipeline (src/engine/voice/) and the Debian speech tools.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, MAIN, ROOT } from '../helpers/built-cli.js';
import { missingTools } from '../speech/tools.js';

// The installed command (dist/), as the other CLI tests run it: tsx would compile the sources again in the
// spawned process, seconds of CPU on a loaded machine while the call runs at real time.
const CLI = [MAIN];

beforeAll(ensureBuilt, 600_000);

/** The environment of a machine with no speech keys at all. */
function keyless(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'silent', ...extra };
  for (const k of Object.keys(env)) if (/^(OPENAI|DEEPGRAM|ELEVENLABS|AZURE_SPEECH|ANTHROPIC|LLM)_/.test(k) || k === 'STT_PROVIDER' || k === 'VOICE_ENGINE') delete env[k];
  return env;
}

function call(args: string[], env: NodeJS.ProcessEnv): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...CLI, 'call', ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

const missing = missingTools('espeak-ng', 'sox', 'pocketsphinx_continuous');

describe.skipIf(missing)('switchboard call --audio', () => {
  it('completes a call on the simulated network with no keys, and prints what the recogniser heard the callee say', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-cli-audio-'));
    // No --language (issue 10's own command): the call goes in the language of the number's people, English
    // here, not the API's default Swedish, which the offline recogniser cannot hear.
    const r = await call(['--audio', '--to', '+15550100', '--task', 'Confirm my booking for Tuesday at 7 pm, booking reference AB123', '--name', 'Alex Smith'], keyless({ DATA_DIR: dir }));
    expect(r.status, r.stderr).toBe(0);
    // The receptionist's lines arrive as the offline recogniser writes them: lower-case words, no punctuation
    // (on a text call they would read "Good evening, Bella Cucina, …").
    const callee = [...r.stdout.matchAll(/^callee: (.*)$/gm)].map((m) => m[1]);
    expect(callee.length).toBeGreaterThan(0);
    for (const line of callee) expect(line).toMatch(/^[a-z' ]+$/);
    expect(r.stdout).toMatch(/^agent : .*booking/m);
    expect(r.stdout).toMatch(/outcome: completed \(answered by human\)/);
  }, 600_000); // a real-time call (a minute or two) on a loaded machine

  it('refuses --audio with --server: a running server carries its calls as its own SIM_AUDIO says', () => {
    const r = spawnSync(process.execPath, [...CLI, 'call', '--audio', '--server', 'http://127.0.0.1:9', '--key', 'k', '--to', '+15550100', '--task', 'x'], {
      cwd: ROOT,
      env: keyless({}),
      encoding: 'utf8',
      timeout: 150_000,
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/--audio runs the embedded server; start the server with SIM_AUDIO=true/);
  }, 150_000);
});
