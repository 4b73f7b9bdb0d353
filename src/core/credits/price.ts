/**
 * Pricing a call (001 "Billing & credits"): provider usage cost is converted to credits with margin, then
 * rounded up per call; there is no fixed minimum fee, so any usage at all still comes to at least 1 credit.
 */
import type { RateTable } from '../../config/billing.js';
import type { CallUsage } from './usage.js';

export interface CallPrice {
  /** Whole credits charged for the call. */
  credits: number;
  /** What the providers charge for the usage, in US dollars, before the margin. */
  providerCostUsd: number;
  /** The billed price in US dollars: `credits` at the credit's price. */
  costUsd: number;
  /** Credits per metered quantity before rounding (the `price_updated` webhook's `cost_breakdown`). */
  costBreakdown: Record<string, number>;
}

/** Decimal places kept before rounding up, so float noise (3.0000000001) never costs a whole credit. */
const PRECISION = 1e6;

export function priceUsage(usage: CallUsage, rates: RateTable): CallPrice {
  const usd = {
    connected_time: (usage.connectedSeconds / 60) * rates.connected_per_minute,
    media_stream: (usage.mediaSeconds / 60) * rates.media_per_minute,
    transcription: (usage.sttSeconds / 60) * rates.transcription_per_minute,
    llm_tokens: (usage.llmInputTokens / 1e6) * rates.llm_input_per_million_tokens + (usage.llmOutputTokens / 1e6) * rates.llm_output_per_million_tokens,
    tts: (usage.ttsCharacters / 1e6) * rates.tts_per_million_characters,
  };
  const creditsPerUsd = (1 + rates.margin) / rates.usd_per_credit;
  const costBreakdown: Record<string, number> = {};
  let providerCostUsd = 0;
  for (const [part, cost] of Object.entries(usd)) {
    providerCostUsd += cost;
    costBreakdown[part] = Math.round(cost * creditsPerUsd * 100) / 100;
  }
  const credits = Math.ceil(Math.round(providerCostUsd * creditsPerUsd * PRECISION) / PRECISION);
  return {
    credits,
    providerCostUsd: Math.round(providerCostUsd * PRECISION) / PRECISION,
    costUsd: Math.round(credits * rates.usd_per_credit * 1e4) / 1e4,
    costBreakdown,
  };
}
