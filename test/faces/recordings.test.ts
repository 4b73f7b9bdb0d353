import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { SimCarrier } from '../../src/carriers/sim/index.js';
import { BACKENDS } from '../helpers/backends.js';
import { startSwitchboard, until, type TestSwitchboard } from '../helpers/switchboard.js';
import { CLINIC, authOf, decode, loudness, pathOf, recordedCall, recordingOf, toneShare } from './recordings.helpers.js';

for (const backend of BACKENDS) {
  describe(`recordings of simulated calls, on every face [${backend.name}]`, () => {
    let t: TestSwitchboard;
    let dir: string;
    let call: any;
    beforeAll(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-rec-'));
      t = await startSwitchboard(backend, { SHUTDOWN_GRACE_SECONDS: '1', RECORDINGS_DIR: dir, RECORDING_RETENTION_DAYS: '30' });
      call = await recordedCall(t, { phone_number: CLINIC, task: 'Book an appointment with a doctor for next week', language: 'en', persona: { name: 'Alex Smith' }, record: true });
    }, 120_000);
    afterAll(async () => {
      await t?.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('GET /v1/calls/:sid/recording gives a signed MP3 URL that plays for as long as the call lasted, voices and keypad tones in it', async () => {
      expect(call.status).toBe('completed');
      expect(call.duration).toBeGreaterThan(5);
      const rec = await recordingOf(t, call.sid, 'mp3');
      expect(rec.recording_url).toMatch(/^http:\/\/localhost:\d+\/v1\/recordings\/RE[0-9a-f]{32}\.mp3\?token=/);
      expect(rec.url).toBe(rec.recording_url);
      expect(rec.mime).toBe('audio/mpeg');
      expect(new Date(rec.expires_at).getTime()).toBeGreaterThan(Date.now());
      // The signed URL needs no key.
      const media = await t.sb.app.inject({ method: 'GET', url: pathOf(rec.recording_url) });
      expect(media.statusCode).toBe(200);
      expect(media.headers['content-type']).toBe('audio/mpeg');
      const pcm = await decode(media.rawPayload, 'mp3');
      const seconds = pcm.samples.length / pcm.sampleRate;
      // MP3 frames pad the end a little; the call's duration is whole seconds.
      expect(Math.abs(seconds - call.duration)).toBeLessThan(1.5);
      expect(loudness(pcm)).toBeGreaterThan(300);

      // The WAV is the same conversation, sample for sample as long as the line was open.
      const wavRec = await recordingOf(t, call.sid, 'wav');
      const wav = await t.sb.app.inject({ method: 'GET', url: pathOf(wavRec.recording_url) });
      expect(wav.statusCode).toBe(200);
      expect(wav.headers['content-type']).toBe('audio/wav');
      const audio = await decode(wav.rawPayload, 'wav');
      expect(audio.sampleRate).toBe(8000);
      expect(Math.abs(audio.samples.length / 8000 - call.duration)).toBeLessThan(1);

      // The agent pressed keys on the menu: their tones are in the recording, where the line heard them.
      const sounds = (t.sb.carrier as SimCarrier).lineSounds(call.id) ?? [];
      const keys = sounds.filter((s) => s.kind === 'key');
      expect(keys.length).toBeGreaterThan(0);
      const first = keys[0];
      // Key 1 is 697 Hz + 1209 Hz; key 2 is 697 Hz + 1336 Hz.
      expect(toneShare(audio, 697, first.at / 1000, 0.09)).toBeGreaterThan(0.2);
      // And people speak in it: the first words (the menu's welcome) are loud.
      const speech = sounds.find((s) => s.kind === 'speech')!;
      expect(loudness(audio, speech.at / 1000, speech.at / 1000 + 1)).toBeGreaterThan(300);
    }, 120_000);

    it('the same recording through 002 (URL and stream with Range requests) and Truedy (recording_url)', async () => {
      await recordingOf(t, call.sid);
      const auth = authOf(t);
      const a = await t.sb.app.inject({ method: 'GET', url: `/api/v1/calls/${call.id}/recording`, headers: auth });
      expect(a.statusCode, a.body).toBe(200);
      expect(a.json().success).toBe(true);
      expect(a.json().data.recording_url).toMatch(/\/v1\/recordings\/RE[0-9a-f]{32}\.mp3\?token=/);
      const viaProxy = await t.sb.app.inject({ method: 'GET', url: pathOf(a.json().data.recording_url) });
      expect(viaProxy.statusCode).toBe(200);
      const whole = viaProxy.rawPayload;

      const stream = await t.sb.app.inject({ method: 'GET', url: `/api/v1/calls/${call.id}/recording/stream`, headers: auth });
      expect(stream.statusCode).toBe(200);
      expect(stream.headers['accept-ranges']).toBe('bytes');
      expect(stream.rawPayload.equals(whole)).toBe(true);
      // A player seeking: a byte range answers 206 with exactly those bytes.
      const part = await t.sb.app.inject({ method: 'GET', url: `/api/v1/calls/${call.id}/recording/stream`, headers: { ...auth, range: 'bytes=100-1099' } });
      expect(part.statusCode).toBe(206);
      expect(part.headers['content-range']).toBe(`bytes 100-1099/${whole.length}`);
      expect(part.rawPayload.equals(whole.subarray(100, 1100))).toBe(true);
      const tail = await t.sb.app.inject({ method: 'GET', url: `/api/v1/calls/${call.id}/recording/stream?format=wav`, headers: { ...auth, range: 'bytes=-44' } });
      expect(tail.statusCode).toBe(206);
      expect(tail.rawPayload.length).toBe(44);
      const beyond = await t.sb.app.inject({ method: 'GET', url: `/api/v1/calls/${call.id}/recording/stream`, headers: { ...auth, range: `bytes=${whole.length + 10}-` } });
      expect(beyond.statusCode).toBe(416);
      expect(beyond.headers['content-range']).toBe(`bytes */${whole.length}`);
      // The signed URL seeks too.
      const signedPart = await t.sb.app.inject({ method: 'GET', url: pathOf(a.json().data.recording_url), headers: { range: 'bytes=0-9' } });
      expect(signedPart.statusCode).toBe(206);
      expect(signedPart.rawPayload.equals(whole.subarray(0, 10))).toBe(true);

      const tc = await t.sb.app.inject({ method: 'GET', url: `/api/public/v1/calls/${call.id}`, headers: auth });
      expect(tc.json().data.recording_url).toMatch(/\/v1\/recordings\/RE[0-9a-f]{32}\.mp3\?token=/);
      const tr = await t.sb.app.inject({ method: 'GET', url: `/api/public/v1/calls/${call.id}/recording`, headers: auth });
      expect(tr.statusCode).toBe(200);
      const viaTruedy = await t.sb.app.inject({ method: 'GET', url: pathOf(tr.json().data.recording_url) });
      expect(viaTruedy.rawPayload.equals(whole)).toBe(true);
      const list = await t.sb.app.inject({ method: 'GET', url: `/api/public/v1/calls`, headers: auth });
      expect(list.json().data.find((c: any) => c.id === call.id).recording_url).toMatch(/token=/);
      // 000's flat field.
      const flat = await t.sb.app.inject({ method: 'GET', url: `/v1/calls/${call.sid}`, headers: auth });
      expect(flat.json().recordingUrl).toMatch(/\/v1\/recordings\/RE[0-9a-f]{32}\.mp3\?token=/);
    }, 120_000);

    it('a forged, tampered, other-format or expired token is refused; a bad format is a 400 naming it', async () => {
      const rec = await recordingOf(t, call.sid);
      const u = new URL(rec.recording_url);
      const token = u.searchParams.get('token')!;
      const [body, mac] = token.split('.');
      const at = (tok: string, file = u.pathname) => t.sb.app.inject({ method: 'GET', url: `${file}?token=${encodeURIComponent(tok)}` });
      // Another MAC, claims of our own choosing, the token of the MP3 used for the WAV.
      expect((await at(`${body}.${mac.slice(0, -2)}xx`)).statusCode).toBe(403);
      const claims = JSON.parse(Buffer.from(body, 'base64url').toString());
      const longer = Buffer.from(JSON.stringify({ ...claims, exp: claims.exp + 86_400 })).toString('base64url');
      expect((await at(`${longer}.${mac}`)).statusCode).toBe(403);
      const other = await at(token, u.pathname.replace('.mp3', '.wav'));
      expect(other.statusCode).toBe(403);
      expect(other.json()).toEqual({ error: 'Invalid or expired recording token' });
      const noToken = await t.sb.app.inject({ method: 'GET', url: u.pathname });
      expect(noToken.statusCode).toBe(400);
      expect(noToken.json().error).toMatch(/token/);
      const badFile = await t.sb.app.inject({ method: 'GET', url: `/v1/recordings/RE123.ogg?token=${encodeURIComponent(token)}` });
      expect(badFile.statusCode).toBe(400);
      expect(badFile.json().error).toMatch(/file/);
      // A valid token, an hour and more later.
      expect((await at(token)).statusCode).toBe(200);
      vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 3601_000 });
      try {
        expect((await at(token)).statusCode).toBe(403);
      } finally {
        vi.useRealTimers();
      }
      const bad = await t.sb.app.inject({ method: 'GET', url: `/v1/calls/${call.sid}/recording?format=ogg`, headers: authOf(t) });
      expect(bad.statusCode).toBe(400);
      expect(bad.json().error).toMatch(/format/);
    }, 120_000);

    it('a URL handed to an API key stops playing once that key is revoked, on every face; URLs of other keys still play', async () => {
      const other = await t.sb.core.orgs.createKey(t.orgId);
      const otherAuth = { authorization: `Bearer ${other}` };
      const get = async (url: string) => (await t.sb.app.inject({ method: 'GET', url, headers: otherAuth })).json();
      const urls = [
        (await get(`/v1/calls/${call.sid}/recording`)).recording_url,
        (await get(`/v1/calls/${call.sid}`)).recordingUrl,
        (await get(`/api/v1/calls/${call.id}/recording`)).data.recording_url,
        (await get(`/api/public/v1/calls/${call.id}/recording`)).data.recording_url,
        (await get(`/api/public/v1/calls/${call.id}`)).data.recording_url,
        (await get('/api/public/v1/calls')).data.find((c: any) => c.id === call.id).recording_url,
      ];
      const mine = (await recordingOf(t, call.sid)).recording_url;
      const play = async (url: string) => (await t.sb.app.inject({ method: 'GET', url: pathOf(url) })).statusCode;
      for (const url of urls) expect(await play(url), url).toBe(200);

      const id = (await t.sb.core.orgs.listKeys(t.orgId)).find((k) => other.startsWith(k.prefix) && !k.revoked_at)!.id;
      await t.sb.core.orgs.revokeKeyById(t.orgId, id);
      for (const url of urls) {
        const r = await t.sb.app.inject({ method: 'GET', url: pathOf(url) });
        expect(r.statusCode, url).toBe(403);
        expect(r.json().error).toMatch(/revoked/);
      }
      // The key the rest of this file uses was not revoked: its URL plays as before.
      expect(await play(mine)).toBe(200);
    }, 120_000);

    it('a URL shown to a dashboard session dies with the key the session signed in with', async () => {
      await recordingOf(t, call.sid); // ready
      const key = await t.sb.core.orgs.createKey(t.orgId);
      const signIn = await t.sb.app.inject({ method: 'POST', url: '/auth/session', payload: { api_key: key } });
      expect(signIn.statusCode, signIn.body).toBe(200);
      const cookie = `sb_session=${/sb_session=([^;]+)/.exec(String(signIn.headers['set-cookie']))![1]}`;
      const shown = await t.sb.app.inject({ method: 'GET', url: `/v1/calls/${call.sid}/recording`, headers: { cookie } });
      expect(shown.statusCode, shown.body).toBe(200);
      const url = pathOf(shown.json().recording_url);
      expect((await t.sb.app.inject({ method: 'GET', url })).statusCode).toBe(200);

      const id = (await t.sb.core.orgs.listKeys(t.orgId)).find((k) => key.startsWith(k.prefix) && !k.revoked_at)!.id;
      await t.sb.core.orgs.revokeKeyById(t.orgId, id);
      const r = await t.sb.app.inject({ method: 'GET', url });
      expect(r.statusCode).toBe(403);
      expect(r.json().error).toMatch(/revoked/);
    }, 120_000);

    it('a call made without record has no recording (404 on every face)', async () => {
      const c = await recordedCall(t, { phone_number: '+15550104', task: 'Tell Maria that the plumber comes on Friday at 9', language: 'en' });
      const auth = authOf(t);
      const r = await t.sb.app.inject({ method: 'GET', url: `/v1/calls/${c.sid}/recording`, headers: auth });
      expect(r.statusCode).toBe(404);
      expect(r.json()).toEqual({ error: 'Recording not found for this call' });
      expect((await t.sb.app.inject({ method: 'GET', url: `/api/v1/calls/${c.id}/recording/stream`, headers: auth })).statusCode).toBe(404);
      expect((await t.sb.app.inject({ method: 'GET', url: `/api/public/v1/calls/${c.id}/recording`, headers: auth })).statusCode).toBe(404);
      expect((await t.sb.app.inject({ method: 'GET', url: `/api/public/v1/calls/${c.id}`, headers: auth })).json().data.recording_url).toBeNull();
    }, 120_000);

    it('old recordings are deleted by the retention setting; deleting a call deletes its recording and its files', async () => {
      const files = () => fs.readdirSync(dir, { recursive: true }).map(String).filter((f) => /\.(mp3|wav)$/.test(f));
      const rec = await recordingOf(t, call.sid);
      expect(files().length).toBeGreaterThanOrEqual(2);
      // Not old yet: kept.
      expect(await t.sb.core.recordings.deleteExpired()).toBe(0);

      // Another recorded call, deleted through Truedy.
      const other = await recordedCall(t, { phone_number: '+15550104', task: 'Tell Maria that the plumber comes on Friday at 9', language: 'en', record: true });
      const otherRec = await recordingOf(t, other.sid);
      const otherSid = /RE[0-9a-f]{32}/.exec(otherRec.recording_url)![0];
      expect(files().some((f) => f.includes(otherSid))).toBe(true);
      const del = await t.sb.app.inject({ method: 'DELETE', url: `/api/public/v1/calls/${other.id}`, headers: authOf(t) });
      expect(del.statusCode, del.body).toBeLessThan(300);
      expect((await t.sb.app.inject({ method: 'GET', url: pathOf(otherRec.recording_url) })).statusCode).toBe(404);
      await until(async () => !files().some((f) => f.includes(otherSid)), 30_000, 'the deleted call’s files to go');

      // The first one made 31 days ago is past RECORDING_RETENTION_DAYS=30: the periodic check (run at start,
      // then hourly; restarted here so that it runs now) deletes it.
      const sid = /RE[0-9a-f]{32}/.exec(rec.recording_url)![0];
      await t.sb.store.db.updateTable('recordings').set({ created_at: new Date(Date.now() - 31 * 86_400_000) }).where('sid', '=', sid).execute();
      t.sb.core.recordings.stopRetention();
      t.sb.core.recordings.startRetention();
      await until(async () => !(await t.sb.store.db.selectFrom('recordings').select('id').where('sid', '=', sid).executeTakeFirst()), 30_000, 'retention to delete it');
      expect((await t.sb.app.inject({ method: 'GET', url: `/v1/calls/${call.sid}/recording`, headers: authOf(t) })).statusCode).toBe(404);
      await until(async () => !files().some((f) => f.includes(sid)), 30_000, 'the old recording’s files to go');
    }, 180_000);
  });
}
