/**
 * Whether a server is told to start with `--single-threaded-gc`, or nices its helper threads itself (src/cli/serve.ts):
 * it counts the CPUs it may use from its affinity and its cgroup's quota; pinned to one CPU it yields, limited to
 * one by a quota alone it says to use the flag; neither when started with the flag.
 * test/cli/start-stop.test.ts sees the banner of real servers under `taskset`.
 */
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { oneCpuAdvice, yieldsHelperThreads } from '../../src/cli/serve.js';
import { cpusFromCpuMax, usableCpus } from '../../src/lib/cpus.js';

describe('one CPU', () => {
  it("reads a cgroup's quota as whole CPUs, at least one; no quota is no limit", () => {
    expect(cpusFromCpuMax('100000 100000\n')).toBe(1); // docker --cpus=1
    expect(cpusFromCpuMax('150000 100000')).toBe(1);
    expect(cpusFromCpuMax('50000 100000')).toBe(1);
    expect(cpusFromCpuMax('400000 100000')).toBe(4);
    expect(cpusFromCpuMax('max 100000')).toBeUndefined();
    expect(cpusFromCpuMax(undefined)).toBeUndefined();
    expect(cpusFromCpuMax('')).toBeUndefined();
  });

  it('a quota below the affinity limits the CPUs; none leaves the affinity', () => {
    expect(usableCpus('100000 100000')).toBe(1);
    expect(usableCpus('max 100000')).toBe(os.availableParallelism());
    expect(usableCpus(undefined)).toBe(os.availableParallelism());
  });

  it('advises the flag on one CPU of a quota while more may run it, unless the server was started with it; never on more', () => {
    // A quota of one CPU on a machine of two (docker --cpus=1).
    expect(oneCpuAdvice(1, [], 2)).toMatch(/node --single-threaded-gc dist\/cli\/main\.js serve/);
    expect(oneCpuAdvice(1, ['--single-threaded-gc'], 2)).toBeUndefined();
    expect(oneCpuAdvice(2, [], 2)).toBeUndefined();
    // Pinned to one CPU (taskset, a cpuset): no advice, the helper threads yield instead.
    expect(oneCpuAdvice(1, [], 1)).toBeUndefined();
  });

  it('the helper threads yield on a node pinned to one CPU, unless it was started with the flag; never on more', () => {
    expect(yieldsHelperThreads(1, [])).toBe(true);
    expect(yieldsHelperThreads(1, ['--single-threaded-gc'])).toBe(false);
    expect(yieldsHelperThreads(2, [])).toBe(false);
  });
});
