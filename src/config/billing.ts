/**
 * Billing settings: whether billing is on, and the rate table that turns a call's metered usage into
 * provider cost and then into credits (docs/billing.md). Read from BILLING_ENABLED and an optional
 * BILLING_RATES_FILE (JSON or YAML) whose keys replace the defaults below one by one.
 */
import fs from 'node:fs';
import { parse as parseYaml } from 'yaml';

/**
 * What each metered quantity costs the operator, in US dollars, and how cost becomes credits:
 * `credits = ceil(provider cost × (1 + margin) / usd_per_credit)`, per call, with no minimum fee.
 */
export interface RateTable {
  /** Carrier line time, per connected minute (queue and hold count once the call is connected). */
  connected_per_minute: number;
  /** The carrier's media stream (audio forked to us), per minute streamed. */
  media_per_minute: number;
  /** Speech-to-text, per minute of audio transcribed. */
  transcription_per_minute: number;
  /** Language-model input (prompt) tokens, per million. */
  llm_input_per_million_tokens: number;
  /** Language-model output tokens, per million. */
  llm_output_per_million_tokens: number;
  /** Speech synthesis, per million characters. */
  tts_per_million_characters: number;
  /** What is added on top of provider cost: 0.5 = 50 %. */
  margin: number;
  /** What one credit sells for, in US dollars (Truedy's `cost_usd` = credits × this). */
  usd_per_credit: number;
}

/**
 * The default table: list prices of common providers (a Twilio outbound minute and Media Stream, streaming
 * STT, a GPT-4o-class model, an HD voice) with a 50 % margin and a credit at $0.05. It reproduces 001's
 * typical charges for the usage profiles in docs/billing.md: a 2-minute call with transcription and
 * speech 4 credits, an 8-minute queue and a 2-minute conversation 10, a 45-second confirmation 2
 * (test/core/credits.price.test.ts).
 */
export const DEFAULT_RATES: Readonly<RateTable> = Object.freeze({
  connected_per_minute: 0.014,
  media_per_minute: 0.004,
  transcription_per_minute: 0.007,
  llm_input_per_million_tokens: 2.5,
  llm_output_per_million_tokens: 10,
  tts_per_million_characters: 30,
  margin: 0.5,
  usd_per_credit: 0.05,
});

export interface BillingConfig {
  /**
   * Off (the default, a self-hosted single user): calls are metered and priced, but no balance is kept,
   * nothing is refused for credits, and `GET /v1/credits` says `billing_enabled: false`.
   */
  enabled: boolean;
  rates: RateTable;
}

/** Why a rates file is not acceptable (the caller turns it into a ConfigError naming BILLING_RATES_FILE). */
export class RatesFileError extends Error {}

/** The rate table: the defaults, with the keys a rates file gives replaced. */
export function readRatesFile(file: string): RateTable {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new RatesFileError(`cannot be read (${file})`);
  }
  let raw: unknown;
  try {
    raw = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch {
    throw new RatesFileError('is not valid JSON or YAML');
  }
  return mergeRates(raw);
}

/** Checks every key of `raw` (unknown keys are refused, so a typo is not silently ignored). */
export function mergeRates(raw: unknown): RateTable {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new RatesFileError('must hold an object of rates');
  const rates: RateTable = { ...DEFAULT_RATES };
  for (const [key, value] of Object.entries(raw)) {
    if (!Object.hasOwn(DEFAULT_RATES, key)) throw new RatesFileError(`has an unknown rate "${key}"`);
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new RatesFileError(`rate "${key}" must be a number of 0 or more`);
    rates[key as keyof RateTable] = value;
  }
  if (rates.usd_per_credit <= 0) throw new RatesFileError('rate "usd_per_credit" must be more than 0');
  return rates;
}
