/** Row types of every table, as Kysely sees them. Migrations in `./migrations` create them. */
import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Json<T = unknown> = ColumnType<T, string | T, string | T>;

export interface OrgsTable {
  id: string;
  name: string;
  /** Per-organisation webhook signing secret; the deployment's WEBHOOK_SIGNING_SECRET when null. */
  webhook_secret: string | null;
  credits: ColumnType<number, number | undefined, number>;
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
  request: Json;
  carrier: string;
  brain: string | null;
  answered_by: string | null;
  outcome: string | null;
  end_reason: string | null;
  last_error: string | null;
  goal_completed: boolean | null;
  summary: string | null;
  extracted: Json | null;
  duration_seconds: number | null;
  credits_charged: number | null;
  owner_node: string | null;
  next_seq: ColumnType<number, number | undefined, number>;
  answered_at: Date | null;
  ended_at: Date | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface CallEventsTable {
  call_id: string;
  seq: number;
  /** `transcript` | `status` | `command` | … (see core/calls/events.ts). */
  kind: string;
  role: string | null;
  text: string | null;
  data: Json | null;
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
  payload: Json;
  /** Unique key: enqueueing the same key twice keeps one job. */
  key: string | null;
  run_at: Timestamp;
  attempts: ColumnType<number, number | undefined, number>;
  max_attempts: number;
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
  created_at: Timestamp;
}

export interface CallTurnsTable {
  call_id: string;
  turn: number;
  transcript_to_gpt_ms: number | null;
  gpt_first_token_ms: number | null;
  first_audio_playback_ms: number | null;
  created_at: Timestamp;
}

export interface Database {
  orgs: OrgsTable;
  api_keys: ApiKeysTable;
  calls: CallsTable;
  call_events: CallEventsTable;
  idempotency_keys: IdempotencyKeysTable;
  jobs: JobsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  call_turns: CallTurnsTable;
}

export type OrgRow = Selectable<OrgsTable>;
export type CallRow = Selectable<CallsTable>;
export type NewCall = Insertable<CallsTable>;
export type CallUpdate = Updateable<CallsTable>;
export type CallEventRow = Selectable<CallEventsTable>;
export type JobRow = Selectable<JobsTable>;
export type WebhookDeliveryRow = Selectable<WebhookDeliveriesTable>;
