/**
 * One thread's niceness (src/lib/thread-priority.ts), as the kernel sees it in /proc: the thread that asks is
 * niced and the process's other threads are not; a thread is never made less nice than it is.
 */
import fs from 'node:fs';
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import esbuild from 'esbuild';
import { describe, expect, it } from 'vitest';
import { STORE_THREAD_NICE, storeThreadNice } from '../../src/store/pglite.js';
import { threadNice } from '../helpers/threads.js';

/** Runs `niceCurrentThread` with each of `nices` in a worker thread; its id and what each call returned. */
async function niceInWorker(nices: number[]): Promise<{ tid: number; results: (number | undefined)[] }> {
  // A worker cannot load TypeScript: the module is compiled to CommonJS here and evaluated there.
  const source = fs.readFileSync(new URL('../../src/lib/thread-priority.ts', import.meta.url), 'utf8');
  const { code: moduleCode } = esbuild.transformSync(source, { loader: 'ts', format: 'cjs' });
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const module = { exports: {} };
    new Function('require', 'module', 'exports', workerData.moduleCode)(require, module, module.exports);
    const m = module.exports;
    const results = workerData.nices.map((n) => m.niceCurrentThread(n));
    parentPort.postMessage({ tid: m.osThreadId(), results });
    setTimeout(() => {}, 60_000);`;
  const worker = new Worker(code, { eval: true, workerData: { moduleCode, nices } });
  try {
    const reply = await new Promise<{ tid: number; results: (number | undefined)[] }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    // Read while the thread still runs.
    expect(threadNice(process.pid, reply.tid)).toBe(reply.results.at(-1));
    return reply;
  } finally {
    await worker.terminate();
  }
}

describe.runIf(process.platform === 'linux')('a thread of its own niceness', () => {
  it('nices the thread that asks, and no other thread of the process', async () => {
    const mine = os.getPriority(process.pid);
    const { tid, results } = await niceInWorker([10]);
    expect(tid).not.toBe(process.pid);
    expect(results).toEqual([Math.max(10, mine)]);
    expect(threadNice(process.pid, process.pid)).toBe(mine);
  });

  it('never makes a thread less nice than it is', async () => {
    const twelve = Math.max(12, os.getPriority(process.pid));
    const { results } = await niceInWorker([12, 5]);
    expect(results).toEqual([twelve, twelve]);
  });
});

describe('the store thread on one CPU', () => {
  it('yields the core only where it shares one with the server', () => {
    expect(storeThreadNice(1)).toBe(STORE_THREAD_NICE);
    expect(STORE_THREAD_NICE).toBeGreaterThan(0);
    expect(storeThreadNice(2)).toBe(0);
    expect(storeThreadNice(64)).toBe(0);
  });
});
