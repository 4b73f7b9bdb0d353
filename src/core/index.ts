/** The core services, built once and shared by every face and the engine. */
import type { Bus } from '../bus/bus.js';
import type { Config } from '../config/index.js';
import type { Logger } from '../lib/logger.js';
import type { Db } from '../store/index.js';
import { CallService } from './calls/service.js';
import { configuredTtsProviders, VoiceCloning, type CloneVoice } from './voice/index.js';
import { WebhookPayloads } from './calls/webhook-payloads.js';
import { Orgs } from './orgs.js';
import { Agents } from './agents.js';
import { PhoneNumbers } from './numbers.js';
import { Secrets } from './secrets.js';
import { Tasks } from './tasks.js';
import { CallReports, type ReportSummarizer } from './calls/report.js';
import { CallIndex } from './calls/list.js';
import { checkWebhookUrl, Webhooks } from './webhooks/index.js';
import { CallManager } from './calls/manage.js';
import { CallerIds, type VerifyCallerId } from './caller-ids.js';
import { DashboardSessions, Invitations, Users } from './users/index.js';
import { CallReplays } from './calls/replay.js';
import { CalendarConnections } from './calendar/index.js';
import { Credits } from './credits/index.js';
import { Recordings, type FetchRecording } from './recordings/service.js';
import { openRecordingStorage, type RecordingStorage } from './recordings/storage/index.js';

export * from './errors.js';
export { CallService, DIAL_JOB, dialJobKey, isWaiting, type CallLauncher, type DialJob } from './calls/service.js';
export { NodeLeases, type NodeLeaseOptions } from './nodes.js';
export { Orgs, type Org, type ApiKeyView } from './orgs.js';
export * from './users/index.js';
export { CallReplays, replayTurns, type RecordedScenario } from './calls/replay.js';
export { WebhookPayloads } from './calls/webhook-payloads.js';
export { Agents, agentCallRequest, type AgentInput, type AgentPatch } from './agents.js';
export { PhoneNumbers, numberView, NUMBER_CARRIERS, type PhoneNumberInput } from './numbers.js';
export { Secrets } from './secrets.js';
export { CallIndex, type CallListFilter } from './calls/list.js';
export { CallManager, type CallQuery, type LaunchOutcome } from './calls/manage.js';
export { Webhooks } from './webhooks/index.js';
export { FollowerTooSlowError, FOLLOW_QUEUE_LIMIT, type FollowOptions } from './calls/follow.js';
export { CallReports, buildReport, type CallReport, type ReportSummarizer } from './calls/report.js';
export { CallerIds, VERIFICATION_STATUSES, type VerificationStatus, type VerifyCallerId } from './caller-ids.js';
export { CalendarConnections, type CalendarStatus } from './calendar/index.js';
export { Credits, MAX_ENTRIES, UsageMeter, priceUsage, type CallPrice, type CallUsage, type UsageReporter } from './credits/index.js';
export { Recordings, RECORDING_FORMATS, RECORDING_JOBS, type CarrierRecording, type FetchRecording, type RecordingFormat, type RecordingMedia } from './recordings/service.js';
export { openRecordingStorage, FolderStorage, S3Storage, type RecordingStorage, type ByteRange } from './recordings/storage/index.js';
export { VoiceCloning, VOICE_SAMPLE_LIMITS, type CloneVoice } from './voice/index.js';
export { Tasks, TASK_JOB, TASK_STATUSES, TASK_WEBHOOK_EVENTS, type TaskInput, type TaskPatch } from './tasks.js';

/**
 * What faces and the engine are given. No store handle: whatever a face reads or writes goes through a
 * service method here (faces import the store for its row types only).
 */
export interface Core {
  config: Config;
  orgs: Orgs;
  /** Billing: the credit guard, call pricing, the ledger and balances (docs/billing.md). */
  credits: Credits;
  calls: CallService;
  payloads: WebhookPayloads;
  agents: Agents;
  numbers: PhoneNumbers;
  tasks: Tasks;
  /** Caller IDs verified by a call to the number (besides the organisation's own numbers). */
  callerIds: CallerIds;
  /** The deployment key: sealed credentials and signed short-lived tokens. */
  secrets: Secrets;
  reports: CallReports;
  /** Listing calls with filters. */
  callIndex: CallIndex;
  /** Stored calls managed as records: list with totals, delete, change the request, the launch outcome. */
  callManager: CallManager;
  /** Test sends and the delivery log. */
  webhooks: Webhooks;
  /** Call recordings: stored audio and its signed URLs. */
  recordings: Recordings;
  /** Why a webhook target is not acceptable in this deployment, or null. */
  checkWebhookUrl(url: string): string | null;
  /** An organisation's people; dashboard sign-ins; invitations (issue 12 §4). */
  users: Users;
  sessions: DashboardSessions;
  invitations: Invitations;
  /** Finished calls made into scenario tests (issue 12 §6). */
  replays: CallReplays;
  /** Each API key's connected calendar (Google OAuth), for the calendar routes and the agent's tools. */
  calendar: CalendarConnections;
  /** ElevenLabs voice cloning (001), when ElevenLabs is configured. */
  voices: VoiceCloning;
}

export interface CoreDeps {
  db: Db;
  bus: Bus;
  log: Logger;
  config: Config;
  carrierName: string;
  checkDestination?: (to: string) => string | null;
  /** What the carrier can do for user-on-call sessions (none: `userOnCall` is refused). */
  userOnCall?: { threeWay: boolean };
  /** The carrier's caller-ID verification call, when it has the `callerIdVerification` capability. */
  verifyCallerId?: VerifyCallerId;
  wakeJobs?: () => void;
  /**
   * Wakes only the runner of webhook deliveries (a call's events enqueue nothing else); `wakeJobs` when
   * absent. Waking the recording runner too would cost its claim statement after every webhook of a call.
   */
  wakeWebhooks?: () => void;
  /** Wakes the dial-job runner (a call was stored that this node could not start itself). */
  wakeDials?: () => void;
  /** Tells the scheduled-task runner a task's job was written, due at `at` (see Tasks' `wakeTasks`). */
  wakeTasks?: (at: Date) => void;
  /** Re-summarises stored transcripts with a model, when one is configured. */
  summarize?: ReportSummarizer;
  /** The carrier's download of a recording it announced (carriers with the `recording` capability). */
  fetchRecording?: FetchRecording;
  /** Where recordings are kept; default: as the configuration says (openRecordingStorage). */
  recordingStorage?: RecordingStorage;
  /** ElevenLabs instant voice cloning, when ElevenLabs is configured (none: the route answers 400). */
  cloneVoice?: CloneVoice;
}

export function createCore(d: CoreDeps): Core {
  const payloads = new WebhookPayloads();
  const credits = new Credits({ db: d.db, billing: d.config.billing, minCallCredits: d.config.minCallCredits });
  const calls = new CallService({
    db: d.db,
    bus: d.bus,
    log: d.log,
    payloads,
    credits,
    carrierName: d.carrierName,
    checkDestination: d.checkDestination,
    userOnCall: d.userOnCall,
    wakeJobs: d.wakeWebhooks ?? d.wakeJobs,
    wakeDials: d.wakeDials,
    nodeId: d.config.nodeId,
    ttsProviders: configuredTtsProviders(d.config.speech),
  });
  const production = d.config.nodeEnv === 'production';
  const secrets = new Secrets(d.config);
  const agents = new Agents(d.db);
  const tasks = new Tasks({
    db: d.db,
    bus: d.bus,
    log: d.log,
    calls,
    agents,
    checkWebhookUrl: (url) => checkWebhookUrl(url, { production }),
    wakeTasks: d.wakeTasks,
  });
  const orgs = new Orgs(d.db, { simulatedNetwork: d.carrierName === 'sim' });
  const recordings = new Recordings({
    db: d.db,
    log: d.log,
    config: d.config,
    secrets,
    storage: d.recordingStorage ?? openRecordingStorage(d.config),
    fetch: d.fetchRecording,
    carrierName: d.carrierName,
    wakeJobs: d.wakeJobs,
    keyLive: (orgId, keyId) => orgs.keyLive(orgId, keyId),
  });
  const users = new Users(d.db, orgs);
  const hour = 3_600_000;
  return {
    recordings,
    users,
    sessions: new DashboardSessions(d.db, orgs, users, d.config.sessionTtlHours * hour),
    invitations: new Invitations(d.db, d.config.invitationTtlHours * hour),
    replays: new CallReplays(d.db, (orgId, id) => calls.find(orgId, id)),
    agents,
    numbers: new PhoneNumbers(d.db, secrets, d.carrierName === 'sim'),
    tasks,
    callerIds: new CallerIds({ db: d.db, log: d.log, carrierName: d.carrierName, verify: d.verifyCallerId }),
    secrets,
    reports: new CallReports(d.db, d.summarize),
    callIndex: new CallIndex(d.db),
    callManager: new CallManager(d.db, d.wakeJobs),
    webhooks: new Webhooks({ db: d.db, config: d.config, payloads, wakeWebhooks: d.wakeWebhooks ?? d.wakeJobs }),
    config: d.config,
    orgs,
    credits,
    calls,
    payloads,
    checkWebhookUrl: (url) => checkWebhookUrl(url, { production }),
    calendar: new CalendarConnections({ db: d.db, secrets, config: d.config, log: d.log }),
    voices: new VoiceCloning(d.cloneVoice),
  };
}
