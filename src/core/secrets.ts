/**
 * The deployment's secret key: seals stored credentials (AES-256-GCM) and signs short-lived tokens (HMAC),
 * so that any node with the same key can open and verify them. `CREDENTIALS_KEY` in production clusters;
 * without it a key file is made once in DATA_DIR (one node), or a key held in memory in tests.
 * The key is read lazily: a deployment that never stores credentials never touches the file.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/index.js';

const KEY_FILE = 'credentials.key';

export class Secrets {
  private key: Buffer | undefined;
  constructor(private readonly config: Pick<Config, 'credentialsKey' | 'dataDir' | 'nodeEnv'>) {}

  private master(): Buffer {
    if (this.key) return this.key;
    if (this.config.credentialsKey) return (this.key = this.config.credentialsKey);
    if (this.config.nodeEnv === 'test') return (this.key = randomBytes(32));
    const file = path.join(this.config.dataDir, KEY_FILE);
    try {
      this.key = Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'base64');
    } catch {
      fs.mkdirSync(this.config.dataDir, { recursive: true });
      const k = randomBytes(32);
      try {
        fs.writeFileSync(file, k.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
        this.key = k;
      } catch {
        this.key = Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'base64'); // another process made it first
      }
    }
    if (this.key.length !== 32) throw new Error(`${file} does not hold a 32-byte key`);
    return this.key;
  }

  /** A key for one purpose, derived from the master key (sealing and signing never share a key). */
  private derived(purpose: string): Buffer {
    return createHmac('sha256', this.master()).update(purpose).digest();
  }

  /** `v1.<iv>.<tag>.<ciphertext>` (base64url) of the JSON of `value`. */
  seal(value: unknown): string {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.derived('credentials'), iv);
    const body = Buffer.concat([c.update(JSON.stringify(value), 'utf8'), c.final()]);
    return ['v1', iv.toString('base64url'), c.getAuthTag().toString('base64url'), body.toString('base64url')].join('.');
  }

  open<T = unknown>(sealed: string): T {
    const [v, iv, tag, body] = sealed.split('.');
    if (v !== 'v1' || !iv || !tag || body === undefined) throw new Error('not a sealed value');
    const d = createDecipheriv('aes-256-gcm', this.derived('credentials'), Buffer.from(iv, 'base64url'));
    d.setAuthTag(Buffer.from(tag, 'base64url'));
    const text = Buffer.concat([d.update(Buffer.from(body, 'base64url')), d.final()]).toString('utf8');
    return JSON.parse(text) as T;
  }

  /** A token carrying `claims` until `ttlSeconds` from now: base64url(JSON).base64url(HMAC). */
  signToken(claims: Record<string, unknown>, ttlSeconds: number): string {
    const body = Buffer.from(JSON.stringify({ ...claims, exp: Math.floor(Date.now() / 1000) + ttlSeconds })).toString('base64url');
    return `${body}.${this.mac(body)}`;
  }

  /** The claims of a valid, unexpired token; null otherwise. */
  verifyToken(token: string): Record<string, unknown> | null {
    const [body, mac] = token.split('.');
    if (!body || !mac) return null;
    const want = Buffer.from(this.mac(body));
    const got = Buffer.from(mac);
    if (want.length !== got.length || !timingSafeEqual(want, got)) return null;
    try {
      const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Record<string, unknown>;
      if (typeof claims.exp !== 'number' || claims.exp < Date.now() / 1000) return null;
      return claims;
    } catch {
      return null;
    }
  }

  private mac(body: string): string {
    return createHmac('sha256', this.derived('tokens')).update(body).digest('base64url');
  }
}
