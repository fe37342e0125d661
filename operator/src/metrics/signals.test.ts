import { describe, expect, it } from 'vitest';
import { DEFAULT_PROMQL } from '../api/v1alpha1/performance-profile.ts';
import { renderQuery, signalQuery } from './signals.ts';

const vars = { namespace: 'shop', deployment: 'risk-api', poolCapacity: 25 };

describe('renderQuery', () => {
  it.each<[string, string, string | undefined]>([
    [
      'namespace and job',
      'up{namespace="$namespace",job="$deployment"}',
      'up{namespace="shop",job="risk-api"}',
    ],
    ['every occurrence', '$deployment/$deployment', 'risk-api/risk-api'],
    ['the pool capacity', 'x / $poolCapacity', 'x / 25'],
  ])('fills in %s', (_what, template, expected) => {
    expect(renderQuery(template, vars)).toBe(expected);
  });

  it('cannot fill in an unknown pool capacity', () => {
    expect(renderQuery('x / $poolCapacity', { namespace: 'a', deployment: 'b' })).toBeUndefined();
  });
});

describe('signalQuery', () => {
  it('uses the default query, with an age query on its raw series', () => {
    const q = signalQuery(undefined, 'requestsPerSecond', vars);
    expect(q).toEqual({
      signal: 'requestsPerSecond',
      query: 'sum(rate(http_request_duration_seconds_count{namespace="shop",job="risk-api"}[2m]))',
      ageQuery:
        'time() - max(timestamp(http_request_duration_seconds_count{namespace="shop",job="risk-api"}))',
      overridden: false,
    });
  });

  it('uses the profile’s override, trusting Prometheus’s own staleness for it', () => {
    const q = signalQuery({ queries: { p95LatencyMs: 'my_p95{ns="$namespace"}' } }, 'p95LatencyMs', vars);
    expect(q).toEqual({ signal: 'p95LatencyMs', query: 'my_p95{ns="shop"}', overridden: true });
  });

  it('says why a pool-usage query cannot run without the pool size', () => {
    expect(signalQuery(undefined, 'poolUsagePercent', { namespace: 'a', deployment: 'b' })).toEqual({
      signal: 'poolUsagePercent',
      problem: 'its query needs $poolCapacity, and the pool size is not known',
    });
  });

  it('leaves no placeholder in any default query', () => {
    for (const signal of Object.keys(DEFAULT_PROMQL) as (keyof typeof DEFAULT_PROMQL)[]) {
      const q = signalQuery(undefined, signal, vars);
      expect('query' in q && q.query, signal).not.toMatch(/\$/);
    }
  });
});
