import { describe, expect, it } from 'vitest';
import type { LookupAddress } from 'node:dns';
import { checkWebhookUrl, guardedLookup, isForbiddenAddress, type Resolver } from '../../src/core/webhooks/index.js';

const prod = { production: true };
const dev = { production: false };

describe('webhook target rules', () => {
  it('refuses what is not an http(s) URL everywhere', () => {
    expect(checkWebhookUrl('not a url', dev)).toMatch(/valid URL/);
    expect(checkWebhookUrl('ftp://example.com/x', dev)).toMatch(/http or https/);
    expect(checkWebhookUrl('file:///etc/passwd', prod)).toMatch(/http or https/);
  });

  it('allows http, https and loopback in development', () => {
    expect(checkWebhookUrl('http://127.0.0.1:3000/hook', dev)).toBeNull();
    expect(checkWebhookUrl('http://localhost:3000/hook', dev)).toBeNull();
    expect(checkWebhookUrl('https://hooks.example.com/x?token=1', dev)).toBeNull();
  });

  it('requires https and a public host in production', () => {
    expect(checkWebhookUrl('https://hooks.example.com/x', prod)).toBeNull();
    expect(checkWebhookUrl('https://8.8.8.8/x', prod)).toBeNull();
    expect(checkWebhookUrl('http://hooks.example.com/x', prod)).toMatch(/https/);
    for (const host of [
      '127.0.0.1', '10.0.0.5', '172.16.3.4', '172.31.255.255', '192.168.1.1', '169.254.169.254', '0.0.0.0',
      '[::1]', '[fc00::1]', '[fd12::1]', '[fe80::1]', '[::]', '[::ffff:127.0.0.1]', '0x7f.1', '2130706433',
    ]) {
      expect(checkWebhookUrl(`https://${host}/x`, prod), host).toMatch(/private or local/);
    }
    for (const host of ['localhost', 'LOCALHOST.', 'api.localhost', 'printer.local', 'metadata.google.internal', 'db']) {
      expect(checkWebhookUrl(`https://${host}/x`, prod), host).toMatch(/local host name/);
    }
  });

  it('classifies addresses', () => {
    expect(isForbiddenAddress('172.15.0.1')).toBe(false);
    expect(isForbiddenAddress('172.16.0.1')).toBe(true);
    expect(isForbiddenAddress('2606:4700::1111')).toBe(false);
    expect(isForbiddenAddress('fe80::1%eth0')).toBe(true);
  });

  function lookupOnce(production: boolean, resolve: Resolver, all: boolean) {
    const lookup = guardedLookup({ production, resolve });
    return new Promise<{ err: NodeJS.ErrnoException | null; result: unknown }>((r) =>
      lookup('hooks.example.com', { all } as any, ((err: NodeJS.ErrnoException | null, a: string | LookupAddress[]) =>
        r({ err, result: a })) as any),
    );
  }

  it('refuses, in production, a name resolving to a private address (DNS rebinding)', async () => {
    const rebinding: Resolver = async () => [{ address: '93.184.216.34', family: 4 }, { address: '127.0.0.1', family: 4 }];
    const refused = await lookupOnce(true, rebinding, false);
    expect((refused.err as any)?.code).toBe('SB_WEBHOOK_TARGET_REFUSED');
    const allowedInDev = await lookupOnce(false, rebinding, true);
    expect(allowedInDev.err).toBeNull();
    expect(allowedInDev.result).toHaveLength(2);
    const pub = await lookupOnce(true, async () => [{ address: '93.184.216.34', family: 4 }], false);
    expect(pub).toEqual({ err: null, result: '93.184.216.34' });
  });

  // IPv4 addresses hidden in IPv6: the packets end up at the IPv4 address, so that is what is judged.
  const hidden = [
    '[::127.0.0.1]', '[::7f00:1]', '[::ffff:127.0.0.1]', '[::ffff:7f00:1]', '[0:0:0:0:0:ffff:7f00:1]', '[::ffff:0:7f00:1]',
    '[::169.254.169.254]', '[::ffff:169.254.169.254]', '[::10.0.0.1]', '[::192.168.0.1]',
    '[2002:7f00:1::]', '[2002:a9fe:a9fe::1]', // 6to4 of 127.0.0.1 and 169.254.169.254
    '[64:ff9b::7f00:1]', '[64:ff9b::169.254.169.254]', '[64:ff9b:1::808:808]', // NAT64 (and its local-use prefix)
    '[2001:0:4136:e378:8000:63bf:80ff:fffe]', // Teredo whose client is 127.0.0.1
    '[2001:db8::1]', '[100::1]',
  ];

  it('refuses, in production, every IPv6 form of a private or local IPv4 address at creation', () => {
    for (const host of hidden) expect(checkWebhookUrl(`https://${host}/x`, prod), host).toMatch(/private or local/);
    for (const host of ['[2606:4700::1111]', '[64:ff9b::808:808]', '[2002:808:808::1]', '[::ffff:8.8.8.8]']) {
      expect(checkWebhookUrl(`https://${host}/x`, prod), host).toBeNull();
    }
  });

  it('refuses, in production, a name resolving to an IPv6 form of a private address at delivery', async () => {
    for (const host of hidden) {
      const address = new URL(`https://${host}/`).hostname.slice(1, -1);
      const r = await lookupOnce(true, async () => [{ address, family: 6 }], false);
      expect((r.err as any)?.code, address).toBe('SB_WEBHOOK_TARGET_REFUSED');
    }
  });
});
