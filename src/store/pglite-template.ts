/**
 * A ready-made empty database for the embedded store. Creating a PGlite cluster (initdb, in WebAssembly)
 * is most of a first start; loading a dump of one made at install time takes a third of that. The template
 * is made by `npm run build` (see `main` below), named after the PGlite version so a stale one is never used,
 * and is only an optimisation: without it the store is created from scratch as before.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { projectRoot } from '../config/index.js';

/** The installed PGlite's version (its package.json is not exported, so it is found from its entry). */
function pgliteVersion(): string {
  let dir = path.dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite'));
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg)) {
      const j = JSON.parse(fs.readFileSync(pkg, 'utf8')) as { name?: string; version?: string };
      if (j.name === '@electric-sql/pglite' && j.version) return j.version;
    }
    const up = path.dirname(dir);
    if (up === dir) return 'unknown';
    dir = up;
  }
}

export function templatePath(): string {
  return path.join(projectRoot(), 'dist', `pglite-template-${pgliteVersion()}.tar.gz`);
}

/** The template as PGlite's `loadDataDir` wants it, or undefined when there is none. */
export function loadTemplate(): Blob | undefined {
  try {
    return new Blob([fs.readFileSync(templatePath())]);
  } catch {
    return undefined;
  }
}

/** Whether `dir` holds no database yet. */
export function isEmptyDataDir(dir: string): boolean {
  try {
    return fs.readdirSync(dir).length === 0;
  } catch {
    return true;
  }
}

/** Makes the template (once per PGlite version). Run by `npm run build`. */
export async function makeTemplate(): Promise<string> {
  const file = templatePath();
  if (fs.existsSync(file)) return file;
  const { PGlite } = await import('@electric-sql/pglite');
  const db = new PGlite();
  await db.waitReady;
  const dump = await db.dumpDataDir('gzip');
  await db.close();
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file + '.tmp', Buffer.from(await dump.arrayBuffer()));
  fs.renameSync(file + '.tmp', file);
  return file;
}

if (process.argv[1] && import.meta.url === new URL(`file://${path.resolve(process.argv[1])}`).href) {
  makeTemplate().then(
    (f) => process.stdout.write(`embedded database template: ${path.relative(process.cwd(), f)}\n`),
    (err) => {
      // Only an optimisation: a failure here must not fail the build.
      process.stderr.write(`embedded database template not made: ${(err as Error).message}\n`);
    },
  );
}
