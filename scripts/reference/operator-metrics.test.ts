import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { OperatorMetric } from '../../operator/src/api/v1alpha1/index.ts';
import { createOperatorMetrics } from '../../operator/src/telemetry/metrics.ts';
import { type MetricLike, metricRow, metricsReference, typeText } from './operator-metrics.ts';

const counter: MetricLike = {
  name: 'perfpilot_x_total',
  help: 'Xs | counted.',
  type: 'counter',
  labelNames: ['a', 'b'],
};

describe('metricRow', () => {
  it('gives name, type, labels, help and whether it is part of the contract', () => {
    expect(metricRow(counter, new Set(['perfpilot_x_total']))).toEqual([
      '`perfpilot_x_total`',
      'counter',
      '`a`, `b`',
      'Xs \\| counted.',
      'yes',
    ]);
    expect(metricRow(counter, new Set())[4]).toBe('');
  });
});

describe('typeText', () => {
  it("lists a histogram's buckets without +Inf", () => {
    expect(
      typeText({ name: 'h', help: '', type: 'histogram', upperBounds: [0.1, 1, Number.POSITIVE_INFINITY] }),
    ).toBe('histogram<br>buckets 0.1, 1');
  });
});

describe('metricsReference', () => {
  it('refuses a contract name no metric has, so the page never promises a metric that is not exported', () => {
    expect(() => metricsReference([counter], ['perfpilot_gone'])).toThrow(/perfpilot_gone/);
  });

  it("lists every metric of the operator's registry and marks each OperatorMetric as contract", () => {
    const { registry } = createOperatorMetrics(new Registry());
    const page = metricsReference(
      registry.getMetricsAsArray() as unknown as MetricLike[],
      Object.values(OperatorMetric),
    );
    for (const metric of registry.getMetricsAsArray()) expect(page).toContain(`| \`${metric.name}\` |`);
    for (const name of Object.values(OperatorMetric))
      expect(page).toMatch(new RegExp(`\\| \`${name}\` \\|.*\\| yes \\|`));
    expect(page).toMatch(/\| `perfpilot_reconcile_errors_total` \| counter \| `action` \|.*\| {2}\|/);
  });
});
