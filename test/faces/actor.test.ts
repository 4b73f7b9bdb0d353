/**
 * Who gave a supervisor command (`by`): one function for every face and every kind of authentication — the
 * dashboard session's user (`user:<id>`), else the request's key by fingerprint.
 */
import { describe, expect, it } from 'vitest';
import type { FastifyRequest } from 'fastify';
import { actorOf, keyActor } from '../../src/faces/shared/auth.js';
import { hashKey } from '../../src/core/orgs.js';

const request = (r: { userId?: string; authorization?: string; api_key?: string }) =>
  ({ auth: r.userId ? { kind: 'session', session: { user: { id: r.userId } } } : undefined, headers: r.authorization ? { authorization: r.authorization } : {}, query: r.api_key ? { api_key: r.api_key } : {} }) as unknown as FastifyRequest;

describe('actorOf', () => {
  it('names a signed-in user by the session the authentication found', () => {
    expect(actorOf(request({ userId: '42' }))).toBe('user:42');
  });
  it('names a key by the start of its hash, never the key', () => {
    const key = 'sk_live_secret_value';
    expect(actorOf(request({ authorization: `Bearer ${key}` }))).toBe(`key:${hashKey(key).slice(0, 12)}`);
    expect(actorOf(request({ api_key: key }))).toBe(keyActor(key));
    expect(actorOf(request({ api_key: key }))).not.toContain(key);
  });
  it('says anonymous when nothing authenticated the request', () => {
    expect(actorOf(request({}))).toBe('anonymous');
  });
});
