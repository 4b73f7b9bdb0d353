/**
 * Organisations and their API keys. A key is shown once, when created; only its SHA-256 is stored.
 * (A fast hash is right here: keys are 190 bits of randomness, so there is nothing to brute-force, and
 * every request is authenticated by one indexed lookup.)
 */
import { createHash, randomBytes } from 'node:crypto';
import type { ApiKeyRow, Db, OrgRow } from '../store/index.js';
import { SwitchboardError, notFound } from './errors.js';
import { isUuid, newId } from '../lib/ids.js';
import { appendEntry, inTransaction, setBalance } from './credits/index.js';
import { addSimulatedNumber } from './numbers.js';

export interface Org {
  id: string;
  name: string;
  /** The API key the request was authenticated with, or the one its dashboard session signed in with (a calendar is connected per key; recording URLs and live tokens die with it). */
  keyId?: string;
}

const KEY_PREFIX = 'sk_';
/** How many leading characters of a key are stored in clear, to recognise it in lists. */
const PREFIX_LENGTH = 10;

export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** A key as listings show it: never the hash, only the prefix to tell keys apart. */
export type ApiKeyView = Omit<ApiKeyRow, 'hash'>;

function newKey(): string {
  return KEY_PREFIX + randomBytes(24).toString('base64url');
}

function nameTaken(): SwitchboardError {
  return new SwitchboardError('SB_ERR_VALIDATION', 'name is taken by another organization', { field: 'name' });
}

export function newWebhookSecret(): string {
  return 'whsec_' + randomBytes(24).toString('base64url');
}

export interface OrgsOptions {
  /**
   * The deployment's carrier is the simulated network: every organisation is made with its simulated outbound
   * number (core/numbers.ts), so an agent can call from the start.
   */
  simulatedNetwork?: boolean;
  /** How long an authenticated key, or a refused one, is remembered (default 1 s; see `cache`, `refused`). */
  cacheMs?: number;
}

export class Orgs {
  /**
   * Recently authenticated keys (hash → org), so a burst of requests costs one lookup. Kept one second at
   * most: a key revoked on any node (or straight in the database) is refused everywhere within a second,
   * with no invalidation message to lose.
   */
  private readonly cache = new Map<string, { org: Org; until: number }>();
  /**
   * Keys refused recently (hash → until), for as long: a client retrying with a revoked or mistyped key costs
   * one lookup a second, not one a request. A map of its own, so a flood of made-up keys cannot push the good
   * ones out of `cache`. A key cannot be refused before it exists (keys are random), so this hides nothing.
   */
  private readonly refused = new Map<string, number>();
  /** The pending first key (see `pendingFirstKey`): its first use ends the pending record. */
  private firstKeyId: string | undefined;

  private readonly cacheMs: number;

  constructor(
    private readonly db: Db,
    private readonly opts: OrgsOptions = {},
  ) {
    this.cacheMs = opts.cacheMs ?? 1_000;
  }

  /** The same service working in `trx` (a transaction), with the same options. */
  in(trx: Db): Orgs {
    return new Orgs(trx, this.opts);
  }

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

  /**
   * Creates the organisation if it does not exist; `credits` are its opening grant in the credit ledger, and
   * on the simulated network it gets its simulated outbound number (written with the organisation, in one
   * transaction). Every way an organisation is made goes through here.
   */
  async ensure(name: string, opts: { credits?: number; webhookSecret?: string } = {}): Promise<{ org: OrgRow; created: boolean }> {
    const found = await this.findByName(name);
    if (found) return { org: found, created: false };
    const insert = async (db: Db) => {
      const org = await db
        .insertInto('orgs')
        .values({ id: newId(), name, webhook_secret: opts.webhookSecret ?? null })
        .onConflict((oc) => oc.column('name').doNothing())
        .returningAll()
        .executeTakeFirst();
      if (org && opts.credits) await appendEntry(db, { orgId: org.id, kind: 'grant', amount: opts.credits, note: 'opening balance' });
      if (org && this.opts.simulatedNetwork) await addSimulatedNumber(db, org.id);
      return org;
    };
    const org = await inTransaction(this.db, insert);
    if (org) return { org, created: true };
    return { org: (await this.findByName(name))!, created: false };
  }

  /** Creates a key for the organisation and returns it in full (the only time it is seen). */
  async createKey(orgId: string, name?: string): Promise<string> {
    return (await this.insertKey(orgId, name)).key;
  }

  /** Creates a key owned by a user; returns it in full (the only time it is seen) with how listings show it. */
  async createUserKey(orgId: string, userId: string, name: string | null): Promise<{ key: string; view: ApiKeyView }> {
    const { id, key } = await this.insertKey(orgId, name ?? undefined, userId);
    return { key, view: await this.getKey(orgId, id) };
  }

  private async insertKey(orgId: string, name?: string, userId?: string): Promise<{ id: string; key: string }> {
    const key = newKey();
    const id = newId();
    await this.db
      .insertInto('api_keys')
      .values({ id, org_id: orgId, prefix: key.slice(0, PREFIX_LENGTH), hash: hashKey(key), name: name ?? null, revoked_at: null, user_id: userId ?? null })
      .execute();
    return { id, key };
  }

  /** An organisation's keys, newest first; only `userId`'s when given. */
  async listKeys(orgId: string, userId?: string): Promise<ApiKeyView[]> {
    let q = this.db.selectFrom('api_keys').select(['id', 'org_id', 'prefix', 'name', 'created_at', 'revoked_at', 'user_id']).where('org_id', '=', orgId);
    if (userId) q = q.where('user_id', '=', userId);
    return q.orderBy('created_at', 'desc').orderBy('id').execute();
  }

  async getKey(orgId: string, id: string): Promise<ApiKeyView> {
    const row = isUuid(id)
      ? await this.db
          .selectFrom('api_keys')
          .select(['id', 'org_id', 'prefix', 'name', 'created_at', 'revoked_at', 'user_id'])
          .where('org_id', '=', orgId)
          .where('id', '=', id)
          .executeTakeFirst()
      : undefined;
    if (!row) throw notFound('API key');
    return row;
  }

  /**
   * Revokes one key by its id (already revoked: unchanged). Dashboard sessions signed in with it end with
   * it (they are looked up through the key), on every node at once; key authentication within a second.
   */
  async revokeKeyById(orgId: string, id: string): Promise<ApiKeyView> {
    await this.getKey(orgId, id);
    const rows = await this.db
      .updateTable('api_keys')
      .set({ revoked_at: new Date() })
      .where('org_id', '=', orgId)
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .returning('hash')
      .execute();
    for (const r of rows) this.cache.delete(r.hash);
    return this.getKey(orgId, id);
  }

  /** Revokes a live key and makes a new one with the same name and owner; the new key is returned once. */
  async regenerateKey(orgId: string, id: string): Promise<{ key: string; view: ApiKeyView }> {
    const old = await this.getKey(orgId, id);
    if (old.revoked_at) throw new SwitchboardError('SB_ERR_VALIDATION', 'API key is revoked; create a new one', { field: 'id' });
    await this.revokeKeyById(orgId, id);
    const { id: newKeyId, key } = await this.insertKey(orgId, old.name ?? undefined, old.user_id ?? undefined);
    return { key, view: await this.getKey(orgId, newKeyId) };
  }

  /**
   * Whether the key `keyId` of `orgId` is still live: what a short-lived token issued under a key asks when it is
   * used (a revoked key's tokens die with it).
   */
  async keyLive(orgId: string, keyId: string): Promise<boolean> {
    if (!isUuid(keyId)) return false;
    const row = await this.db
      .selectFrom('api_keys')
      .select('id')
      .where('org_id', '=', orgId)
      .where('id', '=', keyId)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return row !== undefined;
  }

  /** The key's id and owner, for a key that authenticates (sign-in), else null. */
  async keyRecord(key: string): Promise<{ id: string; orgId: string; userId: string | null } | null> {
    if (!key.startsWith(KEY_PREFIX) || key.length > 200) return null;
    const row = await this.db
      .selectFrom('api_keys')
      .select(['id', 'org_id', 'user_id'])
      .where('hash', '=', hashKey(key))
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return row ? { id: row.id, orgId: row.org_id, userId: row.user_id } : null;
  }

  /** Renames an organisation; a name another organisation has is refused (names are unique). */
  async rename(orgId: string, name: string): Promise<OrgRow> {
    const taken = await this.findByName(name);
    if (taken && taken.id !== orgId) throw nameTaken();
    try {
      const row = await this.db.updateTable('orgs').set({ name }).where('id', '=', orgId).returningAll().executeTakeFirst();
      if (!row) throw notFound('Organization');
      return row;
    } catch (err) {
      // Taken between the check and the update by another request.
      if ((err as { code?: string }).code === '23505') throw nameTaken();
      throw err;
    }
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

  /** Brings the organisation's credit balance to `credits` with one grant of the difference (tests, operators). */
  async setCredits(orgId: string, credits: number): Promise<void> {
    await setBalance(this.db, orgId, credits, 'balance set');
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
    if ((this.refused.get(hash) ?? 0) > now) return null;
    const row = await this.db
      .selectFrom('api_keys')
      .innerJoin('orgs', 'orgs.id', 'api_keys.org_id')
      .select(['orgs.id as id', 'orgs.name as name', 'api_keys.id as key_id'])
      .where('api_keys.hash', '=', hash)
      .where('api_keys.revoked_at', 'is', null)
      .executeTakeFirst();
    if (!row) {
      if (this.refused.size > 10_000) this.refused.clear();
      this.refused.set(hash, now + this.cacheMs);
      return null;
    }
    if (row.key_id === this.firstKeyId) await this.firstKeyUsed(row.key_id);
    const org: Org = { id: row.id, name: row.name, keyId: row.key_id };
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
