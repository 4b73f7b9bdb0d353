/**
 * Issue 13 §4: on the simulated network every organisation has its simulated outbound number from the moment
 * it is made (the development organisation of a first start, one made through the management route, one made
 * by the core's `Orgs.ensure` as `switchboard keys create` does), so 003's create works out of the box: the
 * number is in the store before anything asked for it, listed with the organisation's numbers, and an agent
 * with no number of its own calls from it through the Truedy face.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { createSwitchboard, type Switchboard } from '../../src/app.js';
import { Orgs } from '../../src/core/orgs.js';
import { createLogger } from '../../src/lib/logger.js';
import type { Store } from '../../src/store/index.js';
import { BACKENDS } from '../helpers/backends.js';
import { VirtualClock } from '../../src/lib/clock.js';

/** A destination the simulated network knows (scenarios/). */
const KNOWN = '+15550101';

for (const backend of BACKENDS) {
  describe(`Truedy: the simulated outbound number exists from the start [${backend.name}]`, { timeout: 120_000 }, () => {
    let store: Store | undefined;
    let sb: Switchboard | undefined;
    afterEach(async () => {
      await sb?.shutdown();
      await store?.close();
      sb = store = undefined;
    });

    async function start(): Promise<Switchboard> {
      store = await backend.open();
      const config = loadConfig({ LOG_LEVEL: 'silent', NODE_ENV: 'test', PORT: '0', SHUTDOWN_GRACE_SECONDS: '1', CARRIER: 'sim' });
      sb = await createSwitchboard(config, { log: createLogger('silent'), store, clock: new VirtualClock() as never });
      return sb;
    }

    /** The organisation's numbers as they are in the store (no listing, which would make a missing one). */
    const stored = (orgId: string) => store!.db.selectFrom('phone_numbers').selectAll().where('org_id', '=', orgId).execute();

    const inject = (method: string, url: string, key: string, payload?: unknown) =>
      sb!.app.inject({ method: method as 'GET', url, headers: { authorization: `Bearer ${key}` }, ...(payload !== undefined ? { payload: payload as object } : {}) });

    /** Lists the numbers through the API, makes an agent with none of its own, and creates a Truedy call with it. */
    async function callsOutOfTheBox(key: string, number: string): Promise<void> {
      const listed = await inject('GET', '/api/v1/phone-numbers', key);
      expect(listed.statusCode, listed.body).toBe(200);
      expect(listed.json().data).toEqual([expect.objectContaining({ phone_number: number, carrier: 'sim', has_credentials: false, outbound_agent_id: null })]);

      const agent = await inject('POST', '/api/v1/agents', key, { name: 'Fresh agent', system_prompt: 'Ask how they are.' });
      expect(agent.statusCode, agent.body).toBe(201);
      const created = await inject('POST', '/api/public/v1/calls', key, { agent_id: agent.json().data.id, phone_number: KNOWN });
      expect(created.statusCode, created.body).toBe(201);
      expect(created.json().data.from_number).toBe(number);
    }

    it('the development organisation of a first start has it before anything is asked, and its first call uses it', async () => {
      const sb = await start();
      const first = (await sb.bootstrapDevOrg())!;
      const org = (await sb.core.orgs.findByName('development'))!;
      const rows = await stored(org.id);
      expect(rows).toEqual([expect.objectContaining({ carrier: 'sim', credentials: null, inbound_agent_id: null, outbound_agent_id: null, number: expect.stringMatching(/^\+999\d{12}$/) })]);
      await callsOutOfTheBox(first.key!, rows[0].number);
    });

    it('an organisation made through the management route has it at once, and calls from it', async () => {
      const sb = await start();
      const first = (await sb.bootstrapDevOrg())!;
      const signIn = await sb.app.inject({ method: 'POST', url: '/auth/session', payload: { api_key: first.key } });
      expect(signIn.statusCode, signIn.body).toBe(200);
      const cookie = /sb_session=([^;]+)/.exec(String(signIn.headers['set-cookie']))![1];
      const made = await sb.app.inject({
        method: 'POST',
        url: '/api/v1/organizations',
        headers: { cookie: `sb_session=${cookie}`, 'x-csrf-token': signIn.json().csrf_token },
        payload: { name: 'Second office' },
      });
      expect(made.statusCode, made.body).toBe(201);
      const rows = await stored(made.json().data.organization.id);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ carrier: 'sim', number: expect.stringMatching(/^\+999\d{12}$/) });
      await callsOutOfTheBox(made.json().data.api_key, rows[0].number);
    });

    it('the core makes it with every organisation on the simulated network (as `keys create` does), and never on a real carrier', async () => {
      await start();
      const sim = await new Orgs(store!.db, { simulatedNetwork: true }).ensure('made by the CLI', { credits: 10 });
      expect(await stored(sim.org.id)).toEqual([expect.objectContaining({ carrier: 'sim', number: expect.stringMatching(/^\+999/) })]);
      // Ensuring it again makes nothing more.
      await new Orgs(store!.db, { simulatedNetwork: true }).ensure('made by the CLI');
      expect(await stored(sim.org.id)).toHaveLength(1);
      const real = await new Orgs(store!.db).ensure('on twilio', { credits: 10 });
      expect(await stored(real.org.id)).toEqual([]);
    });
  });
}
