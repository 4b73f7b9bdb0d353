import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signWebhook, verifyWebhookSignature } from '../../src/core/webhooks/index.js';

describe('webhook signatures', () => {
  const secret = 'whsec_test_0123456789';
  const body = '{"event":"call_completed","data":{"to":"+46700000000"}}';

  it('signs "<t>.<raw body>" with HMAC-SHA256 in the documented header format', () => {
    const expected = createHmac('sha256', secret).update(`1739511142.${body}`).digest('hex');
    expect(signWebhook(secret, body, 1739511142)).toBe(`t=1739511142,v1=${expected}`);
  });

  it('verifies its own signature within the tolerance', () => {
    const h = signWebhook(secret, body, 1000);
    expect(verifyWebhookSignature(secret, h, body, 300, 1100)).toBe(true);
    expect(verifyWebhookSignature(secret, h, Buffer.from(body), 300, 1100)).toBe(true);
  });

  it('refuses another secret, another body, an old timestamp and malformed headers', () => {
    const h = signWebhook(secret, body, 1000);
    expect(verifyWebhookSignature('whsec_other_0123456789', h, body, 300, 1000)).toBe(false);
    expect(verifyWebhookSignature(secret, h, body + ' ', 300, 1000)).toBe(false);
    expect(verifyWebhookSignature(secret, h, body, 300, 1301)).toBe(false);
    expect(verifyWebhookSignature(secret, undefined, body)).toBe(false);
    expect(verifyWebhookSignature(secret, 't=1000', body, 300, 1000)).toBe(false);
    expect(verifyWebhookSignature(secret, 't=1000,v1=zz', body, 300, 1000)).toBe(false);
    // A signature for one timestamp doesn't hold for another.
    const v1 = h.split('v1=')[1];
    expect(verifyWebhookSignature(secret, `t=1001,v1=${v1}`, body, 300, 1000)).toBe(false);
  });
});
