/**
 * The Twilio accounts of a deployment (src/carriers/twilio/accounts.ts): which token verifies a callback,
 * an account this node never used found among the stored numbers' credentials (another node placed the
 * call, or before a restart), a token changed on the number, and a REST client kept per account.
 */
import { describe, expect, it } from 'vitest';
import { TwilioAccounts, twilioAccountOf } from '../../src/carriers/twilio/accounts.js';
import { twilioSignature } from '../../src/carriers/twilio/twilio-signature.js';

const DEPLOYMENT = { accountSid: 'AC' + 'a'.repeat(32), authToken: 'deployment-token' };
const CUSTOMER = 'AC' + 'b'.repeat(32);
const URL = 'https://sb.example.com/twilio/status';
const PARAMS = { CallSid: 'CA' + 'c'.repeat(32), CallStatus: 'ringing' };

function accounts(stored: Record<string, Record<string, unknown>> = {}) {
  const made: string[] = [];
  const lookups: string[] = [];
  const a = new TwilioAccounts(DEPLOYMENT, async (acct) => {
    made.push(acct.accountSid);
    return { sid: acct.accountSid };
  });
  a.resolveWith(async (sid) => {
    lookups.push(sid);
    return stored[sid];
  });
  return { a, made, lookups };
}

describe('Twilio accounts', () => {
  it("verifies with the token of the account the URL claims, the deployment's when it claims none", async () => {
    const { a } = accounts({ [CUSTOMER]: { account_sid: CUSTOMER, auth_token: 'customer-token' } });
    const claimed = `${URL}?account=${CUSTOMER}`;
    expect(await a.verify(twilioSignature('deployment-token', URL, PARAMS), URL, PARAMS, undefined)).toBe(DEPLOYMENT.accountSid);
    expect(await a.verify(twilioSignature('customer-token', claimed, PARAMS), claimed, PARAMS, CUSTOMER)).toBe(CUSTOMER);
    // The deployment's token does not sign for the customer's account, nor the customer's for the deployment.
    expect(await a.verify(twilioSignature('deployment-token', claimed, PARAMS), claimed, PARAMS, CUSTOMER)).toBeNull();
    expect(await a.verify(twilioSignature('customer-token', URL, PARAMS), URL, PARAMS, undefined)).toBeNull();
    // An account with no stored credentials (or not a SID at all) verifies nothing.
    const other = 'AC' + 'd'.repeat(32);
    expect(await a.verify(twilioSignature('x', URL, PARAMS), URL, PARAMS, other)).toBeNull();
    expect(await a.verify(twilioSignature('x', URL, PARAMS), URL, PARAMS, 'not-a-sid')).toBeNull();
  });

  it('an account this node never used is looked up once, then known (also to handshakes that cannot name it)', async () => {
    const { a, lookups } = accounts({ [CUSTOMER]: { account_sid: CUSTOMER, auth_token: 'customer-token' } });
    const ws = 'wss://sb.example.com/media/ws';
    expect(a.verifyAny(twilioSignature('customer-token', ws), ws)).toBeNull();
    expect(await a.find(CUSTOMER)).toEqual({ accountSid: CUSTOMER, authToken: 'customer-token' });
    expect(await a.find(CUSTOMER)).toEqual({ accountSid: CUSTOMER, authToken: 'customer-token' });
    expect(lookups).toEqual([CUSTOMER]);
    expect(a.verifyAny(twilioSignature('customer-token', ws), ws)).toBe(CUSTOMER);
    expect(a.verifyAny(twilioSignature('deployment-token', ws), ws)).toBe(DEPLOYMENT.accountSid);
    expect(a.verifyAny(twilioSignature('forged', ws), ws)).toBeNull();
  });

  it("a number's credentials pick its account; its client is made once, and again after its token changed", async () => {
    const { a, made } = accounts();
    expect(a.use(undefined)).toBe(a.deployment);
    expect(a.use({ account_sid: 'not-a-sid', auth_token: 't' })).toBe(a.deployment);
    const first = a.use({ account_sid: CUSTOMER, auth_token: 'old' });
    await a.api(first);
    await a.api(a.use({ account_sid: CUSTOMER, auth_token: 'old' }));
    expect(made).toEqual([CUSTOMER]);
    const rotated = a.use({ account_sid: CUSTOMER, auth_token: 'new' });
    expect(rotated.authToken).toBe('new');
    await a.api(rotated);
    expect(made).toEqual([CUSTOMER, CUSTOMER]);
    expect(twilioAccountOf({ account_sid: CUSTOMER })).toBeNull();
  });
});
