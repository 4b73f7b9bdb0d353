/**
 * The canonical call request: what the core keeps, whatever face or spelling it came from. Every alias
 * the documents use (`elevenLabsVoice`/`11labsVoice`, `monitored`/`monitor`/`userOnCall`,
 * `user_phone`/`userPhone`, `voiceGender`/`voice_gender`, `additional_prompt`/`additionalPrompt`) is
 * folded here and nowhere else, and every default is applied here.
 */
import { isE164 } from '../../lib/phone.js';
import { validationError } from '../errors.js';
import type { Persona, SharePolicy } from './persona.js';
import { DEFAULT_LANGUAGE, normalizeLanguage } from './language.js';
import type { VoiceFields } from '../voice/resolve.js';

export type { Persona, SharePolicy };

export const TTS_PROVIDERS = ['auto', 'openai', 'elevenlabs', 'azure'] as const;
export const VOICE_GENDERS = ['female', 'male'] as const;

export interface CallRequest {
  /** Which face created the call: decides the words of its webhooks. */
  face: 'callmycall' | 'agents-api' | 'truedy' | 'phony';
  /**
   * `inbound`: someone called `to` (our number) from `fromNumber`, and the agent answers (speaking first).
   * Absent on calls we place.
   */
  direction?: 'inbound';
  to: string;
  task: string;
  additionalPrompt: string;
  language: string;
  /** The voice fields; core/voice resolves them to the one voice the call speaks with. */
  voice: VoiceFields;
  record: boolean;
  /**
   * Audio calls (an extension, `endpointing_ms`): milliseconds of silence that end the callee's turn, instead
   * of the node's VOICE_ENDPOINTING_MS (docs/voice.md, "Turn-taking and barge-in").
   */
  endpointingMs?: number;
  maxDurationSeconds?: number;
  maxQueueSeconds?: number;
  ringTimeoutSeconds?: number;
  persona: Persona;
  sharePolicy: SharePolicy;
  transferNumber?: string;
  fromNumber?: string;
  /**
   * Where the face's webhooks go. `events` are the core's events the call is subscribed to; `faceEvents`,
   * when present, the face's own event names (agents/tasks: `call_failed` is the core's `call_completed`).
   */
  webhook?: { url: string; events: string[]; faceEvents?: string[] };
  metadata: Record<string, unknown>;
  /** The agent the call is made by: its system prompt and greeting already rendered with `variables`. */
  /** `dtmfRules`: keys pressed when the callee says the words (core/dtmf-rules.ts), applied by the engine. */
  agent?: { id: string; name: string; systemPrompt: string; greeting?: string; dtmfRules?: Record<string, string> };
  /** The task the call carries out (agents/tasks face); its status follows the call's end. */
  taskId?: string;
  /** Template variables (`{{name}}`), as given. */
  variables?: Record<string, unknown>;
  /** Variables the templates used that had no value: rendered empty and listed here. */
  missingVariables?: string[];
  /** Free context kept with the call (Truedy's `context`). */
  context?: Record<string, unknown>;
  /** `enable_calendar`: the agent gets calendar tools for the calendar `keyId` (the starting API key) connected. */
  calendar: {
    enabled: boolean;
    permissions: { read: boolean; write: boolean };
    /** Set when the call starts (CalendarConnections.prepareCall): whose calendar, and the call's time zone. */
    keyId?: string;
    timeZone?: string;
  };
  /**
   * User-on-call (001): the user's phone; `userCallSid` (the user's leg) and `sessionId` are Switchboard's own
   * ids, made when the call is stored (start-call answers them).
   */
  userOnCall?: { userPhone: string; userCallSid?: string; sessionId?: string };
}

/** The fields of CallMyCall's start-call (000 and 001), in every documented spelling. */
export interface StartCallFields {
  phone_number: string;
  task: string;
  language?: string;
  tts_provider?: string;
  voice_gender?: string;
  voiceGender?: string;
  openaiVoice?: string;
  '11labsVoice'?: string;
  elevenLabsVoice?: string;
  elevenLabsModel?: string;
  azureVoice?: string;
  style?: string;
  role?: string;
  azureBackgroundAudio?: { src: string; volume?: number; fadeInMs?: number; fadeOutMs?: number };
  additionalPrompt?: string;
  additional_prompt?: string;
  record?: boolean;
  max_duration?: number;
  max_queue_time?: number;
  endpointing_ms?: number;
  persona?: Persona;
  transfer_number?: string;
  from_number?: string;
  share_policy?: Partial<SharePolicy>;
  webhook?: string;
  webhook_events?: string[];
  metadata?: Record<string, unknown>;
  enable_calendar?: boolean;
  calendar_permissions?: { read?: boolean; write?: boolean };
  userOnCall?: boolean;
  monitored?: boolean;
  monitor?: boolean;
  userPhone?: string;
  user_phone?: string;
}

export const WEBHOOK_EVENT_NAMES = ['call_started', 'transcript_updated', 'call_completed', 'price_updated'] as const;

/** Nothing personal leaves unless the client allowed it: only the name may be said by default. */
export const DEFAULT_SHARE_POLICY: SharePolicy = {
  name_voice: true,
  phone_voice: false,
  phone_dtmf: false,
  pnr_voice: false,
  pnr_dtmf: false,
};

function phone(field: string, v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  if (!isE164(v)) throw validationError(field, `${field} must be an E.164 phone number, e.g. +46700000000`);
  return v;
}

function firstDefined<T>(...vs: (T | undefined)[]): T | undefined {
  return vs.find((v) => v !== undefined);
}

/** Folds CallMyCall's start-call fields into the canonical request. Throws a validation error naming the field. */
export function canonicalStartCall(f: StartCallFields, face: CallRequest['face'] = 'callmycall'): CallRequest {
  const to = phone('phone_number', f.phone_number)!;
  if (!f.task.trim()) throw validationError('task', 'task must not be empty');

  const language = f.language === undefined ? DEFAULT_LANGUAGE : normalizeLanguage(f.language);
  if (!language) throw validationError('language', 'language must be a language code such as sv, en or de');

  const gender = firstDefined(f.voice_gender, f.voiceGender) ?? 'male';
  if (!(VOICE_GENDERS as readonly string[]).includes(gender)) {
    throw validationError(f.voice_gender !== undefined ? 'voice_gender' : 'voiceGender', 'voice_gender must be female or male');
  }
  const userOnCall = firstDefined(f.userOnCall, f.monitored, f.monitor) ?? false;
  const userPhone = phone(f.userPhone !== undefined ? 'userPhone' : 'user_phone', firstDefined(f.userPhone, f.user_phone));
  if (userOnCall && !userPhone) throw validationError('userPhone', 'userPhone is required when userOnCall is true');

  const events = f.webhook_events ?? ['call_completed'];
  for (const e of events) {
    if (!(WEBHOOK_EVENT_NAMES as readonly string[]).includes(e)) {
      throw validationError('webhook_events', `webhook_events may hold only ${WEBHOOK_EVENT_NAMES.join(', ')}`);
    }
  }
  if (f.webhook_events && !f.webhook) throw validationError('webhook', 'webhook is required when webhook_events is given');

  return {
    face,
    to,
    task: f.task.trim(),
    additionalPrompt: firstDefined(f.additionalPrompt, f.additional_prompt) ?? '',
    language,
    voice: {
      ttsProvider: (f.tts_provider ?? 'auto') as CallRequest['voice']['ttsProvider'],
      gender: gender as CallRequest['voice']['gender'],
      openaiVoice: f.openaiVoice,
      elevenLabsVoice: firstDefined(f['11labsVoice'], f.elevenLabsVoice),
      elevenLabsModel: f.elevenLabsModel,
      azureVoice: f.azureVoice,
      azureStyle: f.style,
      azureRole: f.role,
      azureBackgroundAudio: f.azureBackgroundAudio,
    },
    record: f.record ?? false,
    ...(f.endpointing_ms !== undefined ? { endpointingMs: f.endpointing_ms } : {}),
    maxDurationSeconds: f.max_duration,
    maxQueueSeconds: f.max_queue_time,
    persona: f.persona ?? {},
    sharePolicy: { ...DEFAULT_SHARE_POLICY, ...(f.share_policy ?? {}) },
    transferNumber: phone('transfer_number', f.transfer_number),
    fromNumber: phone('from_number', f.from_number),
    webhook: f.webhook ? { url: f.webhook, events: [...new Set(events)] } : undefined,
    metadata: f.metadata ?? {},
    calendar: {
      enabled: f.enable_calendar ?? false,
      permissions: { read: f.calendar_permissions?.read ?? true, write: f.calendar_permissions?.write ?? false },
    },
    userOnCall: userOnCall ? { userPhone: userPhone! } : undefined,
  };
}
