import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { prometheusAdapterConfig } from './request-rate-metric.ts';

describe('prometheusAdapterConfig', () => {
  it('serves requests_per_second per pod from the request histogram for a Pods metric', () => {
    expect(prometheusAdapterConfig('Pods')).toEqual({
      rules: [
        {
          seriesQuery: 'http_request_duration_seconds_count{namespace!="",pod!=""}',
          resources: { overrides: { namespace: { resource: 'namespace' }, pod: { resource: 'pod' } } },
          name: { matches: '^http_request_duration_seconds_count$', as: 'requests_per_second' },
          metricsQuery: 'sum(rate(<<.Series>>{<<.LabelMatchers>>}[120s])) by (<<.GroupBy>>)',
        },
      ],
    });
  });

  it('serves the namespace total as an external metric, with the rate window asked for', () => {
    const { externalRules } = prometheusAdapterConfig('External', 10);
    expect(externalRules?.[0]?.seriesQuery).toBe('http_request_duration_seconds_count{namespace!=""}');
    expect(externalRules?.[0]?.resources.overrides).toEqual({ namespace: { resource: 'namespace' } });
    expect(externalRules?.[0]?.metricsQuery).toContain('[10s]');
  });

  it('rejects a rate window that is not a positive integer', () => {
    expect(() => prometheusAdapterConfig('Pods', 0)).toThrow(
      'rateWindowSeconds must be a positive integer, got 0',
    );
  });

  it('is what charts-ts/README.md shows for both shapes', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const blocks = [...readme.matchAll(/```yaml\n# prometheus-adapter: (\w+)\n([\s\S]*?)```/g)];
    expect(blocks.map((b) => b[1])).toEqual(['Pods', 'External']);
    for (const [, type, body] of blocks) {
      expect(parse(body ?? '')).toEqual(prometheusAdapterConfig(type as 'Pods' | 'External'));
    }
  });
});
