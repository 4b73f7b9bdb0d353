/**
 * What one read of a call costs the embedded store: `CallService.details()` (one statement, what
 * `GET /v1/calls/:id` runs) against the four statements it replaced (`find`, `transcript`,
 * `pendingQuestion`, `turns`), on the same ended call in the same process, interleaved in rounds so that
 * both see the same machine. Prints CPU and wall time per read; CPU per read is the figure that a busy
 * machine disturbs least. Loopback only (no HTTP: the store's side of the request alone).
 *
 *   npx tsx bench/call-details.ts
 *   BENCH_READS=500 BENCH_ROUNDS=6 npx tsx bench/call-details.ts
 *
 * Timing figures live here, printed; never in test assertions.
 */
import os from 'node:os';
import { createSwitchboard } from '../src/app.js';
import { loadConfig } from '../src/config/index.js';

const READS = Number(process.env.BENCH_READS ?? 200);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);

const sb = await createSwitchboard(loadConfig({ LOG_LEVEL: 'silent', SIM_TIME_SCALE: '50', PORT: '0' }), { inMemory: true });
try {
  const { org } = await sb.core.orgs.ensure('bench', { credits: 1_000_000 });
  const headers = { authorization: `Bearer ${await sb.core.orgs.createKey(org.id)}` };
  const payload = { phone_number: '+15550100', task: 'Confirm my booking, reference AB123', language: 'en' };
  const { sid } = (await sb.app.inject({ method: 'POST', url: '/v1/start-call', headers, payload })).json<{ sid: string }>();
  // A whole conversation first, so the reads return a real transcript and turn figures.
  for (;;) {
    const call = (await sb.app.inject({ method: 'GET', url: `/v1/calls/${sid}`, headers })).json<{ ended_at?: string }>();
    if (call.ended_at) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const calls = sb.core.calls;
  const ways: Record<string, () => Promise<unknown>> = {
    'four statements': async () => {
      const call = await calls.find(org.id, sid);
      return Promise.all([calls.transcript(call.id), calls.pendingQuestion(call.id), calls.turns(call.id)]);
    },
    'one statement': () => calls.details(org.id, sid),
  };
  const cpu: Record<string, number[]> = {};
  console.log(`node ${process.version} · ${os.cpus().length} CPUs · load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} · ${READS} reads × ${ROUNDS} rounds`);
  for (let round = 1; round <= ROUNDS; round++) {
    for (const [name, read] of Object.entries(ways)) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      for (let i = 0; i < READS; i++) await read();
      const used = process.cpuUsage(c0);
      (cpu[name] ??= []).push((used.user + used.system) / 1000 / READS);
      console.log(`round ${round} ${name.padEnd(16)} wall ${((performance.now() - t0) / READS).toFixed(2)} ms/read · cpu ${cpu[name].at(-1)!.toFixed(2)} ms/read`);
    }
  }
  for (const [name, xs] of Object.entries(cpu)) {
    const s = [...xs].sort((a, b) => a - b);
    const median = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    console.log(`${name.padEnd(16)} median cpu ${median.toFixed(2)} ms/read`);
  }
  console.log(`load at end ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
} finally {
  await sb.shutdown();
}
