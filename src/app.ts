/**
 * Switchboard assembled: store, bus, jobs, core, engine, carrier, brain and the HTTP server, with the
 * start and shutdown sequences. The CLI, the tests and the benchmarks all build it here.
 */
import type { SessionObserver } from './engine/events.js';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Config, ProviderAccount } from './config/index.js';
import { openBus, type Bus } from './bus/index.js';
import { createCore, DIAL_JOB, NodeLeases, RECORDING_JOBS, TASK_JOB, type Core, type DialJob, type RecordingStorage } from './core/index.js';

/** Recording jobs (fetch, render, convert, store, purge) run at once on one node. */
const RECORDING_CONCURRENCY = 2;
/** Dial jobs claimed per query: the lines held while it runs stay few, so an inbound call finds one free. */
const DIAL_CLAIM_BATCH = 16;
import { routeInbound } from './core/calls/inbound.js';
import { newWebhookSecret } from './core/orgs.js';
import { registerWebhookDelivery } from './core/webhooks/index.js';
import { JobRunner } from './jobs/runner.js';
import { startStore, StoreHealth, type OpeningStore, type Store } from './store/index.js';
import { RealClock, type Clock } from './lib/clock.js';
import { background } from './lib/background.js';
import { createLogger, type Logger } from './lib/logger.js';
import type { Carrier } from './carriers/carrier.js';
import { SimCarrier, loadScenarios } from './carriers/sim/index.js';
import { TwilioCarrier } from './carriers/twilio/twilio-carrier.js';
import { twilioRoutes } from './carriers/twilio/routes.js';
import { TwilioCluster } from './carriers/twilio/cluster.js';
import type { Brain } from './engine/brain.js';
import { Dialer } from './engine/dialer.js';
import { speechFromConfig, type CallSpeech } from './engine/voice/speech.js';
import { offlineSpeechModel } from './engine/offline-speech-model.js';
import { buildBrief } from './engine/brief.js';
import { RulesBrain } from './ai/rules/index.js';
import { LlmBrain, summarizeCall } from './ai/agent/index.js';
import { createLlm, meteredLlm, withRetries, type Llm } from './ai/llm/index.js';
import { Metrics } from './metrics/index.js';
import { addElevenLabsVoice } from './ai/tts/elevenlabs/index.js';
import type { CloneVoice } from './core/index.js';
import type { Summarizer } from './engine/call-session.js';
import { buildServer } from './server.js';

export interface SwitchboardOverrides {
  log?: Logger;
  clock?: Clock;
  carrier?: Carrier;
  brain?: Brain;
  /** Use an already-open store (tests share one). */
  store?: Store;
  /** PostgreSQL schema for this instance (tests). */
  schema?: string;
  /** Keep the embedded database in memory (tests). */
  inMemory?: boolean;
  jobPollMs?: number;
  /** Sees every live call's session events, in order (engine tests). */
  sessionObserver?: SessionObserver;
  /** Where recordings are kept, instead of what the configuration says (tests). */
  recordingStorage?: RecordingStorage;
  /** The speech of audio calls instead of the configured one; `null`: none (tests). */
  speech?: CallSpeech | null;
  /**
   * When the job runners first look for due jobs: as soon as they start (default), or once `listen()` has
   * resolved (`serve`), so that a start's own statements (the development organisation's key, the first
   * `/healthz`) do not queue behind their claims on the embedded store's one connection (docs/performance.md
   * §16). Either way their locks are released and a call started on this node runs at once.
   */
  firstJobPoll?: 'at-start' | 'after-listen';
}

export interface Switchboard {
  config: Config;
  metrics: Metrics;
  /** The configured language model, if any. */
  llm?: Llm;
  app: FastifyInstance;
  core: Core;
  store: Store;
  bus: Bus;
  jobs: JobRunner;
  /** Dial jobs: claims queued calls while this node has free lines. */
  dialJobs: JobRunner;
  /** Scheduled tasks, TASK_CONCURRENCY in progress across the cluster. */
  taskJobs: JobRunner;
  /** This node's lease and the reaper of dead nodes' calls. */
  leases: NodeLeases;
  dialer: Dialer;
  brain: Brain;
  carrier: Carrier;
  clock: Clock;
  log: Logger;
  /**
   * Creates the development organisation on an empty store. Returns its first key while that key has not
   * been used (so a start that failed after making it shows it again), else null. `key` is null when it
   * was sealed with another deployment key and cannot be opened here.
   */
  bootstrapDevOrg(): Promise<{ key: string | null; org: string; webhookSecret: string | null; created: boolean } | null>;
  /** Listens on config.host:config.port; returns the base URL. */
  listen(): Promise<string>;
  /** SIGTERM: stop taking calls, let live ones finish (up to the grace period), flush deliveries, close. */
  shutdown(): Promise<void>;
}

export async function createSwitchboard(config: Config, o: SwitchboardOverrides = {}): Promise<Switchboard> {
  const log = o.log ?? createLogger(config.logLevel);
  const simulated = !o.carrier && !(config.carrier === 'twilio' && config.twilio);
  // The store opens (PGlite boots on its own thread, or the PostgreSQL pool connects and migrates) while
  // everything below is built on `db`, whose statements wait for it: the server's routes and schemas then
  // cost nothing of a start's wall time (docs/performance.md §12). Nothing is served, claimed or listened
  // for before `opening.ready` below.
  const opening: OpeningStore = o.store
    ? { db: o.store.db, kind: o.store.kind, ready: Promise.resolve(o.store) }
    : startStore({
        databaseUrl: config.databaseUrl,
        dataDir: config.dataDir,
        schema: o.schema ?? config.databaseSchema,
        inMemory: o.inMemory,
        applicationName: `switchboard:${config.nodeId}`,
        log,
      });
  opening.ready.catch(() => {}); // awaited below, or closed by `abandonStore` on an earlier failure
  /** A failure before the store is taken: a store that does open is closed again (its data folder lock released). */
  const abandonStore = async () => {
    // The failure being reported is the caller's; a close that fails too adds nothing to it.
    if (!o.store) await opening.ready.then((s) => s.close()).catch(() => {});
  };
  const db = opening.db;
  let scenarios: Awaited<ReturnType<typeof loadScenarios>> | undefined;
  try {
    scenarios = simulated ? await loadScenarios(config.scenariosDir) : undefined;
  } catch (err) {
    await abandonStore();
    throw err;
  }
  let bus: Bus;
  try {
    bus = await openBus({ redisUrl: config.redisUrl, prefix: config.redisPrefix, log });
  } catch (err) {
    await abandonStore();
    throw err;
  }
  const clock = o.clock ?? new RealClock(config.simTimeScale);
  // How the offline recogniser listens (OFFLINE_SPEECH_MODEL): the simulated parties hear the agent, and
  // offline speech-to-text hears the parties, through it.
  const offlineRecognizer = offlineSpeechModel(config.speech, scenarios);
  const carrier: Carrier =
    o.carrier ??
    (scenarios
      ? new SimCarrier({ scenarios, clock, log, audio: config.speech.simAudio, languageModel: offlineRecognizer.languageModel })
      : new TwilioCarrier({ ...config.twilio!, publicUrl: config.publicUrl, log }));
  const llm = config.llm ? holdingClock(withRetries(createLlm(config.llm), { attempts: 3, budgetMs: 8000 }), clock) : undefined;
  const brain = o.brain ?? (llm ? new LlmBrain({ llm, mode: config.llm!.mode, clock }) : new RulesBrain({ clock }));
  const summarize: Summarizer | undefined = llm
    ? (i) => summarizeCall(i.usage ? meteredLlm(llm, i.usage) : llm, { brief: i.brief, transcript: i.transcript, goalCompleted: i.goalCompleted })
    : undefined;
  const metrics = new Metrics({ defaultMetrics: true });

  // Idle mode on the embedded store only: this process is the only one that enqueues there, and it wakes
  // its runners itself (CoreDeps' wake functions, after each commit). On PostgreSQL other nodes enqueue
  // too, so the runners keep polling every jobPollMs (docs/architecture.md "Jobs").
  const idlePollMs = opening.kind === 'pglite' ? config.idleJobPollMs : undefined;
  const jobs = new JobRunner(db, log, {
    nodeId: config.nodeId,
    pollMs: o.jobPollMs,
    idlePollMs,
    releaseAllLocksAtStart: opening.kind === 'pglite',
    excludeKinds: [TASK_JOB, DIAL_JOB, ...RECORDING_JOBS],
  });
  // Scheduled tasks have a runner of their own: at most TASK_CONCURRENCY tasks in progress in the whole
  // cluster, counted in the claim's transaction (Tasks.freeSlots); a task holds its slot until its call ends.
  const taskJobs = new JobRunner(db, log, {
    nodeId: config.nodeId,
    pollMs: o.jobPollMs,
    idlePollMs,
    concurrency: config.taskConcurrency,
    onlyRegisteredKinds: true,
    admit: (trx, wanted) => core.tasks.freeSlots(trx, config.taskConcurrency, wanted),
  });
  // Recordings (rendering speech, converting audio, moving files) use CPU and disk: a few at a time per node,
  // in a runner of their own, so that they never hold up webhook deliveries or starve live calls.
  const recordingJobs = new JobRunner(db, log, {
    nodeId: config.nodeId,
    pollMs: o.jobPollMs,
    idlePollMs,
    concurrency: RECORDING_CONCURRENCY,
    onlyRegisteredKinds: true,
    // Rendering a long simulated call or downloading a long Twilio recording may take a while.
    lockTimeoutMs: 5 * 60_000,
  });
  // Queued calls are dial jobs, claimed while this node has free lines (the Dialer's take/give).
  const dialJobs = new JobRunner(db, log, {
    nodeId: config.nodeId,
    pollMs: o.jobPollMs,
    idlePollMs,
    concurrency: config.maxConcurrentCalls,
    onlyRegisteredKinds: true,
    slots: { take: (n) => dialer.take(n), give: (n) => dialer.give(n) },
    claimBatch: DIAL_CLAIM_BATCH,
  });
  const core = createCore({
    db,
    bus,
    log,
    config,
    carrierName: carrier.name,
    checkDestination: carrier.checkDestination?.bind(carrier),
    userOnCall: carrier.capabilities.userOnCall && carrier.startUserOnCall ? { threeWay: carrier.capabilities.userOnCallThreeWay === true } : undefined,
    verifyCallerId: carrier.capabilities.callerIdVerification && carrier.verifyCallerId ? carrier.verifyCallerId.bind(carrier) : undefined,
    wakeJobs: () => {
      jobs.wake();
      recordingJobs.wake();
    },
    wakeWebhooks: () => jobs.wake(),
    wakeDials: () => dialJobs.wake(),
    wakeTasks: (at) => taskJobs.wake(at),
    summarize: llm
      ? (i) => summarizeCall(llm, { brief: buildBrief(i.request), transcript: i.transcript, goalCompleted: i.goalCompleted })
      : undefined,
    fetchRecording: carrier.capabilities.recording && carrier.fetchRecording ? carrier.fetchRecording.bind(carrier) : undefined,
    recordingStorage: o.recordingStorage,
    cloneVoice: config.speech.elevenlabs ? cloneWith(config.speech.elevenlabs) : undefined,
  });
  // Callbacks of calls placed on a number's own Twilio account, where this node has not used that account yet.
  if (carrier instanceof TwilioCarrier) carrier.accounts.resolveWith((accountSid) => core.numbers.twilioAccount(accountSid));
  registerWebhookDelivery(jobs, { db, config, log });
  // Recordings: the carrier announces each one once it has it; a durable job fetches and stores it.
  core.recordings.registerJobs(recordingJobs);
  carrier.onRecording?.((r) => background(log, 'recording not queued', () => core.recordings.carrierReady(r), { callId: r.callId }));
  taskJobs.register(TASK_JOB, core.tasks.jobHandler());

  const dialer = new Dialer({
    settings: { operatorAnswerTimeoutSeconds: config.operatorAnswerTimeoutSeconds, voicemailAction: config.voicemailAction },
    metrics,
    summarize,
    calls: core.calls,
    bus,
    carrier,
    brain,
    clock,
    log,
    nodeId: config.nodeId,
    observe: o.sessionObserver,
    calendar: core.calendar,
    speech: o.speech === null ? undefined : (o.speech ?? speechFromConfig({ ...config.speech, offlineRecognizer }, (req) => core.calls.voiceOf(req))),
    carrierAccount: (orgId, from) => core.numbers.dialAccount(orgId, from),
    // VOICE_ENGINE=realtime: audio calls are carried by OpenAI Realtime (docs/voice.md "Speech-to-speech").
    speechToSpeech: config.speech.engine === 'realtime' && config.speech.openai ? { ...config.speech.openai, settings: config.speech.realtime, turnTaking: config.speech.turnTaking } : undefined,
    maxConcurrent: config.maxConcurrentCalls,
    routeInbound: (from, to) => routeInbound(core, from, to),
    onLineFree: () => dialJobs.wake(),
  });
  dialJobs.register(DIAL_JOB, (payload: DialJob) => dialer.dialJob(payload));
  core.calls.setLauncher({ reserve: () => dialer.take(1) === 1, release: () => dialer.give(1), launch: (job) => dialJobs.runNow(job) });
  const leases = new NodeLeases({ db, calls: core.calls, log, nodeId: config.nodeId, ...config.nodeLease, onLapsed: () => dialer.dropClosed() });
  // Calls that ring our numbers are answered by their agents (carriers that deliver them).
  if (carrier.capabilities.inbound && carrier.onInbound) carrier.onInbound((c) => background(log, 'inbound call failed', () => dialer.acceptInbound(c)));

  const rateLimitRedis = config.redisUrl ? await rateLimitClient(config.redisUrl, log) : undefined;
  const storeHealth = new StoreHealth(db);
  let app: FastifyInstance;
  let store: Store;
  try {
    app = await buildServer({ core, bus, log, activeCalls: () => dialer.liveCount, storeState: () => storeHealth.state(), rateLimitRedis, metrics,
      simulatedNumbers: () => (carrier instanceof SimCarrier ? carrier.numbers() : []),
    });
  } catch (err) {
    rateLimitRedis?.disconnect();
    await bus.close();
    await abandonStore();
    throw err;
  }
  // The store, open and migrated: from here on the node claims work, and `serve` listens once this returns.
  try {
    store = await opening.ready;
  } catch (err) {
    await app.close();
    rateLimitRedis?.disconnect();
    await bus.close();
    throw err;
  }
  // Twilio's callbacks and relay socket (verified by X-Twilio-Signature, not by key).
  // With several nodes (Redis), a callback for a call another node carries is passed on to it.
  const twilioCluster = carrier instanceof TwilioCarrier && config.redisUrl ? new TwilioCluster(carrier, bus, log) : undefined;
  await twilioCluster?.start();
  if (carrier instanceof TwilioCarrier) await app.register(twilioRoutes(carrier, twilioCluster));

  // The lease first: a node claims nothing (calls, jobs) before it holds one. With the embedded store this
  // process is the only node, so calls left live by the previous one are closed now (`server_restarted`).
  await leases.start({ alone: store.kind === 'pglite' });
  const runners = [jobs, dialJobs, taskJobs, recordingJobs];
  const firstPoll = o.firstJobPoll !== 'after-listen';
  for (const runner of runners) await runner.start({ firstPoll });
  core.recordings.startRetention();
  log.info({ brain: brain.name, carrier: carrier.name, store: store.kind, bus: config.redisUrl ? 'redis' : 'memory' }, 'switchboard ready');

  let closed = false;
  return {
    config,
    metrics,
    llm,
    app,
    core,
    store,
    bus,
    jobs,
    dialJobs,
    taskJobs,
    leases,
    dialer,
    brain,
    carrier,
    clock,
    log,
    async bootstrapDevOrg() {
      let created = false;
      if ((await core.orgs.count()) === 0) {
        created = await store.db.transaction().execute(async (trx) => {
          const orgs = core.orgs.in(trx);
          const made = await orgs.ensure('development', { credits: config.devOrgCredits, webhookSecret: newWebhookSecret() });
          if (made.created) await orgs.createFirstKey(made.org.id, (key) => core.secrets.seal(key));
          return made.created;
        });
      }
      const pending = await core.orgs.pendingFirstKey();
      if (!pending) return null;
      let key: string | null = null;
      try {
        key = core.secrets.open<string>(pending.sealed);
      } catch (err) {
        // Sealed with another deployment key (another node's key file, a changed CREDENTIALS_KEY).
        log.warn({ err }, 'the pending first key cannot be opened with this deployment key');
      }
      const org = await core.orgs.get(pending.orgId);
      return { key, org: org?.name ?? 'development', webhookSecret: org?.webhook_secret ?? null, created };
    },
    async listen() {
      const url = await app.listen({ port: config.port, host: config.host });
      if (!firstPoll) for (const runner of runners) runner.wake();
      return url;
    },
    async shutdown() {
      if (closed) return;
      closed = true;
      core.calls.stopAcceptingCalls();
      core.recordings.stopRetention();
      // Queued calls and due tasks stay in the database for another node (or this one after a restart).
      await taskJobs.stop(2000);
      // A recording under way is taken up again (by this node after a restart, or another) once its lock lapses.
      await recordingJobs.stop(2000);
      await dialJobs.stop(5000);
      await dialer.drain(config.shutdownGraceSeconds * 1000);
      await app.close();
      await jobs.drain(Math.min(15_000, config.shutdownGraceSeconds * 1000 + 2000));
      await jobs.stop();
      await leases.release().catch((err: unknown) => log.warn({ err }, 'node lease release failed'));
      await twilioCluster?.close();
      await bus.close();
      rateLimitRedis?.disconnect();
      if (!o.store) await store.close();
    },
  };
}

/** ElevenLabs instant voice cloning for the core (POST /v1/elevenlabs/voices). */
function cloneWith(account: ProviderAccount): CloneVoice {
  return (input) => addElevenLabsVoice(account, { name: input.name, files: input.files, removeBackgroundNoise: input.removeBackgroundNoise });
}

/**
 * The rate limiter's Redis client. It never queues (a request is not held while Redis is away: the limiter
 * lets it through, `skipOnError`), reconnects by itself, and its connection errors are logged, not thrown.
 * ioredis is loaded only by a node that uses Redis.
 */
async function rateLimitClient(url: string, log: Logger): Promise<Redis> {
  const { Redis } = await import('ioredis');
  const r = new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
  r.on('error', (err: Error) => log.warn({ err }, 'rate limit redis connection error'));
  return r;
}

/**
 * The model's thinking time is real time: while a chunk is awaited, the call's clock stands still (a
 * no-op on the real clock), so a simulated phone menu does not run ahead of a slow model.
 */
function holdingClock(llm: Llm, clock: Clock): Llm {
  return {
    name: llm.name,
    async *stream(req) {
      const it = llm.stream(req)[Symbol.asyncIterator]();
      try {
        for (;;) {
          const r = await clock.hold(it.next());
          if (r.done) return;
          yield r.value;
        }
      } finally {
        await it.return?.();
      }
    },
  };
}
