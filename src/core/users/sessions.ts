/**
 * Dashboard sign-ins. Signing in with an API key makes a session for the key's owner (users.ts): a random
 * token for the cookie, stored only as its SHA-256, and a CSRF token the page sends back on every change.
 * A session is looked up through its key on every request, so revoking the key ends it everywhere at once;
 * it also ends at its expiry (SESSION_TTL_HOURS) or at sign-out.
 */
import { randomBytes } from 'node:crypto';
import type { Db, OrgRow, UserRow } from '../../store/index.js';
import { hashKey, type Org, type Orgs } from '../orgs.js';
import type { Users } from './users.js';

/** Who a session's requests act as. */
export interface SessionAuth {
  org: Org;
  user: UserRow;
  keyId: string;
  /** The key's hash: the session shares its key's rate-limit budget. */
  keyHash: string;
  csrfToken: string;
  expiresAt: Date;
}

const token = () => randomBytes(32).toString('base64url');

export class DashboardSessions {
  constructor(
    private readonly db: Db,
    private readonly orgs: Orgs,
    private readonly users: Users,
    private readonly ttlMs: number,
  ) {}

  /** Signs in with an API key: the new session's cookie token and who it is, or null for a bad key. */
  async signIn(apiKey: string): Promise<{ token: string; auth: SessionAuth } | null> {
    const key = await this.orgs.keyRecord(apiKey);
    if (!key) return null;
    const user = await this.users.ownerOfKey(key);
    return this.start(user, key.id);
  }

  /** A session for `user` on one of their keys (sign-in, an accepted invitation). */
  async start(user: UserRow, keyId: string): Promise<{ token: string; auth: SessionAuth } | null> {
    const cookie = token();
    const csrfToken = token();
    const expiresAt = new Date(Date.now() + this.ttlMs);
    await this.db
      .insertInto('dashboard_sessions')
      .values({ token_hash: hashKey(cookie), org_id: user.org_id, user_id: user.id, key_id: keyId, csrf_token: csrfToken, expires_at: expiresAt })
      .execute();
    const auth = await this.find(cookie);
    return auth && { token: cookie, auth };
  }

  /** The live session of a cookie token: not expired, its key not revoked. */
  async find(cookie: string): Promise<SessionAuth | null> {
    if (cookie.length > 100) return null;
    const row = await this.db
      .selectFrom('dashboard_sessions as s')
      .innerJoin('api_keys as k', 'k.id', 's.key_id')
      .innerJoin('users as u', 'u.id', 's.user_id')
      .innerJoin('orgs as o', 'o.id', 's.org_id')
      .select(['s.key_id', 's.csrf_token', 's.expires_at', 'k.hash', 'o.name as org_name'])
      .selectAll('u')
      .where('s.token_hash', '=', hashKey(cookie))
      .where('s.expires_at', '>', new Date())
      .where('k.revoked_at', 'is', null)
      .executeTakeFirst();
    if (!row) return null;
    const { key_id, csrf_token, expires_at, hash, org_name, ...user } = row;
    // The org as its key would see it: what is issued under the session (recording URLs, live tokens) dies with that key.
    return { org: { id: user.org_id, name: org_name, keyId: key_id }, user, keyId: key_id, keyHash: hash, csrfToken: csrf_token, expiresAt: new Date(expires_at) };
  }

  /** Ends a session (sign-out); expired ones go with it. */
  async end(cookie: string): Promise<void> {
    await this.db
      .deleteFrom('dashboard_sessions')
      .where((eb) => eb.or([eb('token_hash', '=', hashKey(cookie)), eb('expires_at', '<', new Date())]))
      .execute();
  }

  /** The organisations a user's e-mail address is a user of (theirs first), for switching between them. */
  async orgsOf(user: UserRow): Promise<Array<OrgRow & { role: string }>> {
    const own = await this.orgs.get(user.org_id);
    const others = user.email
      ? await this.db
          .selectFrom('users')
          .innerJoin('orgs', 'orgs.id', 'users.org_id')
          .selectAll('orgs')
          .select('users.role')
          .where('users.email', '=', user.email)
          .where('orgs.id', '!=', user.org_id)
          .orderBy('orgs.created_at')
          .execute()
      : [];
    return [...(own ? [{ ...own, role: user.role }] : []), ...others];
  }
}
