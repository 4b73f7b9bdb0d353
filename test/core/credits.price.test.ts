/** The default rate table against 001's "Billing & credits" examples, and the rules of rounding. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_RATES, loadConfig } from '../../src/config/index.js';
import { emptyUsage, priceUsage } from '../../src/core/credits/index.js';
import { EXAMPLES } from '../helpers/billing.js';

describe('credits: pricing a call', () => {
  it.each(EXAMPLES)("001's example: $name → $credits credits with the default table", ({ usage, credits }) => {
    const p = priceUsage(usage, DEFAULT_RATES);
    expect(p.credits).toBe(credits);
    expect(p.costUsd).toBeCloseTo(credits * DEFAULT_RATES.usd_per_credit, 10);
    // The breakdown adds up to the unrounded price, which the charge rounds up.
    const sum = Object.values(p.costBreakdown).reduce((a, b) => a + b, 0);
    expect(Math.ceil(sum - 0.05)).toBeLessThanOrEqual(credits);
    expect(sum).toBeGreaterThan(credits - 1);
  });

  it('rounds up per call with no minimum fee: nothing used costs 0, a little costs 1', () => {
    expect(priceUsage(emptyUsage(), DEFAULT_RATES).credits).toBe(0);
    expect(priceUsage({ ...emptyUsage(), connectedSeconds: 1 }, DEFAULT_RATES).credits).toBe(1);
    expect(priceUsage({ ...emptyUsage(), llmOutputTokens: 1 }, DEFAULT_RATES).credits).toBe(1);
  });

  it('a whole number of credits is not rounded up by float noise', () => {
    // One minute connected at $0.05 with no margin is exactly 1 credit.
    const rates = { ...DEFAULT_RATES, connected_per_minute: 0.05, margin: 0 };
    expect(priceUsage({ ...emptyUsage(), connectedSeconds: 60 }, rates).credits).toBe(1);
  });

  it('the margin and the price of a credit turn provider cost into credits', () => {
    const usage = { ...emptyUsage(), connectedSeconds: 600 };
    const base = priceUsage(usage, { ...DEFAULT_RATES, margin: 0 });
    expect(base.providerCostUsd).toBeCloseTo(0.14, 10);
    expect(base.credits).toBe(3); // $0.14 / $0.05 = 2.8
    expect(priceUsage(usage, { ...DEFAULT_RATES, margin: 1 }).credits).toBe(6); // 5.6
    expect(priceUsage(usage, { ...DEFAULT_RATES, margin: 0, usd_per_credit: 0.01 }).credits).toBe(14);
  });
});

describe('credits: configuration', () => {
  it('billing is off by default, with the default table', () => {
    const c = loadConfig({});
    expect(c.billing).toEqual({ enabled: false, rates: DEFAULT_RATES });
    expect(loadConfig({ BILLING_ENABLED: 'true' }).billing.enabled).toBe(true);
    expect(() => loadConfig({ BILLING_ENABLED: 'sometimes' })).toThrow(/BILLING_ENABLED/);
  });

  it('BILLING_RATES_FILE replaces rates key by key (YAML or JSON) and refuses unknown keys and bad values', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-rates-'));
    const yaml = path.join(dir, 'rates.yaml');
    fs.writeFileSync(yaml, 'connected_per_minute: 0.0085\nmargin: 0.3\n');
    expect(loadConfig({ BILLING_RATES_FILE: yaml }).billing.rates).toEqual({ ...DEFAULT_RATES, connected_per_minute: 0.0085, margin: 0.3 });
    const json = path.join(dir, 'rates.json');
    fs.writeFileSync(json, JSON.stringify({ usd_per_credit: 0.01 }));
    expect(loadConfig({ BILLING_RATES_FILE: json }).billing.rates.usd_per_credit).toBe(0.01);
    for (const bad of ['conected_per_minute: 1\n', 'margin: -1\n', 'margin: lots\n', 'usd_per_credit: 0\n', '- 1\n', 'a: [\n']) {
      fs.writeFileSync(yaml, bad);
      let err: unknown;
      try {
        loadConfig({ BILLING_RATES_FILE: yaml });
      } catch (e) {
        err = e;
      }
      expect(err, bad).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).variable).toBe('BILLING_RATES_FILE');
    }
    expect(() => loadConfig({ BILLING_RATES_FILE: path.join(dir, 'missing.yaml') })).toThrow(/BILLING_RATES_FILE/);
  });
});
