/**
 * Organisations and their API keys. A key is shown once, when created; only its SHA-256 is stored.
 * (A fast hash is right here: keys are 190 bits of randomness, so there is nothing to brute-force, and
 * every request is authenticated by one indexed lookup.)
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Db, OrgRow } from '../store/index.js';
import { newId } from '../lib/ids.js';

export interface Org {
  id: string;
  name: string;
}

const KEY_PREFIX = 'sk_';
/** How many leading characters of a key are stored in clear, to recognise it in lists. */
const PREFIX_LENGTH = 10;

export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

function newKey(): string {
  return KEY_PREFIX + randomBytes(24).toString('base64url');
}

export function newWebhookSecret(): string {
  return 'whsec_' + randomBytes(24).toString('base64url');
}

export class Orgs {
  /**
   * Recently authenticated keys (hash → org), so a burst of requests costs one lookup. Kept one second at
   * most: a key revoked on any node (or straight in the database) is refused everywhere within a second,
   * with no invalidation message to lose.
   */
  private readonly cache = new Map<string, { org: Org; until: number }>();
  /** The pending first key (see `pendingFirstKey`): its first use ends the pending record. */
  private firstKeyId: string | undefined;

  constructor(
    private readonly db: Db,
    private readonly cacheMs = 1_000,
  ) {}

  async findByName(name: string): Promise<OrgRow | undefined> {
    return this.db.selectFrom('orgs').selectAll().where('name', '=', name).executeTakeFirst();
  }

  async get(id: string): Promise<OrgRow | undefined> {
    return this.db.selectFrom('orgs').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async count(): Promise<number> {
    const r = await this.db.selectFrom('orgs').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
    return Number(r.n);
  }

  /** Creates the organisation if it does not exist. */
  async ensure(name: string, opts: { credits?: number; webhookSecret?: string } = {}): Promise<{ org: OrgRow; created: boolean }> {
    const found = await this.findByName(name);
    if (found) return { org: found, created: false };
    const org = await this.db
      .insertInto('orgs')
      .values({ id: newId(), name, credits: opts.credits ?? 0, webhook_secret: opts.webhookSecret ?? null })
      .onConflict((oc) => oc.column('name').doNothing())
      .returningAll()
      .executeTakeFirst();
    if (org) return { org, created: true };
    return { org: (await this.findByName(name))!, created: false };
  }

  /** Creates a key for the organisation and returns it in full (the only time it is seen). */
  async createKey(orgId: string, name?: string): Promise<string> {
    return (await this.insertKey(orgId, name)).key;
  }

  private async insertKey(orgId: string, name?: string): Promise<{ id: string; key: string }> {
    const key = newKey();
    const id = newId();
    await this.db
      .insertInto('api_keys')
      .values({ id, org_id: orgId, prefix: key.slice(0, PREFIX_LENGTH), hash: hashKey(key), name: name ?? null, revoked_at: null })
      .execute();
    return { id, key };
  }

  /**
   * The first start's key: created with a pending record holding it sealed (`seal`, the deployment key), so
   * that a start which fails after this can show it again. The record goes when the key is first used.
   * Use on an `Orgs` over a transaction, with the organisation's creation.
   */
  async createFirstKey(orgId: string, seal: (key: string) => string): Promise<string> {
    const { id, key } = await this.insertKey(orgId, 'first start');
    await this.db.insertInto('pending_first_key').values({ key_id: id, sealed: seal(key) }).execute();
    return key;
  }

  /** The sealed first key while it has not been used, and the org it belongs to; watches for its first use. */
  async pendingFirstKey(): Promise<{ sealed: string; orgId: string } | undefined> {
    const row = await this.db
      .selectFrom('pending_first_key')
      .innerJoin('api_keys', 'api_keys.id', 'pending_first_key.key_id')
      .select(['pending_first_key.key_id', 'pending_first_key.sealed', 'api_keys.org_id'])
      .where('api_keys.revoked_at', 'is', null)
      .executeTakeFirst();
    this.firstKeyId = row?.key_id;
    return row && { sealed: row.sealed, orgId: row.org_id };
  }

  async setWebhookSecret(orgId: string, secret: string | null): Promise<void> {
    await this.db.updateTable('orgs').set({ webhook_secret: secret }).where('id', '=', orgId).execute();
  }

  /** Gives the organisation a new webhook signing secret at once (deliveries from now on use it) and returns it. */
  async rotateWebhookSecret(orgId: string): Promise<string> {
    const secret = newWebhookSecret();
    await this.setWebhookSecret(orgId, secret);
    return secret;
  }

  async setCredits(orgId: string, credits: number): Promise<void> {
    await this.db.updateTable('orgs').set({ credits }).where('id', '=', orgId).execute();
  }

  /**
   * Revokes one of an organisation's keys, given in full or by its stored prefix (its first 10 characters);
   * returns how many were revoked. Other nodes stop accepting it within their one-second cache.
   */
  async revokeKey(orgId: string, keyOrPrefix: string): Promise<number> {
    const full = keyOrPrefix.length > PREFIX_LENGTH;
    if (keyOrPrefix.length < PREFIX_LENGTH) throw new Error('a key prefix has 10 characters');
    const rows = await this.db
      .updateTable('api_keys')
      .set({ revoked_at: new Date() })
      .where('org_id', '=', orgId)
      .where(full ? 'hash' : 'prefix', '=', full ? hashKey(keyOrPrefix) : keyOrPrefix)
      .where('revoked_at', 'is', null)
      .returning('hash')
      .execute();
    for (const r of rows) this.cache.delete(r.hash);
    return rows.length;
  }

  /** The organisation a key belongs to, or null for an unknown or revoked key. */
  async authenticate(key: string): Promise<Org | null> {
    if (!key.startsWith(KEY_PREFIX) || key.length > 200) return null;
    const hash = hashKey(key);
    const now = Date.now();
    const hit = this.cache.get(hash);
    if (hit && hit.until > now) return hit.org;
    const row = await this.db
      .selectFrom('api_keys')
      .innerJoin('orgs', 'orgs.id', 'api_keys.org_id')
      .select(['orgs.id as id', 'orgs.name as name', 'api_keys.id as key_id'])
      .where('api_keys.hash', '=', hash)
      .where('api_keys.revoked_at', 'is', null)
      .executeTakeFirst();
    if (!row) return null;
    if (row.key_id === this.firstKeyId) await this.firstKeyUsed(row.key_id);
    const org: Org = { id: row.id, name: row.name };
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(hash, { org, until: now + this.cacheMs });
    return org;
  }

  /**
   * The first key has been used: it is no longer shown at start. A failure here must not fail the request
   * being authenticated; the record then stays and the next lookup of the key tries again.
   */
  private async firstKeyUsed(keyId: string): Promise<void> {
    try {
      await this.db.deleteFrom('pending_first_key').where('key_id', '=', keyId).execute();
      this.firstKeyId = undefined;
    } catch {
      // kept for the next lookup (see above)
    }
  }
}
