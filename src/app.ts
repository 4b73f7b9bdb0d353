/**
 * Switchboard assembled: store, bus, jobs, core, engine, carrier, brain and the HTTP server, with the
 * start and shutdown sequences. The CLI, the tests and the benchmarks all build it here.
 */
import type { SessionObserver } from './engine/events.js';
import { background } from './lib/background.js';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import type { Config } from './config/index.js';
import { openBus, type Bus } from './bus/index.js';
import { createCore, TASK_JOB, type Core } from './core/index.js';
import { routeInbound } from './core/calls/inbound.js';
import { newWebhookSecret } from './core/orgs.js';
import { webhookDeliveryHandler, WEBHOOK_JOB } from './core/webhooks/index.js';
import { JobRunner } from './jobs/runner.js';
import { openStore, type Store } from './store/index.js';
import { RealClock, type Clock } from './lib/clock.js';
import { createLogger, type Logger } from './lib/logger.js';
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
  /** Creates the development organisation on an empty store; returns its new key (shown once) or null. */
  bootstrapDevOrg(): Promise<{ key: string; webhookSecret: string } | null>;
  /** Listens on config.host:config.port; returns the base URL. */
  listen(): Promise<string>;
  /** SIGTERM: stop taking calls, let live ones finish (up to the grace period), flush deliveries, close. */
  shutdown(): Promise<void>;
}

export async function createSwitchboard(config: Config, o: SwitchboardOverrides = {}): Promise<Switchboard> {
  const log = o.log ?? createLogger(config.logLevel);
  const store =
    o.store ?? (await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, schema: o.schema, inMemory: o.inMemory }));
  const bus = openBus({ redisUrl: config.redisUrl, prefix: config.redisPrefix });
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
    wakeJobs: () => jobs.wake(),
    wakeTasks: () => taskJobs.wake(),
    summarize: llm
      ? (i) => summarizeCall(llm, { brief: buildBrief(i.request), transcript: i.transcript, goalCompleted: i.goalCompleted })
      : undefined,
  });
  jobs.register(WEBHOOK_JOB, webhookDeliveryHandler({ db: store.db, config, log }));
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
  core.calls.setLauncher(dialer);
  // Calls that ring our numbers are answered by their agents (carriers that deliver them).
  if (carrier.capabilities.inbound && carrier.onInbound) carrier.onInbound((c) => background(log, 'inbound call failed', dialer.acceptInbound(c)));

  const rateLimitRedis = config.redisUrl ? new Redis(config.redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false }) : undefined;
  const app = await buildServer({ core, bus, log, activeCalls: () => dialer.liveCount, rateLimitRedis, metrics });
  // Twilio's callbacks and relay socket (verified by X-Twilio-Signature, not by key).
  // With several nodes (Redis), a callback for a call another node carries is passed on to it.
  const twilioCluster = carrier instanceof TwilioCarrier && config.redisUrl ? new TwilioCluster(carrier, bus, log) : undefined;
  await twilioCluster?.start();
  if (carrier instanceof TwilioCarrier) await app.register(twilioRoutes(carrier, twilioCluster));

  await recoverOrphans(core, store);
  await jobs.start();
  await taskJobs.start();
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
      if ((await core.orgs.count()) > 0) return null;
      const webhookSecret = newWebhookSecret();
      const { org, created } = await core.orgs.ensure('development', { credits: config.devOrgCredits, webhookSecret });
      if (!created) return null;
      return { key: await core.orgs.createKey(org.id, 'first start'), webhookSecret };
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
