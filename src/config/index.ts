/**
 * The one place where Switchboard reads its environment. Every other module receives a typed `Config`.
 * An invalid value stops start-up with a `ConfigError` naming the variable (see `loadConfig`).
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { RatesFileError, readRatesFile, DEFAULT_RATES, type BillingConfig } from './billing.js';
import { REALTIME_MODELS, type RealtimeModel } from '../ai/realtime/protocol.js';
import type { RecognizerTuning } from '../speech/recognizer.js';

export { DEFAULT_RATES, type BillingConfig, type RateTable } from './billing.js';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface Config {
  nodeEnv: 'development' | 'production' | 'test';
  port: number;
  host: string;
  /** Folder of the embedded PGlite store (used when `databaseUrl` is unset). */
  dataDir: string;
  databaseUrl?: string;
  /** Redis for the cluster bus and shared rate limits; in-process when unset. */
  redisUrl?: string;
  /** Public base URL of this deployment (callback URLs, WebSocket URLs, recording links). */
  publicUrl: string;
  /** Fallback secret for webhook signatures when an organisation has none of its own. */
  webhookSigningSecret?: string;
  logLevel: LogLevel;
  /** Speed of the simulated phone network's clock: 1 = real time, 20 = twenty times faster. */
  simTimeScale: number;
  scenariosDir: string;
  /** Requests per minute per API key on every face. */
  rateLimitPerMinute: number;
  /** Calls that may be live at once on this node; further calls wait as `queued`. */
  maxConcurrentCalls: number;
  /** Seconds SIGTERM waits for live calls to finish before ending them. */
  shutdownGraceSeconds: number;
  /** Smallest credit balance that may start a call (402 below it; only with billing on). */
  minCallCredits: number;
  /** Billing on or off, and the rate table that prices calls (docs/billing.md). */
  billing: BillingConfig;
  /** Credits given to the development organisation created on first start. */
  devOrgCredits: number;
  /** Largest accepted request body, in bytes. */
  bodyLimit: number;
  /** PostgreSQL schema holding Switchboard's tables (default: the server's search path, usually `public`). */
  databaseSchema?: string;
  /** This node's name in a cluster (owner of the sessions it runs). */
  nodeId: string;
  /** Key prefix for everything this deployment writes to Redis. */
  redisPrefix: string;
  /** How long an agent waits for the operator's answer to its question before carrying on without it. */
  operatorAnswerTimeoutSeconds: number;
  /** What the agent does when an answering machine picks up: leave a message made from the task, or hang up. */
  voicemailAction: 'leave_message' | 'hang_up';
  /**
   * 32-byte key (base64 or hex in CREDENTIALS_KEY) that seals phone-number credentials (AES-256-GCM) and
   * signs live-transcript session tokens. Unset: a key file made once in DATA_DIR (an in-memory key in tests).
   */
  credentialsKey?: Buffer;
  /** Tasks that may be in progress (their calls live) at once across the cluster. */
  taskConcurrency: number;
  /**
   * The embedded store's job runners, once nothing is due, sleep until the next job's time, at most this
   * long (IDLE_JOB_POLL_MS); enqueuing wakes them at once. PostgreSQL keeps polling (other nodes enqueue).
   */
  idleJobPollMs: number;
  /** The Phony face (004): its keyless mode, suggested rate limits and `/events/ws` heartbeat. */
  phony: PhonyConfig;
  /** Hours a dashboard sign-in lasts (SESSION_TTL_HOURS); the session also ends when its key is revoked. */
  sessionTtlHours: number;
  /** Hours an invitation to an organisation can be accepted (INVITATION_TTL_HOURS). */
  invitationTtlHours: number;
  /**
   * Node leases (docs/operations.md, "Crashes"): each node renews its lease every `heartbeatMs`; a lease not
   * renewed for `leaseMs` has run out, and every live node looks for such nodes every `reaperMs` and closes
   * their calls (`failed`, reason `node_lost`). So a dead node's calls end within leaseMs + reaperMs.
   */
  nodeLease: { heartbeatMs: number; leaseMs: number; reaperMs: number };
  /** The phone network: the simulated one (default) or Twilio (needs `twilio`). */
  carrier: 'sim' | 'twilio';
  /** Twilio account (CARRIER=twilio). */
  twilio?: {
    accountSid: string;
    /** Verifies Twilio's callbacks; authenticates REST requests unless an API key is given. */
    authToken: string;
    /** An API key (SK…) for REST requests instead of the auth token. */
    apiKey?: { sid: string; secret: string };
    /** Caller ID for calls that name none. */
    fromNumber?: string;
    /** One of the account's numbers whose Voice URL is `/receive_call`: the agent's way into a three-way room. */
    agentNumber?: string;
    /** Replaces https://api.twilio.com (tests only). */
    apiBaseUrl?: string;
  };
  /** Call recordings (docs/recordings.md). */
  recordings: {
    /** Folder of the recording files (default DATA_DIR/recordings), when no S3 bucket is set. */
    dir: string;
    /** S3-compatible object storage, used instead of the folder when RECORDINGS_S3_BUCKET is set. */
    s3?: {
      bucket: string;
      region: string;
      endpoint?: string;
      credentials?: { accessKeyId: string; secretAccessKey: string };
      forcePathStyle: boolean;
      prefix: string;
    };
    /** Recordings older than this many days are deleted (0: kept until their call is deleted). */
    retentionDays: number;
    /** How long a signed recording URL works. */
    urlTtlSeconds: number;
  };
  /** The language model; absent = the offline rules brain. */
  llm?: {
    provider: 'openai' | 'anthropic';
    baseUrl?: string;
    apiKey: string;
    model: string;
    /** `tools`: function calls; `inline`: 004's `[[press:1]]` commands in the text (models without tools). */
    mode: 'tools' | 'inline';
    timeoutMs: number;
  };
  /**
   * Google Calendar (docs/calendar.md): the OAuth client that lets each API key connect a calendar the agent
   * books in. Absent: the calendar routes answer 503 and calls get no calendar tools.
   */
  google?: {
    clientId: string;
    clientSecret: string;
    /** Where Google sends the browser back: PUBLIC_URL/auth/google/callback unless set. */
    redirectUri: string;
    /** The consent page's host (https://accounts.google.com; a fake in tests). */
    oauthBaseUrl: string;
    /** Token and revoke endpoints' host (https://oauth2.googleapis.com). */
    tokenBaseUrl: string;
    /** Calendar API v3 (https://www.googleapis.com/calendar/v3). */
    calendarBaseUrl: string;
  };
  /** The time zone of calendar bookings when a call names none and its number's country has no single zone. */
  calendarTimeZone: string;
  /** Speech providers for calls in audio mode (docs/voice.md). */
  speech: SpeechConfig;
}

/** A hosted speech provider's key and base URL (the base URL is replaced by a local fake in tests). */
export interface ProviderAccount {
  apiKey: string;
  baseUrl: string;
}

/**
 * Speech for calls in audio mode: which providers are configured, which speech-to-text is used, and how
 * audio calls are carried (a cascaded STT → model → TTS pipeline, or a speech-to-speech model).
 */
export interface SpeechConfig {
  /** OPENAI_API_KEY / OPENAI_BASE_URL: OpenAI speech, transcription and Realtime. */
  openai?: ProviderAccount;
  /** DEEPGRAM_API_KEY / DEEPGRAM_BASE_URL: Deepgram live speech-to-text. */
  deepgram?: ProviderAccount;
  /** ELEVENLABS_API_KEY / ELEVENLABS_BASE_URL: ElevenLabs text-to-speech and voice cloning. */
  elevenlabs?: ProviderAccount;
  /** AZURE_SPEECH_KEY / AZURE_SPEECH_REGION (AZURE_SPEECH_BASE_URL replaces the region's host). */
  azure?: { apiKey: string; region: string; baseUrl: string };
  /** STT_PROVIDER: `auto` = Deepgram if configured, else OpenAI if configured, else the offline recogniser. */
  stt: 'auto' | 'deepgram' | 'openai' | 'offline';
  /** STT_CHUNK_MS: audio per message to a WebSocket speech-to-text (Deepgram, OpenAI); default 100. Optional for hand-built configs. */
  sttChunkMs?: number;
  /**
   * STT_SILENCE_MS: silence after the callee's speech still streamed to a WebSocket speech-to-text before
   * audio stops until the callee speaks again (default 1500; `all`: every frame is sent, no gate). Optional
   * for hand-built configs.
   */
  sttSilenceMs?: number | 'all';
  /** VOICE_ENGINE: audio calls run the cascaded pipeline, or OpenAI Realtime (speech-to-speech; needs OpenAI). */
  engine: 'cascaded' | 'realtime';
  /**
   * VOICE_ENGINE=realtime: REALTIME_MODEL, and its server-side turn detection (REALTIME_VAD_THRESHOLD,
   * REALTIME_SILENCE_MS). Always set by loadConfig; optional so that a hand-built config may leave it out.
   */
  realtime?: { model: RealtimeModel; vadThreshold: number; silenceMs: number };
  /** SIM_AUDIO: every simulated call runs in audio mode (its people speak through espeak-ng). */
  simAudio: boolean;
  /**
   * OFFLINE_SPEECH_MODEL: the language model of the offline recogniser (offline speech-to-text, and the
   * simulated parties' ears). `domain`: a small model of what the simulated network and the offline agent say
   * (src/speech/language-model.ts); `general`: PocketSphinx's general English model; `auto` (default): domain on
   * the simulated network, general on a real carrier. Optional for hand-built configs (then `auto`).
   */
  offlineModel?: 'auto' | 'domain' | 'general';
  /**
   * How the offline recogniser listens (its language model, whether it removes noise): set by the app at
   * start from OFFLINE_SPEECH_MODEL and the carrier (src/engine/offline-speech-model.ts), never from the environment.
   */
  offlineRecognizer?: RecognizerTuning;
  /**
   * VOICE_MODE: on a carrier that can carry either, calls run as `text` (the carrier's speech) or `audio` (ours).
   * Always set by loadConfig; optional so that a speech configuration written by hand (tests) may leave it out.
   */
  voiceMode?: 'text' | 'audio';
  /** VOICE_ENDPOINTING_MS, VOICE_MIN_INTERRUPTION_MS, VOICE_MIN_INTERRUPTION_WORDS, VOICE_FALSE_INTERRUPTION_MS (docs/voice.md); as voiceMode. */
  turnTaking?: { endpointingMs: number; minInterruptionMs: number; minInterruptionWords: number; falseInterruptionMs: number };
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    readonly problem: string,
  ) {
    super(`Invalid configuration: ${variable} ${problem}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

function str(env: Env, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

function int(env: Env, name: string, def: number, min: number, max: number): number {
  const raw = str(env, name);
  if (raw === undefined) return def;
  if (!/^-?\d+$/.test(raw)) throw new ConfigError(name, `must be a whole number (got "${raw}")`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(name, `must be between ${min} and ${max} (got ${n})`);
  return n;
}

function num(env: Env, name: string, def: number, min: number, max: number): number {
  const raw = str(env, name);
  if (raw === undefined) return def;
  const n = Number(raw);
  if (!Number.isFinite(n)) throw new ConfigError(name, `must be a number (got "${raw}")`);
  if (n < min || n > max) throw new ConfigError(name, `must be between ${min} and ${max} (got ${n})`);
  return n;
}

function url(env: Env, name: string, protocols: string[]): string | undefined {
  const raw = str(env, name);
  if (raw === undefined) return undefined;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new ConfigError(name, 'must be a URL');
  }
  if (!protocols.includes(u.protocol)) {
    throw new ConfigError(name, `must start with ${protocols.map((p) => p + '//').join(' or ')}`);
  }
  return raw.replace(/\/+$/, '');
}

function oneOf<T extends string>(env: Env, name: string, values: readonly T[], def: T): T {
  const raw = str(env, name);
  if (raw === undefined) return def;
  if (!(values as readonly string[]).includes(raw)) {
    throw new ConfigError(name, `must be one of ${values.join(', ')} (got "${raw}")`);
  }
  return raw as T;
}

/** Reads and validates the configuration from `env` (default `process.env`). Throws `ConfigError`. */
export function loadConfig(env: Env = process.env): Config {
  const nodeEnv = oneOf(env, 'NODE_ENV', ['development', 'production', 'test'] as const, 'development');
  const port = int(env, 'PORT', 3000, 0, 65535);
  const host = str(env, 'HOST') ?? '127.0.0.1';
  const publicUrl = url(env, 'PUBLIC_URL', ['http:', 'https:']) ?? `http://localhost:${port}`;
  const webhookSigningSecret = str(env, 'WEBHOOK_SIGNING_SECRET');
  const dataDir = path.resolve(str(env, 'DATA_DIR') ?? './data');
  if (webhookSigningSecret !== undefined && webhookSigningSecret.length < 16) {
    throw new ConfigError('WEBHOOK_SIGNING_SECRET', 'must be at least 16 characters');
  }
  return {
    nodeEnv,
    port,
    host,
    dataDir,
    databaseUrl: url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']),
    databaseSchema: schemaName(env, 'DATABASE_SCHEMA'),
    redisUrl: url(env, 'REDIS_URL', ['redis:', 'rediss:']),
    publicUrl,
    webhookSigningSecret,
    logLevel: oneOf(env, 'LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info'),
    simTimeScale: num(env, 'SIM_TIME_SCALE', 1, 0.01, 100000),
    scenariosDir: path.resolve(str(env, 'SCENARIOS_DIR') ?? path.join(projectRoot(), 'scenarios')),
    rateLimitPerMinute: int(env, 'RATE_LIMIT_PER_MINUTE', 1000, 1, 10_000_000),
    maxConcurrentCalls: int(env, 'MAX_CONCURRENT_CALLS', 200, 1, 100_000),
    shutdownGraceSeconds: int(env, 'SHUTDOWN_GRACE_SECONDS', 30, 0, 3600),
    minCallCredits: int(env, 'MIN_CALL_CREDITS', 1, 0, 1_000_000),
    billing: readBilling(env),
    devOrgCredits: int(env, 'DEV_ORG_CREDITS', 1000, 0, 1_000_000_000),
    bodyLimit: int(env, 'BODY_LIMIT_BYTES', 1_048_576, 1024, 100 * 1_048_576),
    nodeId: str(env, 'NODE_ID') ?? `${os.hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`,
    redisPrefix: str(env, 'REDIS_PREFIX') ?? 'sb:',
    operatorAnswerTimeoutSeconds: int(env, 'OPERATOR_ANSWER_TIMEOUT_SECONDS', 60, 1, 3600),
    voicemailAction: oneOf(env, 'VOICEMAIL_ACTION', ['leave_message', 'hang_up'] as const, 'leave_message'),
    credentialsKey: readClusterKey(env, nodeEnv),
    taskConcurrency: int(env, 'TASK_CONCURRENCY', 10, 1, 10_000),
    idleJobPollMs: int(env, 'IDLE_JOB_POLL_MS', 30_000, 500, 3_600_000),
    phony: readPhony(env, nodeEnv),
    sessionTtlHours: num(env, 'SESSION_TTL_HOURS', 12, 0.001, 24 * 90),
    invitationTtlHours: num(env, 'INVITATION_TTL_HOURS', 72, 0.001, 24 * 90),
    nodeLease: readNodeLease(env),
    llm: readLlm(env),
    google: readGoogle(env, publicUrl),
    calendarTimeZone: timeZone(env, 'CALENDAR_TIME_ZONE', 'UTC'),
    recordings: readRecordings(env, dataDir),
    speech: readSpeech(env),
    ...readCarrier(env),
  };
}

function bool(env: Env, name: string, def: boolean): boolean {
  const raw = str(env, name)?.toLowerCase();
  if (raw === undefined) return def;
  if (['true', '1', 'yes', 'on'].includes(raw)) return true;
  if (['false', '0', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(name, `must be true or false (got "${raw}")`);
}

/** A provider's key and base URL; the base URL alone (a local fake, a proxy) is refused without a key. */
function account(env: Env, prefix: string, defaultBaseUrl: string, protocols: string[]): ProviderAccount | undefined {
  const apiKey = str(env, `${prefix}_API_KEY`);
  const baseUrl = url(env, `${prefix}_BASE_URL`, protocols);
  if (!apiKey) {
    if (baseUrl) throw new ConfigError(`${prefix}_API_KEY`, `is required when ${prefix}_BASE_URL is set`);
    return undefined;
  }
  return { apiKey, baseUrl: baseUrl ?? defaultBaseUrl };
}

/** The speech providers (docs/voice.md); each is configured by its key. */
function readSpeech(env: Env): SpeechConfig {
  const openai = account(env, 'OPENAI', 'https://api.openai.com/v1', ['http:', 'https:']);
  const deepgram = account(env, 'DEEPGRAM', 'wss://api.deepgram.com', ['ws:', 'wss:', 'http:', 'https:']);
  const elevenlabs = account(env, 'ELEVENLABS', 'https://api.elevenlabs.io', ['http:', 'https:']);
  const azureKey = str(env, 'AZURE_SPEECH_KEY');
  const azureRegion = str(env, 'AZURE_SPEECH_REGION');
  if ((azureKey === undefined) !== (azureRegion === undefined)) {
    throw new ConfigError(azureKey === undefined ? 'AZURE_SPEECH_KEY' : 'AZURE_SPEECH_REGION', 'AZURE_SPEECH_KEY and AZURE_SPEECH_REGION go together');
  }
  if (azureRegion !== undefined && !/^[a-z0-9]{2,40}$/.test(azureRegion)) throw new ConfigError('AZURE_SPEECH_REGION', 'must be a region name like westeurope');
  const azure = azureKey && azureRegion
    ? { apiKey: azureKey, region: azureRegion, baseUrl: url(env, 'AZURE_SPEECH_BASE_URL', ['http:', 'https:']) ?? `https://${azureRegion}.tts.speech.microsoft.com` }
    : undefined;
  const stt = oneOf(env, 'STT_PROVIDER', ['auto', 'deepgram', 'openai', 'offline'] as const, 'auto');
  if (stt === 'deepgram' && !deepgram) throw new ConfigError('STT_PROVIDER', 'is deepgram but DEEPGRAM_API_KEY is not set');
  if (stt === 'openai' && !openai) throw new ConfigError('STT_PROVIDER', 'is openai but OPENAI_API_KEY is not set');
  const engine = oneOf(env, 'VOICE_ENGINE', ['cascaded', 'realtime'] as const, 'cascaded');
  if (engine === 'realtime' && !openai) throw new ConfigError('VOICE_ENGINE', 'is realtime but OPENAI_API_KEY is not set');
  const turnTaking = {
    endpointingMs: int(env, 'VOICE_ENDPOINTING_MS', 500, 10, 10_000),
    minInterruptionMs: int(env, 'VOICE_MIN_INTERRUPTION_MS', 500, 0, 10_000),
    minInterruptionWords: int(env, 'VOICE_MIN_INTERRUPTION_WORDS', 1, 0, 20),
    falseInterruptionMs: int(env, 'VOICE_FALSE_INTERRUPTION_MS', 1000, 0, 30_000),
  };
  const voiceMode = oneOf(env, 'VOICE_MODE', ['text', 'audio'] as const, 'text');
  const realtime = {
    model: oneOf(env, 'REALTIME_MODEL', REALTIME_MODELS, 'gpt-realtime'),
    vadThreshold: num(env, 'REALTIME_VAD_THRESHOLD', 0.5, 0, 1),
    silenceMs: int(env, 'REALTIME_SILENCE_MS', 500, 100, 5000),
  };
  const sttChunkMs = int(env, 'STT_CHUNK_MS', 100, 20, 250);
  const sttSilenceMs = sttSilence(env, turnTaking.endpointingMs);
  return { openai, deepgram, elevenlabs, azure, stt, sttChunkMs, sttSilenceMs, engine, realtime, simAudio: bool(env, 'SIM_AUDIO', false), offlineModel: oneOf(env, 'OFFLINE_SPEECH_MODEL', ['auto', 'domain', 'general'] as const, 'auto'), voiceMode, turnTaking };
}

/**
 * STT_SILENCE_MS: a number of ms longer than VOICE_ENDPOINTING_MS (the provider must hear the silence that ends
 * a turn before audio stops), or `all`. Unset: 1500 (a call's own longer endpointing raises it, per stream).
 */
function sttSilence(env: Env, endpointingMs: number): number | 'all' {
  const raw = str(env, 'STT_SILENCE_MS');
  if (raw?.toLowerCase() === 'all') return 'all';
  if (raw !== undefined && !/^-?\d+$/.test(raw)) throw new ConfigError('STT_SILENCE_MS', `must be a whole number of milliseconds, or all (got "${raw}")`);
  const ms = int(env, 'STT_SILENCE_MS', 1500, 100, 600_000);
  if (raw !== undefined && ms <= endpointingMs) {
    throw new ConfigError('STT_SILENCE_MS', `must be longer than VOICE_ENDPOINTING_MS (${endpointingMs} ms), or all (got ${ms})`);
  }
  return ms;
}

/** BILLING_ENABLED (default off) and the rate table, from BILLING_RATES_FILE when given. */
function readBilling(env: Env): BillingConfig {
  const file = str(env, 'BILLING_RATES_FILE');
  try {
    return { enabled: bool(env, 'BILLING_ENABLED', false), rates: file ? readRatesFile(path.resolve(file)) : { ...DEFAULT_RATES } };
  } catch (err) {
    if (err instanceof RatesFileError) throw new ConfigError('BILLING_RATES_FILE', err.message);
    throw err;
  }
}

/** CARRIER=twilio needs the account's SID and auth token; otherwise the TWILIO_* variables are ignored. */
function readCarrier(env: Env): Pick<Config, 'carrier' | 'twilio'> {
  const carrier = oneOf(env, 'CARRIER', ['sim', 'twilio'] as const, 'sim');
  if (carrier === 'sim') return { carrier };
  const accountSid = str(env, 'TWILIO_ACCOUNT_SID');
  const authToken = str(env, 'TWILIO_AUTH_TOKEN');
  if (!accountSid) throw new ConfigError('TWILIO_ACCOUNT_SID', 'is required when CARRIER=twilio');
  if (!/^AC[0-9a-fA-F]{32}$/.test(accountSid)) throw new ConfigError('TWILIO_ACCOUNT_SID', 'must be AC followed by 32 hex digits');
  if (!authToken) throw new ConfigError('TWILIO_AUTH_TOKEN', 'is required when CARRIER=twilio');
  // REST requests may authenticate with an API key pair instead (revocable, one per deployment); Twilio still
  // signs its callbacks with the account's auth token, so the token is needed either way.
  const apiKeySid = str(env, 'TWILIO_API_KEY_SID');
  const apiKeySecret = str(env, 'TWILIO_API_KEY_SECRET');
  if (apiKeySid !== undefined && !/^SK[0-9a-fA-F]{32}$/.test(apiKeySid)) throw new ConfigError('TWILIO_API_KEY_SID', 'must be SK followed by 32 hex digits');
  if ((apiKeySid === undefined) !== (apiKeySecret === undefined)) {
    throw new ConfigError(apiKeySid === undefined ? 'TWILIO_API_KEY_SID' : 'TWILIO_API_KEY_SECRET', 'TWILIO_API_KEY_SID and TWILIO_API_KEY_SECRET go together');
  }
  const fromNumber = str(env, 'TWILIO_FROM_NUMBER');
  if (fromNumber !== undefined && !/^\+[1-9]\d{6,14}$/.test(fromNumber)) throw new ConfigError('TWILIO_FROM_NUMBER', 'must be an E.164 number (+15551234567)');
  const agentNumber = str(env, 'TWILIO_AGENT_NUMBER');
  if (agentNumber !== undefined && !/^\+[1-9]\d{6,14}$/.test(agentNumber)) throw new ConfigError('TWILIO_AGENT_NUMBER', 'must be an E.164 number (+15551234567)');
  const apiKey = apiKeySid && apiKeySecret ? { apiKey: { sid: apiKeySid, secret: apiKeySecret } } : {};
  return { carrier, twilio: { accountSid, authToken, ...apiKey, fromNumber, agentNumber, apiBaseUrl: url(env, 'TWILIO_API_BASE_URL', ['http:', 'https:']) } };
}

/** GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET go together; the base URLs are for tests and proxies. */
function readGoogle(env: Env, publicUrl: string): Config['google'] {
  const clientId = str(env, 'GOOGLE_CLIENT_ID');
  const clientSecret = str(env, 'GOOGLE_CLIENT_SECRET');
  if ((clientId === undefined) !== (clientSecret === undefined)) {
    throw new ConfigError(clientId === undefined ? 'GOOGLE_CLIENT_ID' : 'GOOGLE_CLIENT_SECRET', 'GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET go together');
  }
  if (!clientId || !clientSecret) return undefined;
  return {
    clientId,
    clientSecret,
    redirectUri: url(env, 'GOOGLE_REDIRECT_URI', ['http:', 'https:']) ?? `${publicUrl}/auth/google/callback`,
    oauthBaseUrl: url(env, 'GOOGLE_OAUTH_BASE_URL', ['http:', 'https:']) ?? 'https://accounts.google.com',
    tokenBaseUrl: url(env, 'GOOGLE_TOKEN_BASE_URL', ['http:', 'https:']) ?? 'https://oauth2.googleapis.com',
    calendarBaseUrl: url(env, 'GOOGLE_CALENDAR_BASE_URL', ['http:', 'https:']) ?? 'https://www.googleapis.com/calendar/v3',
  };
}

/** An IANA time zone name the runtime knows (Europe/Stockholm, UTC). */
function timeZone(env: Env, name: string, def: string): string {
  const raw = str(env, name);
  // The default needs no check, and checking loads ICU's time zone data: ≈ 20 ms of every start, before the
  // embedded store is asked to open (docs/performance.md §16).
  if (raw === undefined) return def;
  try {
    new Intl.DateTimeFormat('en', { timeZone: raw });
  } catch {
    throw new ConfigError(name, `must be an IANA time zone such as Europe/Stockholm (got "${raw}")`);
  }
  return raw;
}

export interface PhonyConfig {
  /** PHONY_ALLOW_ANONYMOUS: 004's keyless clients may use `/override/*`, `/events/ws`, `/test/simulate_call`. */
  allowAnonymous: boolean;
  /** Supervisor commands (`/override/*`) per minute per key (004 suggests 100). */
  overridesPerMinute: number;
  /** Messages a client may send on one `/events/ws` socket per minute (004 suggests 1000). */
  socketMessagesPerMinute: number;
  /** `/events/ws`: a `{"type":"ping"}` every `pingMs` (004: 30 s); a client silent for `timeoutMs` is closed (004: 60 s). */
  pingMs: number;
  timeoutMs: number;
}

/** 004's suggestions are the defaults; keyless use is for development only. */
function readPhony(env: Env, nodeEnv: Config['nodeEnv']): PhonyConfig {
  const allowAnonymous = oneOf(env, 'PHONY_ALLOW_ANONYMOUS', ['true', 'false'] as const, 'false') === 'true';
  if (allowAnonymous && nodeEnv === 'production') throw new ConfigError('PHONY_ALLOW_ANONYMOUS', 'must not be true when NODE_ENV=production');
  const pingMs = int(env, 'PHONY_WS_PING_MS', 30_000, 50, 3_600_000);
  const timeoutMs = int(env, 'PHONY_WS_TIMEOUT_MS', 60_000, 100, 7_200_000);
  if (timeoutMs <= pingMs) throw new ConfigError('PHONY_WS_TIMEOUT_MS', `must be longer than PHONY_WS_PING_MS (${pingMs})`);
  return {
    allowAnonymous,
    overridesPerMinute: int(env, 'PHONY_OVERRIDES_PER_MINUTE', 100, 1, 10_000_000),
    socketMessagesPerMinute: int(env, 'PHONY_WS_MESSAGES_PER_MINUTE', 1000, 1, 10_000_000),
    pingMs,
    timeoutMs,
  };
}

/**
 * Recordings: a folder (RECORDINGS_DIR, default DATA_DIR/recordings), or S3-compatible storage when
 * RECORDINGS_S3_BUCKET is set; keys go together (both or neither).
 */
function readRecordings(env: Env, dataDir: string): Config['recordings'] {
  const bucket = str(env, 'RECORDINGS_S3_BUCKET');
  const endpoint = url(env, 'RECORDINGS_S3_ENDPOINT', ['http:', 'https:']);
  const accessKeyId = str(env, 'RECORDINGS_S3_ACCESS_KEY_ID');
  const secretAccessKey = str(env, 'RECORDINGS_S3_SECRET_ACCESS_KEY');
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
    throw new ConfigError(accessKeyId === undefined ? 'RECORDINGS_S3_ACCESS_KEY_ID' : 'RECORDINGS_S3_SECRET_ACCESS_KEY', 'RECORDINGS_S3_ACCESS_KEY_ID and RECORDINGS_S3_SECRET_ACCESS_KEY go together');
  }
  if (!bucket && (endpoint || accessKeyId)) throw new ConfigError('RECORDINGS_S3_BUCKET', 'is required when other RECORDINGS_S3_* variables are set');
  if (bucket !== undefined && !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) throw new ConfigError('RECORDINGS_S3_BUCKET', 'must be an S3 bucket name (3-63 lower-case letters, digits, dots and hyphens)');
  const prefix = str(env, 'RECORDINGS_S3_PREFIX') ?? '';
  if (prefix && !/^[\w.\-/]{1,200}$/.test(prefix)) throw new ConfigError('RECORDINGS_S3_PREFIX', 'must be letters, digits, . _ - and /');
  const pathStyle = oneOf(env, 'RECORDINGS_S3_FORCE_PATH_STYLE', ['true', 'false'] as const, endpoint ? 'true' : 'false');
  return {
    dir: path.resolve(str(env, 'RECORDINGS_DIR') ?? path.join(dataDir, 'recordings')),
    s3: bucket
      ? {
          bucket,
          region: str(env, 'RECORDINGS_S3_REGION') ?? 'us-east-1',
          endpoint,
          credentials: accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey } : undefined,
          forcePathStyle: pathStyle === 'true',
          prefix,
        }
      : undefined,
    retentionDays: int(env, 'RECORDING_RETENTION_DAYS', 0, 0, 36_500),
    urlTtlSeconds: int(env, 'RECORDING_URL_TTL_SECONDS', 3600, 10, 7 * 24 * 3600),
  };
}

/** The lease must outlast a few heartbeats, or a node busy for a moment would be taken for dead. */
function readNodeLease(env: Env): Config['nodeLease'] {
  const heartbeatMs = int(env, 'NODE_HEARTBEAT_MS', 5000, 50, 600_000);
  const leaseMs = int(env, 'NODE_LEASE_MS', 15_000, 100, 3_600_000);
  const reaperMs = int(env, 'NODE_REAPER_MS', 5000, 50, 600_000);
  if (leaseMs < 2 * heartbeatMs) throw new ConfigError('NODE_LEASE_MS', `must be at least twice NODE_HEARTBEAT_MS (${2 * heartbeatMs})`);
  return { heartbeatMs, leaseMs, reaperMs };
}

/**
 * CREDENTIALS_KEY, required in a cluster: REDIS_URL set, or PostgreSQL in production (several nodes, or a
 * node whose disk does not outlive it, share one database). Without it each node makes its own key file, and
 * what one node seals or signs (phone-number credentials, live-transcript tokens) fails on every other one.
 */
function readClusterKey(env: Env, nodeEnv: Config['nodeEnv']): Buffer | undefined {
  const key = readKey(env, 'CREDENTIALS_KEY');
  if (key) return key;
  const why = str(env, 'REDIS_URL') ? 'REDIS_URL is set' : str(env, 'DATABASE_URL') && nodeEnv === 'production' ? 'DATABASE_URL is set in production' : null;
  if (why) throw new ConfigError('CREDENTIALS_KEY', `is required when ${why} (a cluster): set the same 32-byte key on every node (openssl rand -base64 32)`);
  return undefined;
}

/** A PostgreSQL schema name (lower case, digits, `_`), created if missing. */
function schemaName(env: Env, name: string): string | undefined {
  const raw = str(env, name);
  if (raw !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(raw)) throw new ConfigError(name, 'must be lower-case letters, digits and _ (a PostgreSQL schema name)');
  return raw;
}

/** A 32-byte key given as 64 hex digits or base64. */
function readKey(env: Env, name: string): Buffer | undefined {
  const raw = str(env, name);
  if (raw === undefined) return undefined;
  const key = /^[0-9a-fA-F]{64}$/.test(raw) ? Buffer.from(raw, 'hex') : Buffer.from(raw, 'base64');
  if (key.length !== 32) throw new ConfigError(name, 'must be 32 bytes, as 64 hex digits or base64 (openssl rand -base64 32)');
  return key;
}

/** The model is configured by LLM_MODEL (plus a key, except for local servers that need none). */
function readLlm(env: Env): Config['llm'] {
  const model = str(env, 'LLM_MODEL');
  const baseUrl = url(env, 'LLM_BASE_URL', ['http:', 'https:']);
  const apiKey = str(env, 'LLM_API_KEY');
  if (!model) {
    if (baseUrl || apiKey) throw new ConfigError('LLM_MODEL', 'is required when LLM_BASE_URL or LLM_API_KEY is set');
    return undefined;
  }
  const provider = oneOf(env, 'LLM_PROVIDER', ['openai', 'anthropic'] as const, 'openai');
  if (!apiKey && !baseUrl) throw new ConfigError('LLM_API_KEY', 'is required for the hosted API (or set LLM_BASE_URL for a local server)');
  return {
    provider,
    baseUrl,
    // Local OpenAI-compatible servers (Ollama, llama.cpp) ignore the key but want one.
    apiKey: apiKey ?? 'local',
    model,
    mode: oneOf(env, 'LLM_MODE', ['tools', 'inline'] as const, 'tools'),
    timeoutMs: int(env, 'LLM_TIMEOUT_MS', 30_000, 1000, 600_000),
  };
}

/**
 * The repository root: two levels above this file in `src/` (src/config/) and in the built server
 * (dist/cli/main.js and dist/cli/switchboard.cjs: scripts/bundle-server.js) alike.
 */
export function projectRoot(): string {
  const here = path.dirname(new URL(import.meta.url).pathname);
  // src/config, dist/config or dist/cli → root
  return path.resolve(here, '..', '..');
}
