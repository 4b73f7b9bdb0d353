/**
 * Call recordings: taken by the carrier when a call asks for one (`record: true`, Truedy's
 * `recording_enabled`), fetched once the carrier has it ready (a durable job: the simulated network renders
 * its audio, Twilio's media is downloaded), kept as WAV and MP3 in the recording storage, and handed out
 * through signed, expiring URLs (`/v1/recordings/<sid>.<ext>?token=`); a URL handed to an API key stops
 * working when that key is revoked. Deleting a call deletes its recording; RECORDING_RETENTION_DAYS deletes old ones.
 */
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Config } from '../../config/index.js';
import type { Logger } from '../../lib/logger.js';
import { newId } from '../../lib/ids.js';
import { background } from '../../lib/background.js';
import { enqueueJob, GiveUpJob, RetryJob, type JobRunner } from '../../jobs/runner.js';
import type { Database, Db, JobRow, RecordingFormats, RecordingRow } from '../../store/index.js';
import type { Transaction } from 'kysely';
import { fromWav, toMp3, toWav, type Pcm } from '../../speech/audio.js';
import { runTool } from '../../speech/run.js';
import { SwitchboardError, notFound } from '../errors.js';
import type { Secrets } from '../secrets.js';
import { StoredObjectMissing, type ByteRange, type RecordingStorage } from './storage/index.js';

export const RECORDING_FETCH_JOB = 'recording.fetch';
export const RECORDING_PURGE_JOB = 'recording.purge';
/** Every job kind of recordings (they run in a runner of their own: see app.ts). */
export const RECORDING_JOBS = [RECORDING_FETCH_JOB, RECORDING_PURGE_JOB];

export const RECORDING_FORMATS = ['mp3', 'wav'] as const;
export type RecordingFormat = (typeof RECORDING_FORMATS)[number];
export const CONTENT_TYPES: Record<RecordingFormat, string> = { mp3: 'audio/mpeg', wav: 'audio/wav' };

/** A carrier's word that a call's recording can be fetched: `ref` is the carrier's own (JSON) handle on it. */
export interface CarrierRecording {
  callId: string;
  ref: unknown;
}

/** The carrier's download of a recording it announced: a WAV file. Rejects while it is not ready yet. */
export type FetchRecording = (ref: unknown) => Promise<Buffer>;

interface FetchJob {
  recordingId: string;
  ref: unknown;
}

interface PurgeJob {
  keys: string[];
}

/** Bytes of one stored recording file, for a face to send (whole or a range). */
export interface RecordingMedia {
  sid: string;
  format: RecordingFormat;
  contentType: string;
  size: number;
  read(range?: ByteRange): Promise<Readable>;
}

export interface RecordingsOptions {
  db: Db;
  log: Logger;
  config: Pick<Config, 'publicUrl' | 'recordings'>;
  secrets: Secrets;
  storage: RecordingStorage;
  /** The carrier's download; absent on a carrier that cannot record. */
  fetch?: FetchRecording;
  carrierName: string;
  wakeJobs?: () => void;
  /** Whether an org's API key is still live (`Orgs.keyLive`): a URL issued under a revoked key is refused. */
  keyLive?: (orgId: string, keyId: string) => Promise<boolean>;
}

/** Attempts of a fetch job: Twilio may need a while after the call before the media is there. */
const FETCH_ATTEMPTS = 8;
const RETENTION_EVERY_MS = 60 * 60 * 1000;

export class Recordings {
  private retention: NodeJS.Timeout | undefined;

  constructor(private readonly o: RecordingsOptions) {}

  get storageKind(): string {
    return this.o.storage.kind;
  }

  // ---- taking recordings -------------------------------------------------------------------------

  /**
   * The carrier has a call's recording: it is stored as `processing` with the job that fetches it, in one
   * transaction. A call that did not ask to be recorded, or is gone, is left alone; a second word about
   * the same call changes nothing.
   */
  async carrierReady(r: CarrierRecording): Promise<void> {
    const call = await this.o.db.selectFrom('calls').select(['id', 'org_id', 'request']).where('id', '=', r.callId).executeTakeFirst();
    if (!call || !call.request.record) return;
    const sid = newRecordingSid();
    const queued = await this.o.db.transaction().execute(async (trx) => {
      const row = await trx
        .insertInto('recordings')
        .values({ id: newId(), sid, call_id: call.id, org_id: call.org_id, source: this.o.carrierName, status: 'processing', storage_key: `${call.org_id}/${sid}`, formats: '{}' })
        .onConflict((oc) => oc.column('call_id').doNothing())
        .returning('id')
        .executeTakeFirst();
      if (!row) return false;
      await enqueueJob(trx, { kind: RECORDING_FETCH_JOB, key: `recording:${call.id}`, payload: { recordingId: row.id, ref: r.ref } satisfies FetchJob, maxAttempts: FETCH_ATTEMPTS });
      return true;
    });
    if (queued) this.o.wakeJobs?.();
  }

  /** Registers the fetch and purge jobs on `runner`. */
  registerJobs(runner: JobRunner): void {
    runner.register(RECORDING_FETCH_JOB, (p: FetchJob, job) => this.fetchJob(p, job), { onGiveUp: (job, err) => this.fetchFailed(job, err) });
    runner.register(RECORDING_PURGE_JOB, (p: PurgeJob) => this.purgeJob(p));
  }

  private async fetchJob(p: FetchJob, job: JobRow): Promise<void> {
    const rec = await this.o.db.selectFrom('recordings').selectAll().where('id', '=', p.recordingId).executeTakeFirst();
    if (!rec || rec.status === 'ready') return; // the call was deleted meanwhile, or a retry after success
    if (!this.o.fetch) throw new GiveUpJob('this carrier cannot fetch recordings');
    let wav: Buffer;
    try {
      wav = await this.o.fetch(p.ref);
    } catch (err) {
      // Not there yet (or the carrier is away): try again later, a little later each time.
      this.o.log.warn({ err, recordingId: rec.id, attempt: job.attempts }, 'recording fetch failed');
      throw new RetryJob(Math.min(60_000, 2000 * 2 ** job.attempts), 'recording not fetched yet');
    }
    const pcm = await decodeWav(wav);
    const formats: RecordingFormats = {};
    const files: Array<[RecordingFormat, Buffer]> = [
      ['wav', toWav(pcm)],
      ['mp3', await toMp3(pcm)],
    ];
    for (const [format, body] of files) {
      await this.o.storage.put(`${rec.storage_key}.${format}`, body, CONTENT_TYPES[format]);
      formats[format] = body.length;
    }
    const done = await this.o.db
      .updateTable('recordings')
      .set({ status: 'ready', formats: JSON.stringify(formats), duration_seconds: pcm.samples.length / pcm.sampleRate, ready_at: new Date(), error: null })
      .where('id', '=', rec.id)
      .executeTakeFirst();
    // Deleted while it was being stored: its files go too.
    if (Number(done.numUpdatedRows) === 0) await this.purgeJob({ keys: files.map(([f]) => `${rec.storage_key}.${f}`) });
    this.o.log.info({ recordingId: rec.id, callId: rec.call_id, seconds: Math.round(pcm.samples.length / pcm.sampleRate) }, 'recording stored');
  }

  private async fetchFailed(job: JobRow, err: unknown): Promise<void> {
    const p = job.payload as FetchJob;
    this.o.log.error({ err, recordingId: p.recordingId }, 'recording given up');
    await this.o.db.updateTable('recordings').set({ status: 'failed', error: 'fetch_failed' }).where('id', '=', p.recordingId).where('status', '=', 'processing').execute();
  }

  private async purgeJob(p: PurgeJob): Promise<void> {
    for (const key of p.keys) await this.o.storage.delete(key);
  }

  // ---- reading ---------------------------------------------------------------------------------------

  /** The ready recording of a call of this organisation; 404 "Recording not found for this call" otherwise. */
  async forCall(orgId: string, callId: string): Promise<RecordingRow> {
    const rec = await this.o.db.selectFrom('recordings').selectAll().where('call_id', '=', callId).where('org_id', '=', orgId).executeTakeFirst();
    if (!rec || rec.status !== 'ready') throw recordingNotFound();
    return rec;
  }

  /** Signed URLs (MP3) of the ready recordings among `callIds`, by call id (call listings); `keyId` as `signedUrl`. */
  async urlsFor(callIds: string[], keyId?: string): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    if (callIds.length === 0) return out;
    const rows = await this.o.db.selectFrom('recordings').selectAll().where('call_id', 'in', callIds).where('status', '=', 'ready').execute();
    for (const r of rows) out.set(r.call_id, this.signedUrl(r, 'mp3', keyId).url);
    return out;
  }

  /**
   * The signed URL of a recording file: `/v1/recordings/<sid>.<ext>?token=`, good for RECORDING_URL_TTL_SECONDS.
   * The token names the recording and the format: it opens nothing else. `keyId`, the API key the URL is handed
   * to: revoking the key revokes the URL, as it does the key's other tokens (a leaked key's URLs die with it).
   */
  signedUrl(rec: Pick<RecordingRow, 'sid'>, format: RecordingFormat, keyId?: string): { url: string; expiresAt: Date } {
    const ttl = this.o.config.recordings.urlTtlSeconds;
    const token = this.o.secrets.signToken({ use: 'recording', rec: rec.sid, fmt: format, ...(keyId ? { k: keyId } : {}) }, ttl);
    const expiresAt = new Date((Math.floor(Date.now() / 1000) + ttl) * 1000);
    return { url: `${this.o.config.publicUrl}/v1/recordings/${rec.sid}.${format}?token=${encodeURIComponent(token)}`, expiresAt };
  }

  /** The file a signed URL names, if `token` is valid for it: 403 for a forged, expired or other file's token. */
  async mediaByToken(sid: string, format: RecordingFormat, token: string): Promise<RecordingMedia> {
    const claims = this.o.secrets.verifyToken(token);
    if (!claims || claims.use !== 'recording' || claims.rec !== sid || claims.fmt !== format) {
      throw new SwitchboardError('SB_ERR_FORBIDDEN', 'Invalid or expired recording token');
    }
    const rec = await this.o.db.selectFrom('recordings').selectAll().where('sid', '=', sid).executeTakeFirst();
    if (!rec || rec.status !== 'ready') throw recordingNotFound();
    if (claims.k !== undefined && !(await this.issuingKeyLive(rec.org_id, claims.k))) {
      throw new SwitchboardError('SB_ERR_FORBIDDEN', 'The API key this recording URL was issued to has been revoked');
    }
    return this.media(rec, format);
  }

  private async issuingKeyLive(orgId: string, keyId: unknown): Promise<boolean> {
    if (typeof keyId !== 'string') return false;
    return this.o.keyLive ? this.o.keyLive(orgId, keyId) : true;
  }

  /** A call's recording file, for routes authenticated by key (002's `/recording/stream`). */
  async mediaForCall(orgId: string, callId: string, format: RecordingFormat): Promise<RecordingMedia> {
    return this.media(await this.forCall(orgId, callId), format);
  }

  private media(rec: RecordingRow, format: RecordingFormat): RecordingMedia {
    const size = rec.formats[format];
    if (size === undefined) throw recordingNotFound();
    const key = `${rec.storage_key}.${format}`;
    return {
      sid: rec.sid,
      format,
      contentType: CONTENT_TYPES[format],
      size,
      read: async (range) => {
        try {
          return await this.o.storage.read(key, range);
        } catch (err) {
          if (err instanceof StoredObjectMissing) {
            this.o.log.error({ recordingId: rec.id }, 'recording file missing from storage');
            throw recordingNotFound();
          }
          throw err;
        }
      },
    };
  }

  // ---- deleting ------------------------------------------------------------------------------------

  /**
   * Inside the transaction that deletes calls: the files of their recordings are deleted by a purge job
   * that commits with the deletion (the rows go with the calls, by cascade). True when a job was queued:
   * the caller wakes the runner once the transaction committed.
   */
  static async purgeWithCalls(trx: Transaction<Database>, callIds: string[]): Promise<boolean> {
    if (callIds.length === 0) return false;
    const rows = await trx.selectFrom('recordings').select(['storage_key', 'formats']).where('call_id', 'in', callIds).execute();
    const keys = rows.flatMap(fileKeys);
    if (keys.length) await enqueueJob(trx, { kind: RECORDING_PURGE_JOB, payload: { keys } satisfies PurgeJob, maxAttempts: 5 });
    return keys.length > 0;
  }

  /** Deletes recordings older than RECORDING_RETENTION_DAYS (rows now, files by a purge job). Returns how many. */
  async deleteExpired(now = new Date()): Promise<number> {
    const days = this.o.config.recordings.retentionDays;
    if (days <= 0) return 0;
    const before = new Date(now.getTime() - days * 86_400_000);
    const n = await this.o.db.transaction().execute(async (trx) => {
      const gone = await trx.deleteFrom('recordings').where('created_at', '<', before).returning(['storage_key', 'formats']).execute();
      const keys = gone.flatMap(fileKeys);
      if (keys.length) await enqueueJob(trx, { kind: RECORDING_PURGE_JOB, payload: { keys } satisfies PurgeJob, maxAttempts: 5 });
      return gone.length;
    });
    if (n > 0) {
      this.o.log.info({ deleted: n, retentionDays: days }, 'old recordings deleted');
      this.o.wakeJobs?.();
    }
    return n;
  }

  /**
   * Runs `deleteExpired` now and every hour on this node (every node may: each old row is deleted once,
   * by whichever node gets it first). Nothing runs when retention is off.
   */
  startRetention(): void {
    if (this.o.config.recordings.retentionDays <= 0 || this.retention) return;
    const run = () => background(this.o.log, 'recording retention failed', () => this.deleteExpired());
    run();
    this.retention = setInterval(run, RETENTION_EVERY_MS);
    this.retention.unref();
  }

  stopRetention(): void {
    clearInterval(this.retention);
    this.retention = undefined;
  }
}

function fileKeys(r: Pick<RecordingRow, 'storage_key' | 'formats'>): string[] {
  return RECORDING_FORMATS.map((f) => `${r.storage_key}.${f}`);
}

/** `RE` + 32 hex, like a carrier's recording sid. */
export function newRecordingSid(): string {
  return 'RE' + randomBytes(16).toString('hex');
}

export function recordingNotFound(): SwitchboardError {
  return new SwitchboardError('SB_ERR_NOT_FOUND', 'Recording not found for this call', { resource: 'Recording' });
}

/** A 16-bit PCM WAV as is; any other WAV (a carrier's μ-law, stereo) converted to 16-bit mono by sox. */
async function decodeWav(wav: Buffer): Promise<Pcm> {
  try {
    return fromWav(wav);
  } catch {
    return fromWav(await runTool('sox', ['-q', '-t', 'wav', '-', '-t', 'wav', '-b', '16', '-e', 'signed-integer', '-c', '1', '-'], wav));
  }
}
