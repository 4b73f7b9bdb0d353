/**
 * What the agent's outbound audio costs at the carrier per call (docs/performance.md §11, "Where a turn's time
 * goes"): µs of CPU to hand one second of μ-law to Twilio through `TwilioMediaStream.send` — the `media`
 * message from its template, the base64, `ws` framing and the socket write on loopback — in 20 ms messages (as
 * the pacer sent them first), in 40 ms messages with a progress mark apart after every 80 ms (until §17), and in
 * 80 ms messages each with its mark in the same write (`sendMarked`, `AudioChannel.outboundFrameMs` on Twilio
 * now, docs/performance.md §17). Only the
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

  /** How a second of audio goes out: message length, and its progress marks (none, a message apart, or in the same write). */
  type Shape = { name: string; ms: number; marks: 'none' | 'apart' | 'corked'; markEvery: number };
  const shapes: Shape[] = [
    { name: '20 ms, no marks', ms: 20, marks: 'none', markEvery: 0 },
    { name: '40 ms, a mark apart every 80 ms (before §17)', ms: 40, marks: 'apart', markEvery: 2 },
    { name: '80 ms, its mark in the same write (now)', ms: 80, marks: 'corked', markEvery: 1 },
  ];

  /** One round: every call's SECONDS of audio in `shape`, interleaved as the pacer's ticks do; CPU µs of the sends. */
  const round = async (shape: Shape): Promise<number> => {
    const bytes = shape.ms * 8;
    const frames = audio.length / bytes;
    const expected = received + CALLS * (frames + (shape.markEvery ? Math.floor(frames / shape.markEvery) : 0));
    let cpu = 0;
    let n = 0;
    for (let at = 0; at < audio.length; at += bytes) {
      const frame = audio.subarray(at, at + bytes);
      const marked = shape.markEvery > 0 && ++n % shape.markEvery === 0;
      const t0 = process.cpuUsage();
      for (const s of streams) {
        if (!marked) s.send(frame);
        else if (shape.marks === 'corked') s.sendMarked(frame, `sent-${n}`);
        else {
          s.send(frame);
          s.progressMark(`sent-${n}`);
        }
      }
      const d = process.cpuUsage(t0);
      cpu += d.user + d.system;
      // Let the client read what was sent (its cost is not timed), as a tick of real time would.
      if (n % 5 === 4) await new Promise((r) => setImmediate(r));
    }
    while (received < expected) await new Promise((r) => setTimeout(r, 5));
    return cpu;
  };

  console.log(`| messages | µs of CPU per call-second of audio (median of ${ROUNDS} rounds, ${CALLS} calls × ${SECONDS} s) | messages per call-second | socket writes per call-second |`);
  console.log('|---|---:|---:|---:|');
  const results = shapes.map(() => [] as number[]);
  for (const shape of shapes) await round(shape); // warm-up
  for (let i = 0; i < ROUNDS; i++) for (const [k, shape] of shapes.entries()) results[k].push((await round(shape)) / (CALLS * SECONDS));
  for (const [k, shape] of shapes.entries()) {
    const sorted = results[k].sort((a, b) => a - b);
    const media = 1000 / shape.ms;
    const marks = shape.markEvery ? media / shape.markEvery : 0;
    const writes = media + (shape.marks === 'apart' ? marks : 0);
    console.log(`| ${shape.name} | ${sorted[Math.floor(sorted.length / 2)].toFixed(0)} (${sorted.map((v) => v.toFixed(0)).join(', ')}) | ${media + marks} | ${writes} |`);
  }
  for (const c of clients) c.terminate();
  await new Promise((r) => wss.close(r));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
