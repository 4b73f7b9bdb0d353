/**
 * Calendar connections: each API key may connect one calendar (001: "authorize once per API key"): a Google
 * Calendar through OAuth, or a CalDAV calendar collection with its URL and credentials (an extension).
 * The consent request's `state` is random, stored only as its hash, used once and expires after ten
 * minutes. Tokens and CalDAV credentials are sealed with the deployment key (core/secrets.ts) and never
 * leave the core; a refreshed access token is sealed back after the request that refreshed it.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { OAuth2Client } from 'google-auth-library';
import type { Config } from '../../config/index.js';
import type { Logger } from '../../lib/logger.js';
import type { Db } from '../../store/index.js';
import { SwitchboardError, validationError } from '../errors.js';
import type { CallRequest } from '../calls/request.js';
import { callTimeZone } from './time-zone.js';
import { checkWebhookUrl } from '../webhooks/target.js';
import type { Secrets } from '../secrets.js';
import { CalendarError, type Calendar } from './calendar.js';
import { GoogleCalendar, classify } from './google/google-calendar.js';
import { CaldavCalendar, type CaldavAccount } from './caldav/caldav-calendar.js';
import { consentUrl, googleOAuthClient, GOOGLE_CALENDAR_SCOPE } from './google/google-oauth.js';

/** How long a consent link may wait for Google's callback. */
export const STATE_TTL_MS = 10 * 60_000;

/** What `calendar_grants.sealed_tokens` holds, sealed. */
interface SealedTokens {
  access_token: string;
  refresh_token: string;
}

export interface CalendarStatus {
  authorized: boolean;
  /** Which calendar is connected (an extension): `google` or `caldav`; null when none. */
  provider: 'google' | 'caldav' | null;
  scopes: string[];
  /** When the current access token expires (it is refreshed before then); null when not authorised. */
  expires_at: string | null;
}

/** Who a completed consent was for. */
export interface CalendarGrantOwner {
  orgId: string;
  keyId: string;
}

const hashState = (state: string) => createHash('sha256').update(state).digest('hex');

export class CalendarConnections {
  constructor(private readonly o: { db: Db; secrets: Secrets; config: Config; log: Logger }) {}

  /** Whether a Google OAuth client is configured (GOOGLE_CLIENT_ID / GOOGLE_CLIENT_SECRET). */
  get configured(): boolean {
    return !!this.o.config.google;
  }

  private async client(): Promise<OAuth2Client> {
    const google = this.o.config.google;
    // A feature this deployment does not have (not a passing outage): 404, nothing to retry.
    if (!google) throw new SwitchboardError('SB_ERR_NOT_FOUND', 'Google Calendar is not configured on this server', { setting: 'GOOGLE_CLIENT_ID' });
    return googleOAuthClient(google);
  }

  /**
   * A call with `enable_calendar`: its agent books in the calendar connected for the key that starts it
   * (001: "authorize once per API key"), in the call's time zone. Refused (400, `enable_calendar`) when
   * there is none, rather than accepted and left without its tools.
   */
  async prepareCall(req: CallRequest, keyId: string | undefined): Promise<void> {
    if (!req.calendar.enabled) return;
    const connected = keyId && (await this.o.db.selectFrom('calendar_grants').select('provider').where('key_id', '=', keyId).executeTakeFirst());
    // A Google grant is of no use on a server that no longer has the OAuth client; a CalDAV one needs none.
    if (connected && connected.provider !== 'caldav' && !this.configured) throw validationError('enable_calendar', 'enable_calendar: Google Calendar is not configured on this server');
    if (!connected) {
      const how = this.configured ? 'GET /auth/google/calendar or POST /v1/calendar/caldav' : 'POST /v1/calendar/caldav';
      throw validationError('enable_calendar', `enable_calendar: no calendar is authorized for this API key (${how})`);
    }
    req.calendar.keyId = keyId;
    req.calendar.timeZone = callTimeZone(req, this.o.config.calendarTimeZone);
  }

  /** Starts a consent for `keyId`: the URL to send the user to, and its state. */
  async authorize(orgId: string, keyId: string): Promise<{ authUrl: string; state: string }> {
    const client = await this.client();
    const state = randomBytes(24).toString('base64url');
    const now = Date.now();
    await this.o.db.deleteFrom('calendar_oauth_states').where('expires_at', '<', new Date(now)).execute();
    await this.o.db
      .insertInto('calendar_oauth_states')
      .values({ state_hash: hashState(state), key_id: keyId, org_id: orgId, expires_at: new Date(now + STATE_TTL_MS) })
      .execute();
    return { authUrl: consentUrl(client, state), state };
  }

  /**
   * Google's callback: the state is taken (so a second use fails), the code exchanged, and the grant stored
   * for the key that asked, replacing any earlier one. Throws a validation error for an unknown, used or
   * expired state, or a denied consent; a provider error when Google refuses the code.
   */
  async complete(q: { code?: string; state?: string; error?: string }): Promise<CalendarGrantOwner> {
    const client = await this.client();
    if (!q.state) throw new SwitchboardError('SB_ERR_VALIDATION', 'Invalid or expired authorization request', { field: 'state' });
    const pending = await this.o.db
      .deleteFrom('calendar_oauth_states')
      .where('state_hash', '=', hashState(q.state))
      .returning(['key_id', 'org_id', 'expires_at'])
      .executeTakeFirst();
    if (!pending || pending.expires_at.getTime() < Date.now()) {
      throw new SwitchboardError('SB_ERR_VALIDATION', 'Invalid or expired authorization request', { field: 'state' });
    }
    if (q.error) throw new SwitchboardError('SB_ERR_VALIDATION', 'Calendar authorization was not granted', { field: 'error', reason: q.error.slice(0, 64) });
    if (!q.code) throw new SwitchboardError('SB_ERR_VALIDATION', 'Missing code', { field: 'code' });
    let tokens;
    try {
      tokens = (await client.getToken(q.code)).tokens;
    } catch (err) {
      throw new SwitchboardError('SB_ERR_PROVIDER', 'Google refused the authorization code', { provider: 'google' }, false, { cause: classify(err) });
    }
    const prior = await this.grant(pending.key_id);
    const refresh = tokens.refresh_token ?? (prior?.provider === 'google' ? prior.tokens.refresh_token : undefined);
    if (!tokens.access_token || !refresh) {
      throw new SwitchboardError('SB_ERR_PROVIDER', 'Google returned no refresh token', { provider: 'google' });
    }
    const scopes = tokens.scope ? tokens.scope.split(/\s+/).filter(Boolean) : [GOOGLE_CALENDAR_SCOPE];
    const row = {
      key_id: pending.key_id,
      org_id: pending.org_id,
      provider: 'google',
      sealed_tokens: this.o.secrets.seal({ access_token: tokens.access_token, refresh_token: refresh } satisfies SealedTokens),
      scopes: JSON.stringify(scopes),
      access_expires_at: new Date(tokens.expiry_date ?? Date.now() + 3600_000),
      updated_at: new Date(),
    };
    await this.o.db
      .insertInto('calendar_grants')
      .values(row)
      .onConflict((oc) => oc.column('key_id').doUpdateSet({ ...row, key_id: undefined }))
      .execute();
    return { orgId: pending.org_id, keyId: pending.key_id };
  }

  /**
   * Connects a CalDAV calendar collection for `keyId` (an extension), replacing any calendar it had: the
   * collection is checked first (it must be a calendar these credentials may read), then the URL and the
   * credentials are stored sealed. A refusal is a validation error naming the field at fault.
   */
  async connectCaldav(orgId: string, keyId: string, account: CaldavAccount): Promise<void> {
    // The server fetches this URL for the client: the same rule as webhook targets (in production: https,
    // and no private or local address), so a key cannot point it into the deployment's own network.
    const refused = checkWebhookUrl(account.url, { production: this.o.config.nodeEnv === 'production' });
    if (refused) throw validationError('url', refused.replace(/^webhook URL/, 'url') + ' (the URL of a CalDAV calendar collection)');
    try {
      await new CaldavCalendar(account).check();
    } catch (err) {
      const e = err instanceof CalendarError ? err : new CalendarError('provider', 'the CalDAV server failed');
      if (e.kind === 'auth') throw validationError('password', 'the CalDAV server refused the username and password');
      if (e.kind === 'not_found') throw validationError('url', 'url is not a CalDAV calendar collection');
      throw new SwitchboardError('SB_ERR_PROVIDER', 'The CalDAV server did not answer', { provider: 'caldav' }, true, { cause: e });
    }
    const row = {
      key_id: keyId,
      org_id: orgId,
      provider: 'caldav',
      sealed_tokens: this.o.secrets.seal({ url: account.url, username: account.username, password: account.password } satisfies CaldavAccount),
      scopes: JSON.stringify([]),
      access_expires_at: null,
      updated_at: new Date(),
    };
    await this.o.db
      .insertInto('calendar_grants')
      .values(row)
      .onConflict((oc) => oc.column('key_id').doUpdateSet({ ...row, key_id: undefined }))
      .execute();
  }

  /**
   * Whether `keyId` has a working grant. An access token about to expire is refreshed here (and sealed
   * back); a grant Google no longer honours (revoked in the Google account) is forgotten. A CalDAV
   * connection is reported as it is stored (its server is asked when a call uses it).
   */
  async status(keyId: string): Promise<CalendarStatus> {
    const none: CalendarStatus = { authorized: false, provider: null, scopes: [], expires_at: null };
    const stored = await this.grant(keyId);
    if (stored?.provider === 'caldav') return { authorized: true, provider: 'caldav', scopes: [], expires_at: null };
    if (!this.configured) return none;
    const grant = stored;
    if (!grant) return none;
    const session = await this.session(keyId, grant);
    try {
      await session.run(() => session.client.getAccessToken());
    } catch (err) {
      if (err instanceof CalendarError && err.kind === 'auth') return none;
      throw new SwitchboardError('SB_ERR_PROVIDER', 'Google did not answer', { provider: 'google' }, true, { cause: err });
    }
    const fresh = await this.grant(keyId);
    if (fresh?.provider !== 'google') return none;
    return { authorized: true, provider: 'google', scopes: fresh.scopes, expires_at: fresh.expiresAt.toISOString() };
  }

  /** Revokes the grant at Google (best effort: it may be gone there already) and forgets it. False when there was none. */
  async revoke(keyId: string): Promise<boolean> {
    const grant = await this.grant(keyId);
    if (!grant) return false;
    // A CalDAV connection has nothing to revoke at the server: forgetting its credentials ends it.
    if (grant.provider === 'google' && this.configured) {
      try {
        // Revoking the refresh token ends the whole grant, access tokens included.
        await (await this.client()).revokeToken(grant.tokens.refresh_token);
      } catch (err) {
        const c = classify(err);
        // 400 invalid_token: Google no longer knows it; anything else is worth telling, but the grant still goes.
        if (c.status !== 400) this.o.log.warn({ kind: c.kind, status: c.status, provider: 'google' }, 'calendar revoke at Google failed');
      }
    }
    await this.o.db.deleteFrom('calendar_grants').where('key_id', '=', keyId).execute();
    return true;
  }

  /** The calendar `keyId` connected, for a call's agent; null when it has none (or Google is not configured). */
  async open(keyId: string): Promise<Calendar | null> {
    const grant = await this.grant(keyId);
    if (grant?.provider === 'caldav') return new CaldavCalendar(grant.account);
    if (!this.configured || !grant) return null;
    const session = await this.session(keyId, grant);
    const google = new GoogleCalendar(session.client, this.o.config.google!.calendarBaseUrl);
    return {
      busy: (from, to, tz) => session.run(() => google.busy(from, to, tz)),
      insert: (e) => session.run(() => google.insert(e)),
      update: (id, e) => session.run(() => google.update(id, e)),
      remove: (id) => session.run(() => google.remove(id)),
    };
  }

  /**
   * A client holding the grant's tokens. `run` does one piece of work with it and then seals back an access
   * token the client refreshed meanwhile; when Google refuses the refresh token, the grant is forgotten.
   */
  private async session(keyId: string, grant: GoogleGrant) {
    const client = await this.client();
    client.setCredentials({
      access_token: grant.tokens.access_token,
      refresh_token: grant.tokens.refresh_token,
      expiry_date: grant.expiresAt.getTime(),
    });
    const run = async <T>(work: () => Promise<T>): Promise<T> => {
      try {
        return await work();
      } catch (err) {
        const c = classify(err);
        if (c.kind === 'auth' && client.credentials.access_token === grant.tokens.access_token) await this.forget(keyId, c);
        throw c;
      } finally {
        await this.saveRefreshed(keyId, grant, client);
      }
    };
    return { client, run };
  }

  private async saveRefreshed(keyId: string, grant: GoogleGrant, client: OAuth2Client): Promise<void> {
    const c = client.credentials;
    if (!c.access_token || c.access_token === grant.tokens.access_token) return;
    const tokens: SealedTokens = { access_token: c.access_token, refresh_token: c.refresh_token ?? grant.tokens.refresh_token };
    grant.tokens = tokens;
    grant.expiresAt = new Date(c.expiry_date ?? Date.now() + 3600_000);
    await this.o.db
      .updateTable('calendar_grants')
      .set({ sealed_tokens: this.o.secrets.seal(tokens), access_expires_at: grant.expiresAt, updated_at: new Date() })
      .where('key_id', '=', keyId)
      .execute();
  }

  /** The refresh token no longer works (revoked or expired at Google): the key is no longer connected. */
  private async forget(keyId: string, err: CalendarError): Promise<void> {
    this.o.log.warn({ kind: err.kind, status: err.status, oauthError: err.oauthError, provider: 'google' }, 'calendar grant no longer valid; forgotten');
    await this.o.db.deleteFrom('calendar_grants').where('key_id', '=', keyId).execute();
  }

  private async grant(keyId: string): Promise<Grant | undefined> {
    const row = await this.o.db.selectFrom('calendar_grants').selectAll().where('key_id', '=', keyId).executeTakeFirst();
    if (!row) return undefined;
    try {
      if (row.provider === 'caldav') return { provider: 'caldav', account: this.o.secrets.open<CaldavAccount>(row.sealed_tokens) };
      const tokens = this.o.secrets.open<SealedTokens>(row.sealed_tokens);
      return { provider: 'google', tokens, scopes: row.scopes, expiresAt: row.access_expires_at ?? new Date(0) };
    } catch {
      // Sealed with another deployment key: as good as no grant (the user connects again).
      return undefined;
    }
  }
}

interface GoogleGrant {
  provider: 'google';
  tokens: SealedTokens;
  scopes: string[];
  expiresAt: Date;
}

type Grant = GoogleGrant | { provider: 'caldav'; account: CaldavAccount };
