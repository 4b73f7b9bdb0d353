/**
 * What the agent's outbound audio costs at the carrier per call (docs/performance.md §11, "Where a turn's time
 * goes"): µs of CPU to hand one second of μ-law to Twilio through `TwilioMediaStream.send` — the `media`
 * message from its template, the base64, `ws` framing and the socket write on loopback — in 20 ms messages (as
 * the pacer sent them before) and in 40 ms messages (`AudioChannel.outboundFrameMs` on Twilio). Only the
 * synchronous send is timed (process CPU, so other load on the machine does not count); the receiving client
 * reads in between rounds. Run: `npx tsx bench/voice-outbound.ts`. Prints a table; asserts nothing.
 */
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { TwilioMediaStream, mediaStreamToken } from '../src/carriers/twilio/media-stream.js';

const SECRET = 'bench-outbound-secret';
const CALLS = 50;
const SECONDS = 5;
const ROUNDS = 5;

async function main(): Promise<void> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const streams: TwilioMediaStream[] = [];
  wss.on('connection', (socket) => streams.push(new TwilioMediaStream({ socket, secret: SECRET })));
  const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/media/ws`;
  let received = 0;
  const clients: WebSocket[] = [];
  for (let i = 0; i < CALLS; i++) {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => ws.once('open', () => resolve()).once('error', reject));
    ws.on('message', () => received++);
    const streamSid = `MZ${String(i).padStart(32, '0')}`;
    const callId = `call_${i}`;
    ws.send(JSON.stringify({ event: 'connected', protocol: 'Call', version: '1.0.0' }));
    ws.send(JSON.stringify({ event: 'start', sequenceNumber: '1', streamSid, start: { streamSid, callSid: `CA${i}`, tracks: ['inbound'], mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 }, customParameters: { callId, token: mediaStreamToken(SECRET, callId) } } }));
    clients.push(ws);
  }
  await Promise.all(streams.map((s) => s.ready));
  const audio = Buffer.alloc(8000 * SECONDS, 0x55);

  /** One round: every call's SECONDS of audio in `ms` messages, interleaved as the pacer's ticks do; CPU µs of the sends. */
  const round = async (ms: number): Promise<number> => {
    const bytes = ms * 8;
    const expected = received + CALLS * (audio.length / bytes);
    let cpu = 0;
    for (let at = 0; at < audio.length; at += bytes) {
      const frame = audio.subarray(at, at + bytes);
      const t0 = process.cpuUsage();
      for (const s of streams) s.send(frame);
      const d = process.cpuUsage(t0);
      cpu += d.user + d.system;
      // Let the client read what was sent (its cost is not timed), as a tick of real time would.
      if ((at / bytes) % 5 === 4) await new Promise((r) => setImmediate(r));
    }
    while (received < expected) await new Promise((r) => setTimeout(r, 5));
    return cpu;
  };

  console.log(`| message | µs of CPU per call-second of audio (median of ${ROUNDS} rounds, ${CALLS} calls × ${SECONDS} s) | messages per call-second |`);
  console.log('|---|---:|---:|');
  const results: Record<number, number[]> = { 20: [], 40: [] };
  await round(20); // warm-up
  await round(40);
  for (let i = 0; i < ROUNDS; i++) for (const ms of [20, 40]) results[ms].push((await round(ms)) / (CALLS * SECONDS));
  for (const ms of [20, 40]) {
    const sorted = results[ms].sort((a, b) => a - b);
    console.log(`| ${ms} ms | ${sorted[Math.floor(sorted.length / 2)].toFixed(0)} (${sorted.map((v) => v.toFixed(0)).join(', ')}) | ${1000 / ms} |`);
  }
  for (const c of clients) c.terminate();
  await new Promise((r) => wss.close(r));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
