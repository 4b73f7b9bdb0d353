import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DataDirBusyError, lockDataDir } from '../../src/store/lock.js';

const dirs: string[] = [];
const tempDir = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-lock-'));
  dirs.push(d);
  return d;
};
afterEach(() => dirs.splice(0).forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

describe('the data folder lock', () => {
  it('refuses a second holder in the same process and lets go on release', () => {
    const dir = tempDir();
    const release = lockDataDir(dir);
    expect(() => lockDataDir(dir)).toThrow(DataDirBusyError);
    release();
    expect(fs.existsSync(path.join(dir, 'switchboard.lock'))).toBe(false);
    lockDataDir(dir)();
  });

  it('leaves no exit listener behind per store opened and closed (no MaxListeners warning in a long-lived process)', () => {
    const before = process.listenerCount('exit');
    for (let i = 0; i < 20; i++) lockDataDir(tempDir())();
    expect(process.listenerCount('exit')).toBe(before);
  });
});
