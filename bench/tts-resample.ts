/**
 * What OpenAI speech costs Switchboard beyond the network: its 24 kHz PCM resampled to 8 kHz μ-law
 * (src/ai/tts/pcm-to-mulaw.ts: libsamplerate's WebAssembly build, then alawmulaw). Prints the time to build
 * a resampler (the first, then one more while the first is busy), the CPU per second of speech converted in
 * 20 ms chunks as OpenAI streams them, and the resident memory one more resampler adds. Stops by itself.
 *
 *   npx tsx bench/tts-resample.ts
 *   BENCH_SECONDS=120 npx tsx bench/tts-resample.ts
 *
 * Environment (all optional):
 *   BENCH_SECONDS   60    seconds of speech converted for the per-second figure
 *   BENCH_PARALLEL  20    resamplers held at once for the memory figure
 */
import { pcmToMulaw } from '../src/ai/tts/pcm-to-mulaw.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const PARALLEL = Number(process.env.BENCH_PARALLEL ?? 20);
const RATE = 24_000;
const CHUNK = (RATE / 50) * 2; // 20 ms of 16-bit samples

function tone(seconds: number): Uint8Array {
  const s = new Int16Array(RATE * seconds);
  for (let i = 0; i < s.length; i++) s[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / RATE));
  return new Uint8Array(s.buffer);
}

async function* chunks(pcm: Uint8Array, hold?: Promise<void>): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < pcm.length; at += CHUNK) {
    yield pcm.subarray(at, at + CHUNK);
    if (hold && at === 0) await hold;
  }
}

async function drain(it: AsyncIterable<Uint8Array>): Promise<number> {
  let n = 0;
  for await (const c of it) n += c.length;
  return n;
}

const ms = (t: bigint) => Number(t) / 1e6;

async function main(): Promise<void> {
  const short = tone(0.1);
  let t = process.hrtime.bigint();
  await drain(pcmToMulaw(chunks(short), RATE));
  const firstBuild = ms(process.hrtime.bigint() - t);
  t = process.hrtime.bigint();
  await drain(pcmToMulaw(chunks(short), RATE));
  const pooled = ms(process.hrtime.bigint() - t);

  // Resamplers busy at once: each synthesis running needs its own.
  let release!: () => void;
  const hold = new Promise<void>((r) => (release = r));
  const rssBefore = process.memoryUsage().rss;
  t = process.hrtime.bigint();
  const busy = Array.from({ length: PARALLEL }, () => pcmToMulaw(chunks(short, hold), RATE)[Symbol.asyncIterator]());
  await Promise.all(busy.map((it) => it.next()));
  const buildEach = ms(process.hrtime.bigint() - t) / PARALLEL;
  const rssEach = (process.memoryUsage().rss - rssBefore) / PARALLEL / 1e6;
  release();
  await Promise.all(busy.map(async (it) => { for (let r = await it.next(); !r.done; r = await it.next()) void r; }));

  const speech = tone(SECONDS);
  const cpu = process.cpuUsage();
  t = process.hrtime.bigint();
  const out = await drain(pcmToMulaw(chunks(speech), RATE));
  const wall = ms(process.hrtime.bigint() - t);
  const used = process.cpuUsage(cpu);

  console.log('| figure | value |');
  console.log('| --- | --- |');
  console.log(`| first resampler (WebAssembly compiled) | ${firstBuild.toFixed(1)} ms |`);
  console.log(`| a clause with a pooled resampler (100 ms of speech) | ${pooled.toFixed(2)} ms |`);
  console.log(`| one more resampler, built while ${PARALLEL} are busy | ${buildEach.toFixed(1)} ms each |`);
  console.log(`| resident memory per busy resampler | ${rssEach.toFixed(2)} MB |`);
  console.log(`| CPU per second of speech (20 ms chunks) | ${(((used.user + used.system) / 1000) / SECONDS).toFixed(3)} ms |`);
  console.log(`| converted | ${SECONDS} s of 24 kHz PCM → ${out} bytes μ-law in ${wall.toFixed(0)} ms wall |`);
}

await main();
