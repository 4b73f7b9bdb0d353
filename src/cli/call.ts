import { Command } from 'commander';
import { loadScenarios } from '../carriers/sim/index.js';
import { loadConfig, type Config } from '../config/index.js';
import type { Switchboard } from '../app.js';

/** How each transcript role is printed (padded to one width): the agent, a supervisor's line, the user-on-call user. */
const SPEAKER: Record<string, string> = { assistant: 'agent ', supervisor: 'supervisor', operator: 'user  ' };

interface CallOptions {
  to: string;
  task: string;
  language?: string;
  name?: string;
  server?: string;
  key?: string;
  audio?: boolean;
}

/**
 * Places one call and prints its live transcript, then its outcome. Against a running server with
 * --server/--key; otherwise an embedded server runs in this process for the one call.
 */
export function callCommand(): Command {
  return new Command('call')
    .description('Place a call and follow its transcript live')
    .requiredOption('--to <number>', 'E.164 number to call (see `switchboard scenarios`)')
    .requiredOption('--task <text>', 'what the agent should get done')
    .option('--language <code>', "language of the call (default: on the embedded server, the language of the simulated number's people; else the server's default, sv)")
    .option('--name <name>', 'the name the agent calls on behalf of (persona.name)')
    .option('--server <url>', 'a running Switchboard (default: an embedded one in this process)')
    .option('--key <key>', 'API key for --server (SWITCHBOARD_API_KEY)')
    .option('--audio', 'carry the call as audio on the simulated network: its people speak through espeak-ng and the agent hears them through its speech-to-text (SIM_AUDIO=true; embedded server only)')
    .action(async (opts: CallOptions) => {
      let sb: Switchboard | undefined;
      let base = opts.server?.replace(/\/+$/, '');
      let key = opts.key ?? process.env.SWITCHBOARD_API_KEY;
      // A running server's network is set by its own SIM_AUDIO; the flag cannot reach it.
      if (opts.audio && base) throw new Error('--audio runs the embedded server; start the server with SIM_AUDIO=true to carry its simulated calls as audio');
      if (!base) {
        const config = loadConfig({
          ...process.env,
          PORT: '0',
          HOST: '127.0.0.1',
          LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
          ...(opts.audio ? { SIM_AUDIO: 'true' } : {}),
        });
        // Loaded here, not with the CLI: the other commands never need the server's modules.
        const { createSwitchboard } = await import('../app.js');
        sb = await createSwitchboard(config);
        const { org } = await sb.core.orgs.ensure('development', { credits: config.devOrgCredits });
        key = await sb.core.orgs.createKey(org.id, 'cli call');
        base = await sb.listen();
        opts = { ...opts, language: opts.language ?? (await peopleLanguage(config, opts.to)) };
      }
      if (!key) throw new Error('--key (or SWITCHBOARD_API_KEY) is required with --server');
      try {
        const code = await placeAndFollow(base, key, opts);
        process.exitCode = code;
      } finally {
        await sb?.shutdown();
      }
    });
}

/**
 * The language the simulated number's people speak, when no --language was given: calling Bella Cucina
 * (English) in the API's default language (Swedish) would have the agent talk Swedish to an English
 * restaurant, and with --audio the offline recogniser (English only) would hear nothing at all.
 */
async function peopleLanguage(config: Config, to: string): Promise<string | undefined> {
  const scenarios = await loadScenarios(config.scenariosDir).catch(() => []);
  return scenarios.find((s) => s.number === to)?.language;
}

async function placeAndFollow(base: string, key: string, o: CallOptions): Promise<number> {
  const headers = { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' };
  const body = {
    phone_number: o.to,
    task: o.task,
    ...(o.language ? { language: o.language } : {}),
    ...(o.name ? { persona: { name: o.name } } : {}),
  };
  const res = await fetch(`${base}/v1/start-call`, { method: 'POST', headers, body: JSON.stringify(body) });
  const started = (await res.json()) as { sid?: string; error?: string };
  if (!res.ok || !started.sid) {
    process.stderr.write(`could not start the call: ${started.error ?? res.status}\n`);
    return 1;
  }
  process.stdout.write(`call ${started.sid} started\n`);
  const stream = await fetch(`${base}/v1/calls/${started.sid}/transcripts/stream`, { headers });
  if (!stream.ok || !stream.body) throw new Error(`transcript stream failed: ${stream.status}`);
  const decoder = new TextDecoder();
  let buf = '';
  for await (const chunk of stream.body as unknown as AsyncIterable<Uint8Array>) {
    buf += decoder.decode(chunk, { stream: true });
    let i: number;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event === 'added' && data) {
        const t = JSON.parse(data) as { role: string; text: string };
        process.stdout.write(`${SPEAKER[t.role] ?? 'callee'}: ${t.text}\n`);
      } else if (event === 'keys' && data) {
        // Keys pressed, with digits the share policy protects shown as •.
        const k = JSON.parse(data) as { role: string; keys: string; field?: string };
        process.stdout.write(`${k.role === 'supervisor' ? 'supervisor' : 'agent '} pressed ${k.keys}${k.field ? ` (${k.field})` : ''}\n`);
      }
    }
  }
  const call = (await (await fetch(`${base}/v1/calls/${started.sid}`, { headers })).json()) as Record<string, any>;
  process.stdout.write(
    `\noutcome: ${call.status}${call.answered_by ? ` (answered by ${call.answered_by})` : ''}` +
      ` · goal completed: ${call.summary?.goal_completed ? 'yes' : 'no'}` +
      `${call.end_reason ? ` · ended: ${call.end_reason}` : ''} · ${call.duration ?? 0} s · brain: ${call.brain}\n`,
  );
  return 0;
}
