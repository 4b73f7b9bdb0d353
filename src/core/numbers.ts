/**
 * Phone numbers an organisation owns: the number (E.164), its carrier (`sim` or `twilio`) and the carrier
 * credentials, sealed at rest with AES-256-GCM (core/secrets.ts) and never returned by an API.
 * A number may be assigned to an agent for inbound calls and/or to an agent for outbound calls.
 *
 * Credentials: a `twilio` number may carry its own account's (`{account_sid, auth_token}`, checked here);
 * calls from it are then placed on that account (`dialAccount`), not on the deployment's. A `sim` number
 * needs none: any given are stored sealed and never used (the simulated network has no accounts).
 */
import { createHash } from 'node:crypto';
import { isE164 } from '../lib/phone.js';
import { isUuid, newId } from '../lib/ids.js';
import type { Db, PhoneNumberRow } from '../store/index.js';
import { SwitchboardError, notFound, validationError } from './errors.js';
import type { Secrets } from './secrets.js';

export const NUMBER_CARRIERS = ['sim', 'twilio'] as const;
export type NumberCarrier = (typeof NUMBER_CARRIERS)[number];

export interface PhoneNumberInput {
  number: string;
  carrier?: NumberCarrier;
  credentials?: Record<string, unknown> | null;
  inbound_agent_id?: string | null;
  outbound_agent_id?: string | null;
}

/** A number as APIs may show it: everything but the credentials (only whether there are some). */
export type PhoneNumberView = Omit<PhoneNumberRow, 'credentials'> & { has_credentials: boolean };

/** What a `twilio` number's credentials must hold: its account's SID (AC + 32 hex) and auth token. */
function checkCredentials(carrier: string, credentials: Record<string, unknown> | null | undefined): void {
  if (carrier !== 'twilio' || !credentials) return;
  const { account_sid: sid, auth_token: token } = credentials;
  if (typeof sid !== 'string' || !/^AC[0-9a-f]{32}$/.test(sid)) {
    throw validationError('credentials.account_sid', 'credentials.account_sid must be a Twilio Account SID (AC followed by 32 hex digits)');
  }
  if (typeof token !== 'string' || token.length < 1 || token.length > 256) {
    throw validationError('credentials.auth_token', "credentials.auth_token must be the account's auth token");
  }
}

export function numberView(r: PhoneNumberRow): PhoneNumberView {
  const { credentials, ...rest } = r;
  return { ...rest, has_credentials: credentials !== null };
}

/**
 * The simulated outbound number of an organisation: country code 999 is not assigned by the ITU, so the
 * number can never ring a real person; the 12 digits after it come from the organisation's id.
 */
export function simulatedNumberOf(orgId: string): string {
  const digits = BigInt('0x' + createHash('sha256').update(orgId).digest('hex').slice(0, 15)) % 10n ** 12n;
  return '+999' + digits.toString().padStart(12, '0');
}

/**
 * Gives the organisation its simulated outbound number, unless it has it already: the one place that makes
 * it (organisation creation, and on first need for an organisation older than that). Null when the number
 * belongs to another organisation (a 12-digit collision: then this one has none).
 */
export async function addSimulatedNumber(db: Db, orgId: string): Promise<PhoneNumberRow | null> {
  const number = simulatedNumberOf(orgId);
  const existing = await db.selectFrom('phone_numbers').selectAll().where('number', '=', number).executeTakeFirst();
  if (existing) return existing.org_id === orgId ? existing : null;
  await db
    .insertInto('phone_numbers')
    .values({ id: newId(), org_id: orgId, number, carrier: 'sim', credentials: null, inbound_agent_id: null, outbound_agent_id: null })
    .onConflict((oc) => oc.column('number').doNothing())
    .execute();
  const row = await db.selectFrom('phone_numbers').selectAll().where('number', '=', number).executeTakeFirst();
  return row?.org_id === orgId ? row : null;
}

export class PhoneNumbers {
  constructor(
    private readonly db: Db,
    private readonly secrets: Secrets,
    /** On the simulated network every organisation has a simulated number to call from (simulatedNumber). */
    private readonly simulatedNetwork = false,
  ) {}

  /**
   * The organisation's simulated outbound number (carrier `sim`, assigned to no agent, so every agent may call
   * from it) — so 003's create works out of the box on the simulated network. Made with the organisation
   * (Orgs.ensure); made here for an organisation older than that rule. Null on a real network, where numbers
   * are bought from a carrier and added by their owner.
   */
  async simulatedNumber(orgId: string): Promise<PhoneNumberRow | null> {
    if (!this.simulatedNetwork) return null;
    return addSimulatedNumber(this.db, orgId);
  }

  private async checkAgent(orgId: string, field: string, id: string | null | undefined): Promise<void> {
    if (id === undefined || id === null) return;
    const a = isUuid(id) ? await this.db.selectFrom('agents').select('id').where('id', '=', id).where('org_id', '=', orgId).executeTakeFirst() : undefined;
    if (!a) throw validationError(field, `${field} is not an agent of this organisation`);
  }

  async add(orgId: string, i: PhoneNumberInput): Promise<PhoneNumberRow> {
    if (!isE164(i.number)) throw validationError('number', 'number must be an E.164 phone number, e.g. +46700000000');
    const carrier = i.carrier ?? 'sim';
    if (!(NUMBER_CARRIERS as readonly string[]).includes(carrier)) throw validationError('carrier', `carrier must be one of ${NUMBER_CARRIERS.join(', ')}`);
    checkCredentials(carrier, i.credentials);
    await this.checkAgent(orgId, 'inbound_agent_id', i.inbound_agent_id);
    await this.checkAgent(orgId, 'outbound_agent_id', i.outbound_agent_id);
    const row = await this.db
      .insertInto('phone_numbers')
      .values({
        id: newId(),
        org_id: orgId,
        number: i.number,
        carrier,
        credentials: i.credentials ? this.secrets.seal(i.credentials) : null,
        inbound_agent_id: i.inbound_agent_id ?? null,
        outbound_agent_id: i.outbound_agent_id ?? null,
      })
      .onConflict((oc) => oc.column('number').doNothing())
      .returningAll()
      .executeTakeFirst();
    if (!row) throw new SwitchboardError('SB_ERR_VALIDATION', 'number is already registered', { field: 'number' });
    return row;
  }

  async list(orgId: string): Promise<PhoneNumberRow[]> {
    await this.simulatedNumber(orgId);
    return this.db.selectFrom('phone_numbers').selectAll().where('org_id', '=', orgId).orderBy('created_at').execute();
  }

  async get(orgId: string, id: string): Promise<PhoneNumberRow> {
    const r = isUuid(id)
      ? await this.db.selectFrom('phone_numbers').selectAll().where('id', '=', id).where('org_id', '=', orgId).executeTakeFirst()
      : undefined;
    if (!r) throw notFound('Phone number');
    return r;
  }

  async update(orgId: string, id: string, p: Partial<Omit<PhoneNumberInput, 'number'>>): Promise<PhoneNumberRow> {
    const current = await this.get(orgId, id);
    if (p.credentials !== undefined || p.carrier !== undefined) {
      checkCredentials(p.carrier ?? current.carrier, p.credentials !== undefined ? p.credentials : current.credentials ? this.secrets.open<Record<string, unknown>>(current.credentials) : null);
    }
    await this.checkAgent(orgId, 'inbound_agent_id', p.inbound_agent_id);
    await this.checkAgent(orgId, 'outbound_agent_id', p.outbound_agent_id);
    const set: Record<string, unknown> = { updated_at: new Date() };
    if (p.carrier !== undefined) set.carrier = p.carrier;
    if (p.credentials !== undefined) set.credentials = p.credentials ? this.secrets.seal(p.credentials) : null;
    if (p.inbound_agent_id !== undefined) set.inbound_agent_id = p.inbound_agent_id;
    if (p.outbound_agent_id !== undefined) set.outbound_agent_id = p.outbound_agent_id;
    return this.db.updateTable('phone_numbers').set(set).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
  }

  async remove(orgId: string, id: string): Promise<void> {
    await this.get(orgId, id);
    await this.db.deleteFrom('phone_numbers').where('id', '=', id).execute();
  }

  /** The carrier credentials of a number, unsealed (for the carrier adapter only). */
  async credentials(orgId: string, id: string): Promise<Record<string, unknown> | null> {
    const r = await this.get(orgId, id);
    return r.credentials ? this.secrets.open<Record<string, unknown>>(r.credentials) : null;
  }

  /**
   * The carrier account a call from `number` is placed on: the number's own credentials, unsealed, when the
   * organisation owns it as a `twilio` number stored with some; undefined otherwise (the deployment's
   * account). For the dialler only: the result must never be logged or stored.
   */
  async dialAccount(orgId: string, number: string | undefined): Promise<Record<string, unknown> | undefined> {
    if (!number) return undefined;
    const r = await this.db
      .selectFrom('phone_numbers')
      .select(['carrier', 'credentials'])
      .where('org_id', '=', orgId)
      .where('number', '=', number)
      .executeTakeFirst();
    if (r?.carrier !== 'twilio' || !r.credentials) return undefined;
    return this.secrets.open<Record<string, unknown>>(r.credentials);
  }

  /**
   * The stored credentials of a Twilio account, found by its SID: for a node that must verify a callback of
   * a call placed on that account elsewhere (another node, or before a restart). Scans the `twilio` numbers
   * that have credentials, as the SID is sealed with them; a deployment has few such numbers, and the carrier
   * keeps what it found, so this runs about once per account and node.
   */
  async twilioAccount(accountSid: string): Promise<Record<string, unknown> | undefined> {
    const rows = await this.db.selectFrom('phone_numbers').select('credentials').where('carrier', '=', 'twilio').where('credentials', 'is not', null).execute();
    for (const r of rows) {
      const c = this.secrets.open<Record<string, unknown>>(r.credentials!);
      if (c.account_sid === accountSid) return c;
    }
    return undefined;
  }

  /** Whether `number` is one of the organisation's own numbers. */
  async owns(orgId: string, number: string): Promise<boolean> {
    const r = await this.db.selectFrom('phone_numbers').select('id').where('org_id', '=', orgId).where('number', '=', number).executeTakeFirst();
    return !!r;
  }

  /** The numbers assigned to an agent for outbound calls. */
  async outboundFor(orgId: string, agentId: string): Promise<PhoneNumberRow[]> {
    return this.db.selectFrom('phone_numbers').selectAll().where('org_id', '=', orgId).where('outbound_agent_id', '=', agentId).orderBy('created_at').execute();
  }

  /** Who answers an inbound call to `number`: its organisation and agent, if it is assigned. */
  async inboundAgent(number: string): Promise<{ orgId: string; agentId: string } | null> {
    const r = await this.db.selectFrom('phone_numbers').select(['org_id', 'inbound_agent_id']).where('number', '=', number).executeTakeFirst();
    return r?.inbound_agent_id ? { orgId: r.org_id, agentId: r.inbound_agent_id } : null;
  }
}
