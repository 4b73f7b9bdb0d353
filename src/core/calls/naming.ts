/**
 * How a client names a call, one rule for every face (FACES.md "Across faces"): its UUID, Switchboard's own
 * `CA…` sid, or — on Twilio — Twilio's Call SID of it (`carrier_call_sid`). Both sids have Twilio's shape;
 * each is 128 random bits, so one never names two calls.
 */
import type { ExpressionBuilder, ExpressionWrapper, SqlBool } from 'kysely';
import { isCallSid, isUuid } from '../../lib/ids.js';
import type { Database } from '../../store/schema.js';

type CallFilter = (eb: ExpressionBuilder<Database, 'calls'>) => ExpressionWrapper<Database, 'calls', SqlBool>;

/** The condition on `calls` that finds the call `idOrSid` names; undefined when it cannot name a call. */
export function namedCall(idOrSid: string): CallFilter | undefined {
  if (isUuid(idOrSid)) return (eb) => eb('calls.id', '=', idOrSid);
  if (isCallSid(idOrSid)) return (eb) => eb.or([eb('calls.sid', '=', idOrSid), eb('calls.carrier_call_sid', '=', idOrSid)]);
  return undefined;
}
