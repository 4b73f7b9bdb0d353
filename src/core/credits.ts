/**
 * Credits: connected time is billed, rounded up to a whole credit per call (001, "Billing & credits").
 * One rate for now: 2 credits per connected minute, which gives 001's typical figures (a 2-minute call
 * about 4 credits, a 45-second confirmation about 2).
 */
import type { Db } from '../store/index.js';
import { SwitchboardError } from './errors.js';

export const CREDITS_PER_CONNECTED_MINUTE = 2;

export function priceCall(connectedSeconds: number): { credits: number; cost_breakdown: Record<string, number> } {
  if (connectedSeconds <= 0) return { credits: 0, cost_breakdown: { connected_time: 0 } };
  const raw = (connectedSeconds / 60) * CREDITS_PER_CONNECTED_MINUTE;
  return { credits: Math.ceil(raw), cost_breakdown: { connected_time: Math.round(raw * 100) / 100 } };
}

/** The credit guard: refuses to start a call when the balance is below the minimum. */
export async function checkCredits(db: Db, orgId: string, minimum: number): Promise<void> {
  const org = await db.selectFrom('orgs').select('credits').where('id', '=', orgId).executeTakeFirst();
  const balance = org?.credits ?? 0;
  if (balance < minimum) {
    throw new SwitchboardError('SB_ERR_INSUFFICIENT_CREDITS', 'Insufficient credits', {
      credits_balance: balance,
      minimum_required: minimum,
    });
  }
}
