/** Row types of every table, as Kysely sees them. Migrations in `./migrations` create them. */
import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';
// Types only (checked by dependency-cruiser): the JSON columns carry the core's own types, named once here.
import type { CallEventData, Speaker } from '../core/calls/events.js';
import type { CallRequest } from '../core/calls/request.js';
import type { RoomState } from '../core/calls/user-on-call.js';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
/**
 * A JSON column: read back parsed (both drivers parse json/jsonb) as `T`; written as a JSON string (so an
 * array is not taken for a PostgreSQL array) or a value.
 */
type Json<T> = ColumnType<T, string | T, string | T>;

export interface OrgsTable {
  id: string;
  name: string;
  /** Per-organisation webhook signing secret; the deployment's WEBHOOK_SIGNING_SECRET when null. */
  webhook_secret: string | null;
  /** False: the organisation's subscription is inactive and it may start no call while billing is on. */
  subscription_active: ColumnType<boolean, boolean | undefined, boolean>;
  created_at: Timestamp;
}

/**
 * One change to an organisation's credits (migration 0011). Append-only: the balance is the sum of
 * `amount` (grants and refunds positive, charges negative). A call has at most one entry of each kind.
 */
export interface CreditLedgerTable {
  id: string;
  org_id: string;
  kind: 'grant' | 'charge' | 'refund';
  amount: number;
  call_id: string | null;
  call_sid: string | null;
  note: string | null;
  created_at: Timestamp;
}

/** What one call used and what it cost (migration 0011), written when the call ends. */
export interface CallUsageTable {
  call_id: string;
  org_id: string;
  connected_seconds: number;
  media_seconds: number;
  stt_seconds: number;
  llm_input_tokens: number;
  llm_output_tokens: number;
  tts_characters: number;
  /** What the providers charge for this usage, in US dollars, before the margin. */
  provider_cost_usd: number;
  credits: number;
  /** The price billed: `credits` at the credit's price in US dollars. */
  cost_usd: number;
  /** Credits per metered quantity, before rounding up. */
  cost_breakdown: Json<Record<string, number>>;
  created_at: Timestamp;
}

export interface ApiKeysTable {
  id: string;
  org_id: string;
  /** The first characters of the key, shown in listings so a person can tell keys apart. */
  prefix: string;
  /** SHA-256 of the whole key, hex. The key itself is never stored. */
  hash: string;
  name: string | null;
  created_at: Timestamp;
  revoked_at: Date | null;
  /** The user who owns the key (null for keys made before users existed, or by the CLI: the org's owner). */
  user_id: ColumnType<string | null, string | null | undefined, string | null>;
}

/** An organisation's people (issue 12 §4). `email` is null for the owner made for keys that had none. */
export interface UsersTable {
  id: string;
  org_id: string;
  email: string | null;
  name: string;
  /** `owner` | `admin` | `member` (core/users/roles.ts). */
  role: string;
  created_at: Timestamp;
}

/** A dashboard sign-in: the cookie's token (hashed) and its CSRF token; ends with its key or its expiry. */
export interface DashboardSessionsTable {
  token_hash: string;
  org_id: string;
  user_id: string;
  key_id: string;
  csrf_token: string;
  expires_at: Date;
  created_at: Timestamp;
}

/** An invitation to join an organisation: a hashed single-use token with an expiry. */
export interface InvitationsTable {
  id: string;
  org_id: string;
  email: string;
  role: string;
  token_hash: string;
  invited_by: string | null;
  expires_at: Date;
  accepted_at: Date | null;
  created_at: Timestamp;
}

export interface CallsTable {
  id: string;
  sid: string;
  org_id: string;
  direction: string;
  from_number: string | null;
  to_number: string;
  status: string;
  /** The canonical request the call was started with (see core/calls/request.ts). */
  request: Json<CallRequest>;
  carrier: string;
  brain: string | null;
  answered_by: string | null;
  outcome: string | null;
  end_reason: string | null;
  last_error: string | null;
  goal_completed: boolean | null;
  summary: string | null;
  /** What the agent extracted from the conversation (the report). */
  extracted: Json<Record<string, unknown> | null>;
  duration_seconds: number | null;
  credits_charged: number | null;
  /** The billed cost in US dollars at the rates of the day the call ended (migration 0011). */
  cost_usd: ColumnType<number | null, number | null | undefined, number | null>;
  owner_node: string | null;
  next_seq: ColumnType<number, number | undefined, number>;
  answered_at: Date | null;
  ended_at: Date | null;
  /** The agent and task the call was made for (agents/tasks and Truedy faces); null otherwise. */
  agent_id: ColumnType<string | null, string | null | undefined, string | null>;
  task_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** The carrier's own id of the call (Twilio's Call SID; migration 0016); null on the simulated network. */
  carrier_call_sid: ColumnType<string | null, string | null | undefined, string | null>;
  /** A user-on-call session as it last stood (`conference-status`); null on other calls. */
  conference: ColumnType<RoomState | null, string | null | undefined, string | null>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface CallEventsTable {
  call_id: string;
  seq: number;
  /** `transcript` | `status` | `command` | … (see core/calls/events.ts). */
  kind: string;
  /** Who spoke (transcript events). */
  role: Speaker | null;
  text: string | null;
  data: Json<CallEventData | null>;
  created_at: Timestamp;
}

export interface IdempotencyKeysTable {
  org_id: string;
  key: string;
  body_hash: string;
  call_id: string;
  created_at: Timestamp;
}

export interface JobsTable {
  id: Generated<string>;
  kind: string;
  /** The job's input, as its kind's handler reads it. */
  payload: Json<unknown>;
  /** Unique key: enqueueing the same key twice keeps one job. */
  key: string | null;
  run_at: Timestamp;
  attempts: ColumnType<number, number | undefined, number>;
  max_attempts: number;
  /** Higher runs first among due jobs. */
  priority: ColumnType<number, number | undefined, number>;
  locked_at: Date | null;
  locked_by: string | null;
  last_error: string | null;
  created_at: Timestamp;
}

export interface WebhookDeliveriesTable {
  id: Generated<string>;
  org_id: string;
  call_id: string | null;
  webhook_id: string;
  event: string;
  url: string;
  attempt: number;
  status_code: number | null;
  error: string | null;
  duration_ms: number | null;
  /** The job gave up on this delivery: this row sums it up (attempts made, last error) instead of an attempt. */
  dead_letter: Generated<boolean>;
  /** Dead letters only: the exact body that was sent, for a redelivery. */
  payload: string | null;
  created_at: Timestamp;
}

/** The first start's API key until it is used (sealed with the deployment key; see Orgs.pendingFirstKey). */
export interface PendingFirstKeyTable {
  key_id: string;
  sealed: string;
  created_at: Timestamp;
}

export interface CallTurnsTable {
  call_id: string;
  turn: number;
  transcript_to_gpt_ms: number | null;
  gpt_first_token_ms: number | null;
  first_audio_playback_ms: number | null;
  /** Audio calls (migration 0020): end of the callee's sound → final transcript; first clause → first synthesised byte. */
  stt_final_ms: number | null;
  tts_first_byte_ms: number | null;
  created_at: Timestamp;
}

export interface AgentsTable {
  id: string;
  org_id: string;
  name: string;
  system_prompt: string;
  description: string | null;
  starting_message: string | null;
  language: string;
  voice_settings: Json<Record<string, unknown>>;
  dtmf_rules: Json<Record<string, unknown>>;
  enabled: boolean;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface PhoneNumbersTable {
  id: string;
  org_id: string;
  number: string;
  carrier: string;
  /** AES-256-GCM sealed JSON (see core/secrets.ts); never returned by an API. */
  credentials: string | null;
  inbound_agent_id: string | null;
  outbound_agent_id: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface TasksTable {
  id: string;
  org_id: string;
  agent_id: string;
  name: string;
  to_number: string;
  description: string | null;
  starting_message: string | null;
  context_data: Json<Record<string, unknown>>;
  priority: number;
  scheduled_at: Date | null;
  webhook_url: string | null;
  webhook_events: Json<string[]>;
  /** pending → in_progress → completed | failed */
  status: string;
  call_id: string | null;
  last_error: string | null;
  started_at: Date | null;
  completed_at: Date | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface CallerIdVerificationsTable {
  id: string;
  org_id: string;
  phone_number: string;
  /** pending → verified | failed */
  status: string;
  /** The 6-digit code the owner of the number is asked to type. */
  validation_code: string;
  /** The carrier that placed the verification call. */
  carrier: string;
  created_at: Timestamp;
  finished_at: Date | null;
}

export interface CallerIdsTable {
  org_id: string;
  phone_number: string;
  verification_id: string | null;
  verified_at: Timestamp;
}

/** A node's lease (migration 0005): renewed by its heartbeat; once `expires_at` passes, its calls are reaped. */
export interface NodesTable {
  id: string;
  started_at: Timestamp;
  heartbeat_at: Timestamp;
  expires_at: Date;
}

/** Which audio files a recording has, with their sizes in bytes. */
export type RecordingFormats = Partial<Record<'wav' | 'mp3', number>>;

/** A call's recording (migration 0013). Its audio lives in the recording storage under `storage_key`.`<format>`. */
export interface RecordingsTable {
  id: string;
  /** `RE` + 32 hex: the id in recording URLs. */
  sid: string;
  call_id: string;
  org_id: string;
  /** Who made it: the carrier's name (`sim`, `twilio`). */
  source: string;
  /** processing → ready | failed */
  status: string;
  storage_key: string;
  duration_seconds: number | null;
  formats: Json<RecordingFormats>;
  error: string | null;
  created_at: Timestamp;
  ready_at: Date | null;
}

/** One calendar grant per API key (migration 0014); `sealed_tokens` holds its access and refresh tokens, sealed. */
export interface CalendarGrantsTable {
  key_id: string;
  org_id: string;
  provider: ColumnType<string, string | undefined, string>;
  sealed_tokens: string;
  scopes: Json<string[]>;
  /** When Google's access token expires; null for a CalDAV connection (migration 0017: nothing expires). */
  access_expires_at: Date | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** A consent request waiting for Google's callback: found by the SHA-256 of its `state`, used once. */
export interface CalendarOauthStatesTable {
  state_hash: string;
  key_id: string;
  org_id: string;
  expires_at: Date;
  created_at: Timestamp;
}

export interface Database {
  recordings: RecordingsTable;
  nodes: NodesTable;
  caller_id_verifications: CallerIdVerificationsTable;
  caller_ids: CallerIdsTable;
  agents: AgentsTable;
  phone_numbers: PhoneNumbersTable;
  tasks: TasksTable;
  orgs: OrgsTable;
  api_keys: ApiKeysTable;
  calls: CallsTable;
  call_events: CallEventsTable;
  idempotency_keys: IdempotencyKeysTable;
  jobs: JobsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  call_turns: CallTurnsTable;
  pending_first_key: PendingFirstKeyTable;
  calendar_grants: CalendarGrantsTable;
  calendar_oauth_states: CalendarOauthStatesTable;
  credit_ledger: CreditLedgerTable;
  call_usage: CallUsageTable;
  users: UsersTable;
  dashboard_sessions: DashboardSessionsTable;
  invitations: InvitationsTable;
}

export type OrgRow = Selectable<OrgsTable>;
export type CallRow = Selectable<CallsTable>;
export type NewCall = Insertable<CallsTable>;
export type CallUpdate = Updateable<CallsTable>;
export type CallEventRow = Selectable<CallEventsTable>;
export type JobRow = Selectable<JobsTable>;
export type WebhookDeliveryRow = Selectable<WebhookDeliveriesTable>;
export type AgentRow = Selectable<AgentsTable>;
export type PhoneNumberRow = Selectable<PhoneNumbersTable>;
export type TaskRow = Selectable<TasksTable>;
export type CallerIdVerificationRow = Selectable<CallerIdVerificationsTable>;
export type CallerIdRow = Selectable<CallerIdsTable>;
export type NodeRow = Selectable<NodesTable>;
export type CreditLedgerRow = Selectable<CreditLedgerTable>;
export type CallUsageRow = Selectable<CallUsageTable>;
export type RecordingRow = Selectable<RecordingsTable>;
export type CalendarGrantRow = Selectable<CalendarGrantsTable>;
export type UserRow = Selectable<UsersTable>;
export type ApiKeyRow = Selectable<ApiKeysTable>;
export type InvitationRow = Selectable<InvitationsTable>;
