/**
 * Where a webhook may be sent. In production a client-supplied URL must not reach the deployment's own
 * network (SSRF): cloud metadata at 169.254.169.254, databases on 10/8, admin ports on loopback. The URL is
 * checked when it is accepted and again on every attempt, and the DNS answer is checked by the `lookup` used
 * for the socket itself, so a name that resolved to a public address yesterday and to 127.0.0.1 now
 * (DNS rebinding) is still refused.
 */
import dns from 'node:dns';
import type { LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

export interface WebhookTargetOptions {
  /** Production rules: https only, public addresses only. Development allows http and loopback. */
  production: boolean;
}

/** Resolves a hostname to every address (injected in tests to simulate DNS). */
export type Resolver = (hostname: string) => Promise<Array<{ address: string; family: number }>>;

const defaultResolver: Resolver = (hostname) => dns.promises.lookup(hostname, { all: true, verbatim: true });

/**
 * Whether a literal IP address is outside the public unicast space: loopback, private (10/8, 172.16/12,
 * 192.168/16, fc00::/7), link-local (169.254/16, fe80::/10), unspecified, carrier-grade NAT, multicast,
 * reserved. Anything but plain unicast is refused: an allow-list can't miss a range the way a deny-list can.
 * An IPv6 address that carries an IPv4 address (see `embeddedIPv4`) is judged by what it carries, since that
 * is where the packets end up.
 */
export function isForbiddenAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '');
  if (!ipaddr.isValid(bare)) return false;
  const ip = ipaddr.parse(bare);
  if (ip.kind() === 'ipv4') return ip.range() !== 'unicast';
  const v6 = ip as ipaddr.IPv6;
  const inner = embeddedIPv4(v6);
  if (inner) return inner.some((v4) => v4.range() !== 'unicast');
  // Global unicast is 2000::/3; ipaddr.js names the special ranges inside it.
  return !v6.match(GLOBAL_UNICAST) || v6.range() !== 'unicast';
}

const GLOBAL_UNICAST = ipaddr.parseCIDR('2000::/3');
const NAT64 = ipaddr.parseCIDR('64:ff9b::/96');

/**
 * The IPv4 addresses an IPv6 address stands for, or null for none. ipaddr.js only unwraps `::ffff:a.b.c.d`,
 * and the WHATWG URL parser rewrites `[::127.0.0.1]` to `[::7f00:1]`, which ipaddr.js calls unicast, so the
 * forms are listed here: anything in ::/64 (IPv4-compatible `::a.b.c.d`, mapped `::ffff:a.b.c.d`, translated
 * `::ffff:0:a.b.c.d`, and `::1`/`::` as 0.0.0.x), NAT64 `64:ff9b::/96`, 6to4 `2002::/16` (bits 16–48) and
 * Teredo `2001::/32` (the server in bits 32–64, the client inverted in the last 32).
 */
export function embeddedIPv4(v6: ipaddr.IPv6): ipaddr.IPv4[] | null {
  const p = v6.parts;
  const v4 = (hi: number, lo: number) => new ipaddr.IPv4([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff]);
  if (p[0] === 0 && p[1] === 0 && p[2] === 0 && p[3] === 0) return [v4(p[6], p[7])];
  if (v6.match(NAT64)) return [v4(p[6], p[7])];
  if (p[0] === 0x2002) return [v4(p[1], p[2])];
  if (p[0] === 0x2001 && p[1] === 0) return [v4(p[2], p[3]), v4(~p[6] & 0xffff, ~p[7] & 0xffff)];
  return null;
}

/** Names that mean "this machine or its local network" without being IP literals. */
function isLocalName(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/\.$/, '');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (h.endsWith('.local') || h.endsWith('.internal') || h.endsWith('.localdomain') || h.endsWith('.home.arpa')) return true;
  // A single label ("db", "metadata") is completed by the resolver's search domains: an internal host.
  return !h.includes('.') && !h.includes(':');
}

/**
 * `null` when `url` may receive webhooks, otherwise the reason (a static sentence, safe to show the client).
 * @example checkWebhookUrl('http://127.0.0.1:8080/hook', { production: true }) // 'webhook URL must use https'
 */
export function checkWebhookUrl(url: string, opts: WebhookTargetOptions): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'webhook URL is not a valid URL';
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return 'webhook URL must use http or https';
  if (!opts.production) return null;
  if (u.protocol !== 'https:') return 'webhook URL must use https';
  // WHATWG URL has already normalised odd IPv4 spellings (`0x7f.1`, `2130706433`) to dotted form.
  if (isForbiddenAddress(u.hostname)) return 'webhook URL must not point to a private or local address';
  if (!ipaddr.isValid(u.hostname.replace(/^\[|\]$/g, '')) && isLocalName(u.hostname)) {
    return 'webhook URL must not point to a local host name';
  }
  return null;
}

/** The error a refused DNS answer fails the request with (code `SB_WEBHOOK_TARGET_REFUSED`). */
export class WebhookTargetRefusedError extends Error {
  readonly code = 'SB_WEBHOOK_TARGET_REFUSED';
  constructor(message: string) {
    super(message);
    this.name = 'WebhookTargetRefusedError';
  }
}

/**
 * A `lookup` for node's `http.request`/`https.request`: resolves the name and, in production, fails when any
 * address is private or local. Checking every address (not just the first) matters because the socket may
 * try them all (happy eyeballs). Node skips `lookup` for IP literals; `checkWebhookUrl` covers those.
 */
export function guardedLookup(opts: WebhookTargetOptions & { resolve?: Resolver }): LookupFunction {
  const resolve = opts.resolve ?? defaultResolver;
  return (hostname, options, callback) => {
    resolve(hostname).then(
      (all) => {
        const family = options.family === 4 || options.family === 6 ? options.family : 0;
        const list = family ? all.filter((a) => a.family === family) : all;
        if (list.length === 0) return callback(Object.assign(new Error('no address found'), { code: 'ENOTFOUND' }), '', 0);
        if (opts.production && list.some((a) => isForbiddenAddress(a.address))) {
          return callback(new WebhookTargetRefusedError('webhook host resolves to a private or local address'), '', 0);
        }
        if (options.all) return (callback as unknown as (e: null, a: typeof list) => void)(null, list);
        callback(null, list[0].address, list[0].family);
      },
      (err: NodeJS.ErrnoException) => callback(err, '', 0),
    );
  };
}
