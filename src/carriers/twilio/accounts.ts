/**
 * The Twilio accounts calls are placed on: the deployment's (TWILIO_ACCOUNT_SID), and the account of each
 * number stored with credentials of its own (issue 13 §4, "an agent's phone number dials through that
 * number's own carrier account"). Each account has its own REST client (made once, kept) and its own auth
 * token, with which Twilio signs every callback of that account's calls: a callback is verified with the
 * token of the account it claims, and a call answers only to callbacks of its own account.
 *
 * Which account a callback claims: HTTP callbacks of calls on a number's own account carry `account=AC…` in
 * their URL (Twilio signs the URL with its query, so the claim cannot be changed without the token); no
 * `account` means the deployment's. Media Streams drop query strings (protocols.md §3), so a media socket's
 * handshake is tried against every account this node knows, and the call its `start` names must be of the
 * account that signed it.
 */
import type { CarrierAccount } from '../carrier.js';
import { isValidTwilioSignature, type TwilioParams } from './twilio-signature.js';

/** One Twilio account's credentials; `apiKey` (deployment only) authenticates REST requests instead of the token. */
export interface TwilioAccount {
  accountSid: string;
  authToken: string;
  apiKey?: { sid: string; secret: string };
}

/** A number's own credentials (`{account_sid, auth_token}`, as core/numbers.ts checks them) as a Twilio account; null if they are not that. */
export function twilioAccountOf(credentials: CarrierAccount | undefined): TwilioAccount | null {
  const sid = credentials?.account_sid;
  const token = credentials?.auth_token;
  return typeof sid === 'string' && /^AC[0-9a-f]{32}$/.test(sid) && typeof token === 'string' && token ? { accountSid: sid, authToken: token } : null;
}

export class TwilioAccounts<Api> {
  /**
   * Accounts by SID, each with its client once made. Grows with the accounts calls were placed on or
   * callbacks named (a deployment's customers' accounts: few), so it is not bounded further.
   */
  private readonly known = new Map<string, { account: TwilioAccount; api?: Promise<Api> }>();

  constructor(
    readonly deployment: TwilioAccount,
    private readonly makeApi: (account: TwilioAccount) => Promise<Api>,
    /** Finds the stored credentials of an account this node has not used yet (the numbers' credentials). */
    private resolve?: (accountSid: string) => Promise<CarrierAccount | undefined>,
  ) {
    this.known.set(deployment.accountSid, { account: deployment });
  }

  /** Where accounts this node has not used are looked up (set once the core exists). */
  resolveWith(resolve: (accountSid: string) => Promise<CarrierAccount | undefined>): void {
    this.resolve = resolve;
  }

  /** The account a call is placed on: its number's own (remembered, or refreshed if its token changed), else the deployment's. */
  use(credentials: CarrierAccount | undefined): TwilioAccount {
    const own = twilioAccountOf(credentials);
    if (!own || own.accountSid === this.deployment.accountSid) return this.deployment;
    const seen = this.known.get(own.accountSid);
    if (seen?.account.authToken === own.authToken) return seen.account;
    this.known.set(own.accountSid, { account: own });
    return own;
  }

  isDeployment(accountSid: string): boolean {
    return accountSid === this.deployment.accountSid;
  }

  /** The REST client of an account (made on first use, then kept). */
  api(account: TwilioAccount): Promise<Api> {
    let entry = this.known.get(account.accountSid);
    if (!entry || entry.account !== account) this.known.set(account.accountSid, (entry = { account }));
    return (entry.api ??= this.makeApi(account));
  }

  /** An account by SID: one this node knows, else the stored credentials (null when there are none). */
  async find(accountSid: string): Promise<TwilioAccount | null> {
    const seen = this.known.get(accountSid);
    if (seen) return seen.account;
    if (!/^AC[0-9a-f]{32}$/.test(accountSid) || !this.resolve) return null;
    const found = twilioAccountOf(await this.resolve(accountSid));
    if (!found || found.accountSid !== accountSid) return null;
    this.known.set(accountSid, { account: found });
    return found;
  }

  /**
   * The account that signed a request to `url`: the one the URL claims (`claimed`, its `account` query
   * parameter), else the deployment's — verified with that account's token. Null when the signature is not
   * that account's (or the account is unknown).
   */
  async verify(signature: string | undefined, url: string, params: TwilioParams, claimed: string | undefined): Promise<string | null> {
    const account = claimed === undefined ? this.deployment : await this.find(claimed);
    return account && isValidTwilioSignature(account.authToken, signature, url, params) ? account.accountSid : null;
  }

  /** A handshake whose URL cannot name its account (Media Streams): the known account whose token signed it, or null. */
  verifyAny(signature: string | undefined, url: string): string | null {
    for (const { account } of this.known.values()) if (isValidTwilioSignature(account.authToken, signature, url)) return account.accountSid;
    return null;
  }
}
