import { ApiException } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { classifyError, errorMessage } from './error-policy.ts';

const api = (code: number, message = 'x') =>
  new ApiException(code, 'failed', JSON.stringify({ message }), {});

describe('classifyError', () => {
  it.each([
    { err: api(409), kind: 'transient', reason: 'Conflict' },
    { err: api(429), kind: 'transient', reason: 'HTTP429' },
    { err: api(503), kind: 'transient', reason: 'HTTP503' },
    { err: api(500), kind: 'transient', reason: 'HTTP500' },
    {
      err: new TypeError('fetch failed', { cause: new Error('ECONNREFUSED') }),
      kind: 'transient',
      reason: 'Unreachable',
    },
    { err: api(403), kind: 'permanent', reason: 'Forbidden' },
    { err: api(422), kind: 'permanent', reason: 'Invalid' },
    { err: api(400), kind: 'permanent', reason: 'Invalid' },
    { err: api(404), kind: 'permanent', reason: 'HTTP404' },
  ])('$err.message → $kind $reason', ({ err, kind, reason }) => {
    expect(classifyError(err)).toEqual({ kind, reason });
  });
});

describe('errorMessage', () => {
  it('takes the message out of a Kubernetes Status body', () => {
    expect(errorMessage(api(403, 'configmaps is forbidden'))).toBe('HTTP 403: configmaps is forbidden');
  });
  it('appends the cause of a wrapped error', () => {
    expect(errorMessage(new Error('observe failed', { cause: new Error('ECONNRESET') }))).toBe(
      'observe failed: ECONNRESET',
    );
  });
});
