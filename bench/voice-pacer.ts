/**
 * What pacing the agent's audio costs (docs/voice.md "The cascaded pipeline"): µs of CPU per frame sent by
 * the node's one pacer with 100 and 1,000 calls speaking at once, the sink doing nothing (the carrier's own
 * cost is not counted). The pacer runs on a hand-moved clock so only its own work is timed.
 * Run: `npx tsx bench/voice-pacer.ts`. Prints a table; asserts nothing.
 */
import { Pacer, type PacerClock } from '../src/engine/voice/pacer.js';

class StepClock implements PacerClock {
  t = 0;
  tick: (() => void) | undefined;
  now(): number {
    return this.t;
  }
  every(_ms: number, tick: () => void): () => void {
    this.tick = tick;
    return () => (this.tick = undefined);
  }
}

console.log('| calls speaking | frames sent | µs per frame | µs per call-second (50 frames) |');
console.log('|---|---|---|---|');
for (const calls of [100, 1000]) {
  const clock = new StepClock();
  const pacer = new Pacer(clock);
  let sent = 0;
  const seconds = 10;
  const audio = new Uint8Array(8000 * seconds);
  const outputs = Array.from({ length: calls }, () => pacer.output(() => sent++));
  for (const o of outputs) o.enqueue(audio);
  const start = process.hrtime.bigint();
  for (let i = 0; i < 50 * seconds && clock.tick; i++) {
    clock.t += 20;
    clock.tick();
  }
  const us = Number(process.hrtime.bigint() - start) / 1000 / sent;
  console.log(`| ${calls} | ${sent} | ${us.toFixed(2)} | ${(us * 50).toFixed(1)} |`);
}
