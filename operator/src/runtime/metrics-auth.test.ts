import type { V1SubjectAccessReview, V1TokenReview } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { ManualClock } from './clock.ts';
import {
  ALLOW_CACHE_TTL_MS,
  bearerToken,
  CACHE_MAX_ENTRIES,
  DENY_CACHE_TTL_MS,
  MetricsAuthorizer,
  type ReviewClient,
  TOKEN_CACHE_TTL_MS,
  TtlCache,
} from './metrics-auth.ts';

/**
 * reviews answers as an API server with two ServiceAccount tokens would: `reader` may get
 * /metrics once `granted` says so, `stranger` never; it counts the reviews sent.
 */
function reviews(granted: { reader: boolean }) {
  const sent = { token: 0, access: 0 };
  const client: ReviewClient = {
    createTokenReview: async (review: V1TokenReview) => {
      sent.token++;
      const name = { 'reader-token': 'reader', 'stranger-token': 'stranger' }[review.spec.token ?? ''];
      return {
        ...review,
        status: name
          ? {
              authenticated: true,
              user: {
                username: `system:serviceaccount:monitoring:${name}`,
                groups: ['system:serviceaccounts'],
              },
            }
          : { authenticated: false, error: 'invalid bearer token' },
      };
    },
    createSubjectAccessReview: async (review: V1SubjectAccessReview) => {
      sent.access++;
      const s = review.spec;
      const allowed =
        granted.reader &&
        s.user === 'system:serviceaccount:monitoring:reader' &&
        s.nonResourceAttributes?.path === '/metrics' &&
        s.nonResourceAttributes.verb === 'get';
      return { ...review, status: { allowed } };
    },
  };
  return { client, sent };
}

describe('bearerToken', () => {
  it.each([
    [undefined, undefined],
    ['', undefined],
    ['Bearer', undefined],
    ['Bearer ', undefined],
    ['Basic dXNlcjpwYXNz', undefined],
    ['Bearer abc', 'abc'],
    ['bearer abc', 'abc'],
    ['Bearer abc def', undefined],
  ])('%j → %j', (header, token) => {
    expect(bearerToken(header)).toBe(token);
  });
});

describe('MetricsAuthorizer', () => {
  it.each([
    ['no header', undefined, 401, 'Unauthorized'],
    ['a token the API server rejects', 'Bearer forged', 401, 'Unauthorized'],
    [
      'a token without the role',
      'Bearer stranger-token',
      403,
      'Authorization denied for user system:serviceaccount:monitoring:stranger',
    ],
    ['a token with the role', 'Bearer reader-token', 200, undefined],
  ])('answers %s with %i', async (_what, header, status, message) => {
    const { client } = reviews({ reader: true });
    const verdict = await new MetricsAuthorizer(client, new ManualClock()).check(header, 'get', '/metrics');
    expect(verdict.status).toBe(status);
    if (message) expect(verdict).toMatchObject({ message });
  });

  it('asks for the verb and path of the request: a reader of get /metrics may not post or read another path', async () => {
    const { client } = reviews({ reader: true });
    const auth = new MetricsAuthorizer(client, new ManualClock());
    expect((await auth.check('Bearer reader-token', 'post', '/metrics')).status).toBe(403);
    expect((await auth.check('Bearer reader-token', 'get', '/debug')).status).toBe(403);
  });

  it('reuses an allow for 5 minutes and a token review for 1 minute', async () => {
    const clock = new ManualClock();
    const granted = { reader: true };
    const { client, sent } = reviews(granted);
    const auth = new MetricsAuthorizer(client, clock);
    expect((await auth.check('Bearer reader-token', 'get', '/metrics')).status).toBe(200);
    // The role is taken away: a cached allow still serves until it expires.
    granted.reader = false;
    clock.advance(TOKEN_CACHE_TTL_MS - 1);
    expect((await auth.check('Bearer reader-token', 'get', '/metrics')).status).toBe(200);
    expect(sent).toEqual({ token: 1, access: 1 });
    clock.advance(1);
    expect((await auth.check('Bearer reader-token', 'get', '/metrics')).status).toBe(200);
    expect(sent).toEqual({ token: 2, access: 1 });
    clock.advance(ALLOW_CACHE_TTL_MS - TOKEN_CACHE_TTL_MS);
    expect((await auth.check('Bearer reader-token', 'get', '/metrics')).status).toBe(403);
    expect(sent.access).toBe(2);
  });

  it('reuses a denial for 30 seconds: a role bound afterwards works within half a minute', async () => {
    const clock = new ManualClock();
    const granted = { reader: false };
    const { client, sent } = reviews(granted);
    const auth = new MetricsAuthorizer(client, clock);
    expect((await auth.check('Bearer reader-token', 'get', '/metrics')).status).toBe(403);
    granted.reader = true;
    clock.advance(DENY_CACHE_TTL_MS - 1);
    expect((await auth.check('Bearer reader-token', 'get', '/metrics')).status).toBe(403);
    clock.advance(1);
    expect((await auth.check('Bearer reader-token', 'get', '/metrics')).status).toBe(200);
    expect(sent.access).toBe(2);
  });

  it('answers 500 when a review fails, and does not cache the failure', async () => {
    const { client, sent } = reviews({ reader: true });
    let down = true;
    const flaky: ReviewClient = {
      createTokenReview: async (r) => {
        if (down) throw new Error('connect ECONNREFUSED 127.0.0.1:6443');
        return await client.createTokenReview(r);
      },
      createSubjectAccessReview: client.createSubjectAccessReview,
    };
    const auth = new MetricsAuthorizer(flaky, new ManualClock());
    expect(await auth.check('Bearer reader-token', 'get', '/metrics')).toEqual({
      status: 500,
      message: 'Authentication failed',
      error: 'connect ECONNREFUSED 127.0.0.1:6443',
    });
    down = false;
    expect((await auth.check('Bearer reader-token', 'get', '/metrics')).status).toBe(200);
    expect(sent.token).toBe(1);
  });
});

describe('TtlCache', () => {
  it('forgets an entry at its expiry and the oldest entry when full', () => {
    const clock = new ManualClock();
    const cache = new TtlCache<number>(clock, 2);
    cache.set('a', 1, 100);
    cache.set('b', 2, 50);
    clock.advance(50);
    expect([cache.get('a'), cache.get('b')]).toEqual([1, undefined]);
    cache.set('c', 3, 100);
    cache.set('d', 4, 100);
    expect([cache.get('a'), cache.get('c'), cache.get('d')]).toEqual([undefined, 3, 4]);
    expect(cache.size).toBe(2);
  });

  it('holds at most CACHE_MAX_ENTRIES by default', () => {
    const cache = new TtlCache<number>(new ManualClock());
    for (let i = 0; i < CACHE_MAX_ENTRIES + 10; i++) cache.set(String(i), i, 1000);
    expect(cache.size).toBe(CACHE_MAX_ENTRIES);
  });
});
