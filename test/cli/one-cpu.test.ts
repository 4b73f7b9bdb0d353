/**
 * Whether a server is told to start with `--single-threaded-gc` (src/cli/serve.ts): it counts the CPUs it may
 * use from its affinity and its cgroup's quota, and says it only on one CPU and only when not started so.
 * test/cli/start-stop.test.ts sees the banner of real servers under `taskset`.
 */
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { oneCpuAdvice } from '../../src/cli/serve.js';
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

  it('advises the flag on one CPU, unless the server was started with it; never on more', () => {
    expect(oneCpuAdvice(1, [])).toMatch(/node --single-threaded-gc dist\/cli\/main\.js serve/);
    expect(oneCpuAdvice(1, ['--single-threaded-gc'])).toBeUndefined();
    expect(oneCpuAdvice(2, [])).toBeUndefined();
  });
});
