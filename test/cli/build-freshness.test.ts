/**
 * `npm start` builds first only when a source is newer than the last build (scripts/build.js `isStale`),
 * and otherwise starts the built server at once (issue 11 §7). Checked on a scratch copy of the project's
 * layout, so the real dist/ is never touched: dates are set explicitly, no waiting.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeEach, describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '../..');

let root: string;
/** The moment the scratch build "ran". */
const BUILT = new Date('2026-01-01T12:00:00Z');
const before = new Date(BUILT.getTime() - 60_000);
const after = new Date(BUILT.getTime() + 60_000);

function write(rel: string, text: string, when: Date) {
  const file = path.join(root, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  fs.utimesSync(file, when, when);
}

/** A fresh import of the copied build.js, which reads the scratch tree it sits in. */
async function isStale(): Promise<boolean> {
  const url = pathToFileURL(path.join(root, 'scripts', 'build.js')).href + `?t=${Math.random()}`;
  return ((await import(url)) as { isStale(): boolean }).isStale();
}

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-fresh-'));
  write('package.json', '{"type":"module"}', before);
  write('scripts/build.js', fs.readFileSync(path.join(ROOT, 'scripts', 'build.js'), 'utf8'), before);
  write('src/cli/main.ts', 'export {};\n', before);
  write('src/app.ts', 'export {};\n', before);
  write('web/index.html', '<html></html>\n', before);
  write('tsconfig.json', '{}', before);
  write('tsconfig.build.json', '{}', before);
  write('dist/cli/main.js', '// the bundle\n', BUILT);
  write('dist/.build-stamp', BUILT.toISOString(), BUILT);
  // Folders date from their last change too (a file added or removed).
  for (const dir of ['src/cli', 'src', 'web']) fs.utimesSync(path.join(root, dir), before, before);
});

describe('the build is redone before a start only when needed', () => {
  it('a build newer than every source is used as it is', async () => {
    expect(await isStale()).toBe(false);
  });

  it('a source saved after the build, or the dashboard\'s, calls for a new build', async () => {
    fs.utimesSync(path.join(root, 'src/cli/main.ts'), after, after);
    expect(await isStale()).toBe(true);
    fs.utimesSync(path.join(root, 'src/cli/main.ts'), before, before);
    fs.utimesSync(path.join(root, 'web/index.html'), after, after);
    expect(await isStale()).toBe(true);
  });

  it('a source deleted after the build calls for a new build', async () => {
    fs.rmSync(path.join(root, 'src/app.ts')); // dates the folder now, after the build
    expect(await isStale()).toBe(true);
  });

  it('a missing built server calls for a build, whatever the dates', async () => {
    fs.rmSync(path.join(root, 'dist/cli/main.js'));
    expect(await isStale()).toBe(true);
  });
});
