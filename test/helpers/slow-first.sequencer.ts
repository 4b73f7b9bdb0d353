/**
 * Starts the suite's longest files first. Vitest orders files by the durations it remembers from the last
 * run, but a fresh checkout (CI) has none and falls back to file size, which put the offline audio call (a
 * real-time call: 90 s then) last: the run's final minute and a half kept one worker busy, the other idle.
 * The list is by measured duration (a full run's JSON report); files not in it keep Vitest's own order after.
 */
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const SLOWEST_FIRST = [
  'test/cli/cli.test.ts',
  'test/cli/call-audio.test.ts',
  'test/cli/start-stop.test.ts',
  'test/cli/scenario-tests.test.ts',
  'test/engine/durable-calls.test.ts',
  'test/ai/stt/offline.test.ts',
  'test/core/tasks.schedule.test.ts',
  'test/cli/credits.test.ts',
  'test/core/credits.live-calls.test.ts',
  'test/core/credits.concurrency.test.ts',
  'test/faces/recordings.test.ts',
  'test/cli/scenario-record.test.ts',
];

function rank(file: TestSpecification): number {
  const i = SLOWEST_FIRST.findIndex((name) => file.moduleId.endsWith(name));
  return i === -1 ? SLOWEST_FIRST.length : i;
}

export class SlowFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const known = await super.sort(files);
    return [...known].sort((a, b) => rank(a) - rank(b)); // stable: Vitest's order within a rank
  }
}
