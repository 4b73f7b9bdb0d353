/**
 * How many CPUs this process may use: what a node given one CPU (a container's limit, `taskset`) does
 * differently — its start advice (src/cli/serve.ts) and its store's thread yielding the core
 * (src/store/pglite.ts) — hangs on this one reading.
 */
import fs from 'node:fs';
import os from 'node:os';

/** The CPUs this process may use: its affinity (taskset, cpusets) and, if one is set, its cgroup's quota (`docker --cpus`). */
export function usableCpus(cpuMax = readCgroupCpuMax()): number {
  const quota = cpusFromCpuMax(cpuMax);
  return Math.min(os.availableParallelism(), quota ?? Infinity);
}

/** cgroup v2 `cpu.max` ("<quota> <period>", or "max <period>" for none): whole CPUs the quota is worth, at least 1. */
export function cpusFromCpuMax(text: string | undefined): number | undefined {
  const m = /^(\d+) (\d+)$/.exec(text?.trim() ?? '');
  return m ? Math.max(1, Math.floor(Number(m[1]) / Number(m[2]))) : undefined;
}

function readCgroupCpuMax(): string | undefined {
  try {
    return fs.readFileSync('/sys/fs/cgroup/cpu.max', 'utf8');
  } catch {
    return undefined; // cgroup v1, or not Linux: the affinity alone
  }
}
