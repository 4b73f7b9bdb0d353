/**
 * Webhook delivery (001's delivery contract): one durable job per event, up to 3 attempts, success on any
 * 2xx, retry on network errors, timeouts and 5xx after 600 ms then 1200 ms, never on 4xx, 10 s per attempt.
 * Every attempt is a row in `webhook_deliveries` so a client (and the dashboard) can see what happened;
 * a delivery that gives up adds a dead-letter row (dead-letter.ts) from which it can be redelivered.
 */
import http from 'node:http';
import https from 'node:https';
import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { Config } from '../../config/index.js';
import type { Logger } from '../../lib/logger.js';
import { enqueueJob, GiveUpJob, RetryJob, type JobHandler } from '../../jobs/runner.js';
import type { Database, JobRow } from '../../store/schema.js';
import { SIGNATURE_HEADER, signWebhook } from './sign.js';
import { checkWebhookUrl, guardedLookup, type Resolver } from './target.js';

/** The job kind `webhookDeliveryHandler` handles; register the two together on the `JobRunner`. */
export const WEBHOOK_DELIVER_JOB = 'webhook.deliver';
/** Alias of `WEBHOOK_DELIVER_JOB`. */
export const WEBHOOK_JOB = WEBHOOK_DELIVER_JOB;
export const WEBHOOK_MAX_ATTEMPTS = 3;
/** Wait before the 2nd and the 3rd attempt. */
export const WEBHOOK_BACKOFF_MS: readonly number[] = [600, 1200];
export const WEBHOOK_TIMEOUT_MS = 10_000;
export const WEBHOOK_USER_AGENT = 'Switchboard-Webhooks/1';

type DbOrTrx = Kysely<Database> | Transaction<Database>;

/** What a delivery job stores. The body is kept serialised so every retry sends the very same bytes. */
export interface WebhookJobPayload {
  webhookId: string;
  orgId: string;
  callId: string | null;
  event: string;
  url: string;
  rawBody: string;
}

export interface EnqueueWebhookInput {
  orgId: string;
  /** The call's id (`calls.id`, a uuid); null for events not tied to a stored call. */
  callId: string | null;
  event: string;
  url: string;
  /** The complete JSON payload, already shaped by the face's mapping. */
  body: unknown;
}

/**
 * Queues one delivery in the caller's transaction (so it exists iff the state change committed) and returns
 * its `webhookId`, sent as `Webhook-Id` on every attempt so receivers can drop duplicates.
 */
export async function enqueueWebhook(trx: DbOrTrx, input: EnqueueWebhookInput): Promise<string> {
  const webhookId = `wh_${randomUUID()}`;
  // Serialised here, not re-serialised per attempt: jsonb would reorder keys, changing the signed bytes.
  const payload: WebhookJobPayload = {
    webhookId,
    orgId: input.orgId,
    callId: input.callId,
    event: input.event,
    url: input.url,
    rawBody: JSON.stringify(input.body),
  };
  await enqueueDelivery(trx, payload);
  return webhookId;
}

/** Queues a delivery job; a job already queued for the same `webhookId` is kept instead (the job key). */
export async function enqueueDelivery(db: DbOrTrx, payload: WebhookJobPayload): Promise<void> {
  await enqueueJob(db, { kind: WEBHOOK_DELIVER_JOB, payload, key: payload.webhookId, maxAttempts: WEBHOOK_MAX_ATTEMPTS });
}

export interface WebhookSenderOptions {
  db: Kysely<Database>;
  config: Pick<Config, 'nodeEnv' | 'webhookSigningSecret'>;
  log?: Logger;
  /** Per attempt; 10 s unless a test shortens it. */
  timeoutMs?: number;
  /** DNS for the delivery socket (tests inject one). */
  resolve?: Resolver;
  /** Waits before the 2nd, 3rd… attempt; 600 ms then 1200 ms unless a test shortens them. */
  backoffMs?: readonly number[];
}

/** The outcome of one attempt, as recorded in `webhook_deliveries`. */
export interface WebhookAttemptResult {
  status_code: number | null;
  duration_ms: number;
  error: string | null;
  /** Whether another attempt may succeed (network error, timeout, 5xx). */
  retryable: boolean;
}

export interface WebhookAttempt extends WebhookJobPayload {
  /** Signing secret; unsigned when null. */
  secret: string | null;
  /** 1 for the first attempt. */
  attempt: number;
}

interface PostResult {
  status_code: number | null;
  error: string | null;
  /** Refused by the address guard: not a transient failure. */
  refused: boolean;
}

class AttemptTimeoutError extends Error {
  readonly code = 'ETIMEDOUT';
}

/** Short, URL-free description of a network error (no query string, no personal data). */
function describeError(err: NodeJS.ErrnoException): PostResult {
  if (err.code === 'SB_WEBHOOK_TARGET_REFUSED') return { status_code: null, error: err.message, refused: true };
  if (err instanceof AttemptTimeoutError) return { status_code: null, error: 'timeout', refused: false };
  return { status_code: null, error: err.code ?? 'network error', refused: false };
}

/**
 * One POST with node's http(s) rather than fetch: the `lookup` guard then checks the address of the socket
 * actually used. Redirects are never followed (a 3xx is the answer). `agent: false` gives each attempt its own
 * connection, so a pooled socket never skips the guard and no socket outlives the attempt.
 */
function post(url: URL, rawBody: string, headers: Record<string, string>, opts: { production: boolean; timeoutMs: number; resolve?: Resolver }): Promise<PostResult> {
  const mod = url.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    let done = false;
    const finish = (r: PostResult) => {
      if (!done) (done = true), resolve(r);
    };
    const req = mod.request(url, {
      method: 'POST',
      headers: { ...headers, 'Content-Length': String(Buffer.byteLength(rawBody)) },
      lookup: guardedLookup({ production: opts.production, resolve: opts.resolve }),
      agent: false,
    });
    // One deadline for the whole attempt (connect, send, headers), not just socket idleness.
    const timer = setTimeout(() => req.destroy(new AttemptTimeoutError('timeout')), opts.timeoutMs);
    req.on('response', (res) => {
      finish({ status_code: res.statusCode ?? null, error: null, refused: false });
      res.on('close', () => clearTimeout(timer));
      res.on('error', () => {}); // a body cut short after the status arrived changes nothing
      res.resume(); // the body is not read: only the status matters
    });
    req.on('error', (err) => {
      clearTimeout(timer);
      finish(describeError(err));
    });
    req.end(rawBody);
  });
}

function headersFor(a: WebhookAttempt): Record<string, string> {
  const h: Record<string, string> = {
    'Content-Type': 'application/json',
    'User-Agent': WEBHOOK_USER_AGENT,
    'Webhook-Id': a.webhookId,
  };
  if (a.secret) h[SIGNATURE_HEADER] = signWebhook(a.secret, a.rawBody, Math.floor(Date.now() / 1000));
  return h;
}

function classify(r: PostResult): { error: string | null; retryable: boolean } {
  if (r.status_code === null) return { error: r.error, retryable: !r.refused };
  if (r.status_code >= 200 && r.status_code < 300) return { error: null, retryable: false };
  if (r.status_code >= 500) return { error: `HTTP ${r.status_code}`, retryable: true };
  // 4xx says the receiver rejected this delivery; 3xx is a redirect we won't follow. Neither improves on retry.
  return { error: r.status_code >= 400 ? `HTTP ${r.status_code}` : 'redirect not followed', retryable: false };
}

/** Runs one attempt (target check, POST) and records it. Shared by the job and the test send. */
export async function attemptWebhook(opts: WebhookSenderOptions, a: WebhookAttempt): Promise<WebhookAttemptResult> {
  const production = opts.config.nodeEnv === 'production';
  const started = performance.now();
  // Re-checked per attempt: the rules (or NODE_ENV) may have changed since the URL was accepted.
  const refusal = checkWebhookUrl(a.url, { production });
  const r: PostResult = refusal
    ? { status_code: null, error: refusal, refused: true }
    : await post(new URL(a.url), a.rawBody, headersFor(a), { production, timeoutMs: opts.timeoutMs ?? WEBHOOK_TIMEOUT_MS, resolve: opts.resolve });
  const result: WebhookAttemptResult = { status_code: r.status_code, duration_ms: Math.round(performance.now() - started), ...classify(r) };
  await record(opts.db, a, result);
  opts.log?.info(
    { webhookId: a.webhookId, event: a.event, host: hostOf(a.url), status: result.status_code, attempt: a.attempt, error: result.error },
    'webhook attempt',
  );
  return result;
}

/** Host and port only: the path and query may carry the client's identifiers or personal data. */
export function hostOf(url: string): string | undefined {
  try {
    return new URL(url).host;
  } catch {
    return undefined;
  }
}

async function record(db: Kysely<Database>, a: WebhookAttempt, r: WebhookAttemptResult): Promise<void> {
  await db
    .insertInto('webhook_deliveries')
    .values({
      org_id: a.orgId,
      call_id: a.callId,
      webhook_id: a.webhookId,
      event: a.event,
      url: a.url,
      attempt: a.attempt,
      status_code: r.status_code,
      error: r.error,
      duration_ms: r.duration_ms,
    })
    .execute();
}

/** The org's own secret, else the deployment's, else null (unsigned); undefined when the org is gone. */
async function secretFor(opts: WebhookSenderOptions, orgId: string): Promise<string | null | undefined> {
  const org = await opts.db.selectFrom('orgs').select('webhook_secret').where('id', '=', orgId).executeTakeFirst();
  if (!org) return undefined;
  return org.webhook_secret ?? opts.config.webhookSigningSecret ?? null;
}

/**
 * The `webhook.deliver` job handler: one attempt per run; throws `RetryJob` with the contract's backoff
 * after a failure another attempt may cure (the runner gives up after the last one), `GiveUpJob` after one
 * it cannot (4xx, a refused target). The secret is read per attempt so a rotated secret applies to retries.
 * Registered with its dead letter by `registerWebhookDelivery`.
 */
export function webhookDeliveryHandler(opts: WebhookSenderOptions): JobHandler {
  const backoff = opts.backoffMs ?? WEBHOOK_BACKOFF_MS;
  return async (payload: WebhookJobPayload, job: JobRow) => {
    const secret = await secretFor(opts, payload.orgId);
    if (secret === undefined) return; // organisation deleted: nobody to deliver for
    const r = await attemptWebhook(opts, { ...payload, secret, attempt: job.attempts });
    if (r.error === null) return;
    if (!r.retryable) throw new GiveUpJob(r.error);
    throw new RetryJob(backoff[Math.min(job.attempts, backoff.length) - 1] ?? 0, r.error);
  };
}
