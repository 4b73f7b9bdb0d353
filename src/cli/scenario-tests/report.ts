/** The pass/fail table of a scenario test run. */
import path from 'node:path';
import type { ScenarioTestRun } from './run.js';

export interface ReportOptions {
  /** Print the transcript of each failed case under the table. */
  transcripts?: boolean;
}

export function formatReport(run: ScenarioTestRun, o: ReportOptions = {}): string {
  const head = ['FILE', 'CASE', 'RESULT', 'SECS', 'REASONS'];
  const rows = run.results.map((r) => [
    path.basename(r.file),
    r.name,
    r.passed ? 'PASS' : 'FAIL',
    String(r.seconds),
    r.failures.join('; '),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (r: string[]) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : i === 3 ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  const lines = [fmt(head), ...rows.map(fmt)];
  lines.push('', `${run.passed} passed, ${run.failed} failed (${run.results.length} cases, brain: ${run.brain})`);
  if (o.transcripts) {
    for (const r of run.results.filter((x) => !x.passed)) {
      lines.push('', `--- ${path.basename(r.file)} / ${r.name}: ${r.status ?? 'not started'}${r.pressed ? `, pressed ${r.pressed}` : ''}`);
      for (const t of r.transcript) lines.push(`${t.role.padEnd(6)}: ${t.text}`);
    }
  }
  return lines.join('\n') + '\n';
}
