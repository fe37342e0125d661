import { ApiException } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { errorMessage, errorPolicy, PermanentError, TemporaryError } from './error-policy.ts';

const api = (code: number, message = 'x') =>
  new ApiException(code, 'failed', JSON.stringify({ message }), {});

describe('errorPolicy', () => {
  it.each([
    {
      name: 'a TemporaryError with a delay',
      err: new TemporaryError('RedisPartial', 'node down', { retryAfterSeconds: 5 }),
      want: { kind: 'temporary', reason: 'RedisPartial', retryAfterMs: 5000 },
    },
    {
      name: 'a TemporaryError without a delay',
      err: new TemporaryError('Busy', 'busy'),
      want: { kind: 'temporary', reason: 'Busy' },
    },
    {
      name: 'a PermanentError, even when its cause is a server error',
      err: new PermanentError('SecretUnreadable', 'no key', { cause: api(503), recheckAfterSeconds: 300 }),
      want: { kind: 'permanent', reason: 'SecretUnreadable', recheckAfterMs: 300_000 },
    },
    {
      name: 'a PermanentError wrapped by a caller',
      err: new Error('measuring', { cause: new PermanentError('SecretUnreadable', 'no key') }),
      want: { kind: 'permanent', reason: 'SecretUnreadable' },
    },
    {
      name: 'a RangeError from bad input',
      err: new RangeError('poolSize must be a whole number ≥ 1, got 0'),
      want: { kind: 'permanent', reason: 'InvalidInput' },
    },
    {
      name: 'a RangeError inside a wrapping error',
      err: new Error('acting', { cause: new RangeError('bad') }),
      want: { kind: 'permanent', reason: 'InvalidInput' },
    },
    { name: 'an unclassified 409', err: api(409), want: { kind: 'temporary', reason: 'Conflict' } },
    { name: 'an unclassified 429', err: api(429), want: { kind: 'temporary', reason: 'HTTP429' } },
    { name: 'an unclassified 503', err: api(503), want: { kind: 'temporary', reason: 'HTTP503' } },
    {
      name: 'no answer at all',
      err: new TypeError('fetch failed', { cause: new Error('ECONNREFUSED') }),
      want: { kind: 'temporary', reason: 'Unreachable' },
    },
    { name: 'an unclassified 403', err: api(403), want: { kind: 'permanent', reason: 'Forbidden' } },
    { name: 'an unclassified 422', err: api(422), want: { kind: 'permanent', reason: 'Invalid' } },
    { name: 'an unclassified 404', err: api(404), want: { kind: 'permanent', reason: 'HTTP404' } },
  ])('$name → $want.kind $want.reason', ({ err, want }) => {
    expect(errorPolicy(err)).toEqual(want);
  });
});

describe('errorMessage', () => {
  it('takes the message out of a Kubernetes Status body', () => {
    expect(errorMessage(api(403, 'configmaps is forbidden'))).toBe('HTTP 403: configmaps is forbidden');
  });
  it('appends the causes of a wrapped error', () => {
    expect(
      errorMessage(new Error('observe failed', { cause: new Error('read', { cause: api(404, 'gone') }) })),
    ).toBe('observe failed: read: HTTP 404: gone');
  });
});
