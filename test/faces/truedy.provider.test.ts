/**
 * A provider failure while placing a call (003 "Failed calls"): the carrier refuses to dial, the call is
 * stored `failed` with `context.last_error`, and the create answers 502 `provider_error` with the call's id.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Carrier } from '../../src/carriers/carrier.js';
import { BACKENDS } from '../helpers/backends.js';
import { EXAMPLE_AGENT_ID, startTruedy, type TruedyTest } from './truedy.helpers.js';

const refusing: Carrier = {
  name: 'refusing',
  capabilities: { dtmfOut: false, textMode: true, mediaStream: false, knowsDestinations: false, transfer: false },
  async dial() {
    throw new Error('carrier refused the call: account suspended');
  },
};

for (const backend of BACKENDS) {
  describe(`Truedy: provider errors [${backend.name}]`, () => {
    let T: TruedyTest;
    beforeAll(async () => {
      T = await startTruedy(backend, {}, refusing);
    });
    afterAll(() => T.t.close());

    it('a carrier that throws on dial → 502 provider_error with the call id; the call is stored failed with context.last_error', async () => {
      const body = { agent_id: EXAMPLE_AGENT_ID, phone_number: '+14155550123', variables: { first_name: 'Jane' } };
      const headers = { ...T.auth, 'X-Idempotency-Key': 'retry-me' };
      const r = await T.api('POST', '/calls', body, headers);
      expect(r.statusCode, r.body).toBe(502);
      const b = r.json();
      expect(b.error.code).toBe('provider_error');
      expect(typeof b.meta.request_id).toBe('string');
      const id = b.error.details.id;
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      expect(b.error.details.last_error).toBe('carrier refused the call: account suspended');

      const g = await T.api('GET', `/calls/${id}`);
      expect(g.statusCode).toBe(200);
      expect(g.json().data).toMatchObject({ id, status: 'failed', context: { last_error: 'carrier refused the call: account suspended' } });

      // The same request again under the same key: the same failed call, nothing dialled.
      const before = await T.callCount();
      const again = await T.api('POST', '/calls', body, headers);
      expect(again.statusCode).toBe(502);
      expect(again.json().error.details.id).toBe(id);
      expect(await T.callCount()).toBe(before);

      // A failed call can be deleted.
      expect((await T.api('DELETE', `/calls/${id}`)).statusCode).toBe(200);
    });
  });
}
