/** Shared by the recording tests: a recorded call on the simulated network, and what a player would do with its audio. */
import { expect } from 'vitest';
import { fromMp3, fromWav, type Pcm } from '../../src/speech/audio.js';
import { until, type TestSwitchboard } from '../helpers/switchboard.js';

/** The clinic's phone menu: the agent presses keys, waits in the queue, then talks to a person. */
export const CLINIC = '+15550101';

export function authOf(t: TestSwitchboard) {
  return { authorization: `Bearer ${t.key}` };
}

/** Starts a call on /v1 and waits until it has ended; returns 000/001's view of it. */
export async function recordedCall(t: TestSwitchboard, body: Record<string, unknown>): Promise<any> {
  const r = await t.sb.app.inject({ method: 'POST', url: '/v1/start-call', headers: authOf(t), payload: body });
  expect(r.statusCode, r.body).toBe(200);
  return until(async () => {
    const c = (await t.sb.app.inject({ method: 'GET', url: `/v1/calls/${r.json().sid}`, headers: authOf(t) })).json();
    return c.ended_at ? c : null;
  }, 60_000, 'the call to end');
}

/** Waits until the call's recording is ready (its URL answers 200), and returns 001's answer. */
export async function recordingOf(t: TestSwitchboard, sid: string, format = 'mp3'): Promise<{ recording_url: string; expires_at: string; url: string; mime: string }> {
  return until(async () => {
    const r = await t.sb.app.inject({ method: 'GET', url: `/v1/calls/${sid}/recording?format=${format}`, headers: authOf(t) });
    return r.statusCode === 200 ? r.json() : null;
  }, 90_000, 'the recording to be ready');
}

/** The path and query of a URL this deployment made (PUBLIC_URL + path), for inject(). */
export function pathOf(url: string): string {
  const u = new URL(url);
  return u.pathname + u.search;
}

export async function decode(body: Buffer, format: string): Promise<Pcm> {
  return format === 'mp3' ? fromMp3(body) : fromWav(body);
}

/** Root mean square of a stretch of audio (0 = silence; speech at espeak-ng's level is in the thousands). */
export function loudness(pcm: Pcm, fromSeconds = 0, toSeconds = pcm.samples.length / pcm.sampleRate): number {
  const a = Math.floor(fromSeconds * pcm.sampleRate);
  const b = Math.min(pcm.samples.length, Math.floor(toSeconds * pcm.sampleRate));
  let sum = 0;
  for (let i = a; i < b; i++) sum += pcm.samples[i] * pcm.samples[i];
  return b > a ? Math.sqrt(sum / (b - a)) : 0;
}

/** Energy of one frequency in a stretch of audio (Goertzel), relative to the stretch's own energy. */
export function toneShare(pcm: Pcm, hz: number, fromSeconds: number, seconds: number): number {
  const a = Math.floor(fromSeconds * pcm.sampleRate);
  const n = Math.floor(seconds * pcm.sampleRate);
  const k = (2 * Math.PI * hz) / pcm.sampleRate;
  const c = 2 * Math.cos(k);
  let s1 = 0;
  let s2 = 0;
  let energy = 0;
  for (let i = 0; i < n && a + i < pcm.samples.length; i++) {
    const x = pcm.samples[a + i];
    energy += x * x;
    const s = x + c * s1 - s2;
    s2 = s1;
    s1 = s;
  }
  const power = s1 * s1 + s2 * s2 - c * s1 * s2;
  return energy > 0 ? power / (energy * n / 2) : 0;
}
