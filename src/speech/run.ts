/**
 * Runs one of the audio programs Switchboard uses offline (espeak-ng, sox, lame): bytes in on stdin, bytes
 * out from stdout. Nothing the caller passes is ever an argument that the program could read as text or as
 * an option; text and audio go through stdin.
 */
import { spawn } from 'node:child_process';

/** A program could not be run, or it failed. `program` names it; the message never holds the input. */
export class AudioToolError extends Error {
  constructor(
    readonly program: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'AudioToolError';
  }
}

/** The most a program may print before it is stopped (an hour of 16-bit 22 kHz audio is ~160 MB). */
const MAX_OUTPUT_BYTES = 256 * 1024 * 1024;

/**
 * Runs `program args`, writes `input` to its stdin and resolves with everything it printed on stdout.
 * Aborting `signal` stops the program (SIGTERM) and rejects with an `AbortError`.
 */
export function runTool(program: string, args: string[], input: Buffer | string, timeoutMs = 120_000, signal?: AbortSignal): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { stdio: ['pipe', 'pipe', 'pipe'], timeout: timeoutMs, ...(signal ? { signal } : {}) });
    const out: Buffer[] = [];
    let size = 0;
    let err = '';
    child.stdout.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_OUTPUT_BYTES) child.kill('SIGKILL');
      else out.push(c);
    });
    child.stderr.on('data', (c: Buffer) => {
      if (err.length < 2000) err += c.toString('utf8');
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (e.name === 'AbortError') return reject(e);
      reject(new AudioToolError(program, e.code === 'ENOENT' ? `${program} is not installed (scripts/system-deps.sh installs it)` : `${program} could not be started`, { cause: e }));
    });
    // The program may exit before reading all of its input (a bad option): that is its exit code's story.
    child.stdin.on('error', () => {});
    child.on('close', (code, stoppedBy) => {
      if (code === 0) return resolve(Buffer.concat(out));
      const why = size > MAX_OUTPUT_BYTES ? 'printed too much' : stoppedBy ? `was stopped (${stoppedBy})` : `exited with ${code}`;
      reject(new AudioToolError(program, `${program} ${why}`, { cause: err.trim() ? new Error(err.trim()) : undefined }));
    });
    child.stdin.end(input);
  });
}
