/**
 * What the voice activity detector costs per call (docs/voice.md "The cascaded pipeline"): µs per 20 ms
 * frame on real speech (the committed espeak-ng fixtures) and on silence, and the memory one detector holds.
 * Run: `npx tsx bench/voice-vad.ts`. Prints a table; asserts nothing.
 */
import { readFileSync } from 'node:fs';
import { EnergyVad } from '../src/engine/voice/vad.js';

const speech = Buffer.concat([
  readFileSync(new URL('../test/fixtures/audio/greeting.ulaw', import.meta.url)),
  readFileSync(new URL('../test/fixtures/audio/menu.ulaw', import.meta.url)),
]);
const frames = (audio: Buffer) => Array.from({ length: Math.floor(audio.length / 160) }, (_, i) => audio.subarray(i * 160, (i + 1) * 160));
const cases = { speech: frames(speech), silence: frames(Buffer.alloc(speech.length, 0xff)) };

function perFrameUs(list: Buffer[], rounds: number): number {
  const vad = new EnergyVad();
  for (let i = 0; i < 2000; i++) vad.push(list[i % list.length]); // warm up
  const start = process.hrtime.bigint();
  for (let r = 0; r < rounds; r++) for (const f of list) vad.push(f);
  return Number(process.hrtime.bigint() - start) / 1000 / (rounds * list.length);
}

// Memory: many detectors at once, heap difference per detector.
function bytesPerDetector(n: number): number {
  globalThis.gc?.();
  const before = process.memoryUsage().heapUsed;
  const keep = Array.from({ length: n }, () => new EnergyVad());
  globalThis.gc?.();
  const after = process.memoryUsage().heapUsed;
  return keep.length ? (after - before) / n : 0;
}

console.log('| input | frames | µs per frame | µs per call-second (50 frames) |');
console.log('|---|---|---|---|');
for (const [name, list] of Object.entries(cases)) {
  const us = perFrameUs(list, 200);
  console.log(`| ${name} | ${list.length * 200} | ${us.toFixed(2)} | ${(us * 50).toFixed(1)} |`);
}
console.log(`\nbytes per detector (heap, 100k detectors${globalThis.gc ? ', after gc' : ', run with --expose-gc for a steadier figure'}): ${bytesPerDetector(100_000).toFixed(0)}`);
