/**
 * Switchboard assembled: store, bus, jobs, core, engine, carrier, brain and the HTTP server, with the
 * start and shutdown sequences. The CLI, the tests and the benchmarks all build it here.
 */
import type { SessionObserver } from './engine/events.js';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import type { Config } from './config/index.js';
import { openBus, type Bus } from './bus/index.js';
import { createCore, TASK_JOB, type Core } from './core/index.js';
import { routeInbound } from './core/calls/inbound.js';
import { Orgs, newWebhookSecret } from './core/orgs.js';
import { registerWebhookDelivery } from './core/webhooks/index.js';
import { JobRunner } from './jobs/runner.js';
import { inBackground, openStore, StoreHealth, type Store } from './store/index.js';
import { RealClock, type Clock } from './lib/clock.js';
import { createLogger, type Logger } from './lib/logger.js';
import { background } from './lib/background.js';
import type { Carrier } from './carriers/carrier.js';
import { SimCarrier, loadScenarios } from './carriers/sim/index.js';
import { TwilioCarrier } from './carriers/twilio/twilio-carrier.js';
import { twilioRoutes } from './carriers/twilio/routes.js';
import { TwilioCluster } from './carriers/twilio/cluster.js';
import type { Brain } from './engine/brain.js';
import { Dialer } from './engine/dialer.js';
import { buildBrief } from './engine/brief.js';
import { RulesBrain } from './ai/rules/index.js';
import { LlmBrain, summarizeCall } from './ai/agent/index.js';
import { createLlm, withRetries, type Llm } from './ai/llm/index.js';
import { Metrics } from './metrics/index.js';
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
  const store =
    o.store ??
    (await openStore({
      databaseUrl: config.databaseUrl,
      dataDir: config.dataDir,
      schema: o.schema,
      inMemory: o.inMemory,
      applicationName: `switchboard:${config.nodeId}`,
      log,
    }));
  const bus = openBus({ redisUrl: config.redisUrl, prefix: config.redisPrefix, log });
  const clock = o.clock ?? new RealClock(config.simTimeScale);
  const carrier: Carrier =
    o.carrier ??
    (config.carrier === 'twilio' && config.twilio
      ? new TwilioCarrier({ ...config.twilio, publicUrl: config.publicUrl, log })
      : new SimCarrier({ scenarios: await loadScenarios(config.scenariosDir), clock, log }));
  const llm = config.llm ? holdingClock(withRetries(createLlm(config.llm), { attempts: 3, budgetMs: 8000 }), clock) : undefined;
  const brain = o.brain ?? (llm ? new LlmBrain({ llm, mode: config.llm!.mode, clock }) : new RulesBrain({ clock }));
  const summarize: Summarizer | undefined = llm
    ? (i) => summarizeCall(llm, { brief: i.brief, transcript: i.transcript, goalCompleted: i.goalCompleted })
    : undefined;
  const metrics = new Metrics({ defaultMetrics: true });

  const jobs = new JobRunner(store.db, log, {
    nodeId: config.nodeId,
    pollMs: o.jobPollMs,
    releaseAllLocksAtStart: store.kind === 'pglite',
    excludeKinds: [TASK_JOB],
  });
  // Scheduled tasks have a runner of their own: a task holds its slot until its call ends (TASK_CONCURRENCY).
  const taskJobs = new JobRunner(store.db, log, {
    nodeId: config.nodeId,
    pollMs: o.jobPollMs,
    concurrency: config.taskConcurrency,
    onlyRegisteredKinds: true,
    lockTimeoutMs: 6 * 3600_000,
  });
  const core = createCore({
    db: store.db,
    bus,
    log,
    config,
    carrierName: carrier.name,
    checkDestination: carrier.checkDestination?.bind(carrier),
    verifyCallerId: carrier.capabilities.callerIdVerification && carrier.verifyCallerId ? carrier.verifyCallerId.bind(carrier) : undefined,
    wakeJobs: () => inBackground(() => jobs.wake()),
    wakeTasks: () => inBackground(() => taskJobs.wake()),
    summarize: llm
      ? (i) => summarizeCall(llm, { brief: buildBrief(i.request), transcript: i.transcript, goalCompleted: i.goalCompleted })
      : undefined,
  });
  registerWebhookDelivery(jobs, { db: store.db, config, log });
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
    maxConcurrent: config.maxConcurrentCalls,
    routeInbound: (from, to) => routeInbound(core, from, to),
  });
  // Carrying calls and running jobs is background work on the store: API requests go first (store/priority.ts).
  core.calls.setLauncher({ launch: (call) => inBackground(() => dialer.launch(call)) });
  // Calls that ring our numbers are answered by their agents (carriers that deliver them).
  if (carrier.capabilities.inbound && carrier.onInbound) carrier.onInbound((c) => inBackground(() => background(log, 'inbound call failed', () => dialer.acceptInbound(c))));

  const rateLimitRedis = config.redisUrl ? rateLimitClient(config.redisUrl, log) : undefined;
  const storeHealth = new StoreHealth(store.db);
  const app = await buildServer({ core, bus, log, activeCalls: () => dialer.liveCount, storeState: () => storeHealth.state(), rateLimitRedis, metrics });
  // Twilio's callbacks and relay socket (verified by X-Twilio-Signature, not by key).
  // With several nodes (Redis), a callback for a call another node carries is passed on to it.
  const twilioCluster = carrier instanceof TwilioCarrier && config.redisUrl ? new TwilioCluster(carrier, bus, log) : undefined;
  await twilioCluster?.start();
  if (carrier instanceof TwilioCarrier) await app.register(twilioRoutes(carrier, twilioCluster));

  await recoverOrphans(core, store);
  await inBackground(() => jobs.start());
  await inBackground(() => taskJobs.start());
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
    dialer,
    brain,
    carrier,
    clock,
    log,
    async bootstrapDevOrg() {
      let created = false;
      if ((await core.orgs.count()) === 0) {
        created = await store.db.transaction().execute(async (trx) => {
          const orgs = new Orgs(trx);
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
      return app.listen({ port: config.port, host: config.host });
    },
    async shutdown() {
      if (closed) return;
      closed = true;
      core.calls.stopAcceptingCalls();
      await taskJobs.stop(0);
      await dialer.drain(config.shutdownGraceSeconds * 1000);
      core.tasks.stopWaiting();
      await taskJobs.stop(2000);
      await app.close();
      await jobs.drain(Math.min(15_000, config.shutdownGraceSeconds * 1000 + 2000));
      await jobs.stop();
      await twilioCluster?.close();
      await bus.close();
      rateLimitRedis?.disconnect();
      if (!o.store) await store.close();
    },
  };
}

/**
 * The rate limiter's Redis client. It never queues (a request is not held while Redis is away: the limiter
 * lets it through, `skipOnError`), reconnects by itself, and its connection errors are logged, not thrown.
 */
function rateLimitClient(url: string, log: Logger): Redis {
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

/**
 * The embedded store belongs to one process, so any call still live in it at start-up lost its session
 * when the previous process died: it is closed as failed, with a reason, and its webhooks still go out.
 */
async function recoverOrphans(core: Core, store: Store): Promise<void> {
  if (store.kind !== 'pglite') return;
  for (const call of await core.calls.liveCalls()) {
    const to = call.status === 'in_progress' ? 'failed' : 'canceled';
    await core.calls.transition(call.id, to, { reason: 'server_restarted', error: 'session_lost' });
  }
}
