/**
 * Who may use Phony's routes (FACES.md, "Phony"): an API key (Bearer or `?api_key=`, or whatever the shared
 * authentication sets, such as the dashboard's session), or nobody at all when PHONY_ALLOW_ANONYMOUS=true
 * (development only: config refuses it in production), so 004's keyless clients work unchanged. A keyless
 * request acts on any call by its sid, as 004's own server does.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Core } from '../../core/index.js';
import { SwitchboardError } from '../../core/errors.js';
import type { CallRow } from '../../store/index.js';
import { requestKey } from '../shared/auth.js';
import { identify, requireCsrfUnderCookie } from '../shared/plumbing.js';

/**
 * Finds the organisation of the request's key (or keeps what an earlier hook found); sets the rate key.
 * Keyless or wrong-keyed requests are refused unless anonymous use is allowed (a wrong key is refused always).
 */
export function phonyAuth(app: FastifyInstance, core: Core, allowAnonymous: boolean): void {
  app.addHook('onRequest', async (req) => {
    // The key, or the dashboard's session cookie (FACES.md: Phony's routes take either).
    if (!(req as Partial<FastifyRequest>).org) await identify(core, req, requestKey(req, true));
  });
  // The shared budget of every face (RATE_LIMIT_PER_MINUTE), counted before a bad key is refused.
  app.addHook('onRequest', app.rateLimit());
  app.addHook('onRequest', async (req) => {
    if ((req as Partial<FastifyRequest>).org) return requireCsrfUnderCookie(req);
    const key = requestKey(req, true);
    if (key) throw new SwitchboardError('SB_ERR_UNAUTHENTICATED', 'Invalid API key');
    if (!allowAnonymous) throw new SwitchboardError('SB_ERR_UNAUTHENTICATED', 'An API key is required (Authorization: Bearer KEY or ?api_key=)');
  });
}

/**
 * The call a request names: the organisation's (by sid, carrier sid or id), or with anonymous use any call.
 * Not found: `SB_ERR_NOT_FOUND` (404 `CALL_NOT_FOUND`).
 */
export async function callOf(core: Core, req: FastifyRequest, callSid: string): Promise<CallRow> {
  const org = (req as Partial<FastifyRequest>).org;
  if (org) return core.calls.find(org.id, callSid);
  const call = await core.calls.findAny(callSid);
  if (!call) throw new SwitchboardError('SB_ERR_NOT_FOUND', 'Call not found', { resource: 'Call' });
  return call;
}
