import fs from 'node:fs';

/** A thread's niceness as the kernel has it: /proc/<pid>/task/<tid>/stat, field 19 (the name in parentheses may hold spaces). */
export function threadNice(pid: number, tid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}

/** Every thread of process `pid` with its niceness (Linux). */
export function threadNices(pid: number): { tid: number; nice: number }[] {
  return fs.readdirSync(`/proc/${pid}/task`).map((t) => ({ tid: Number(t), nice: threadNice(pid, Number(t)) }));
}
