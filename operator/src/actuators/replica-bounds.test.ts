import type { V2HorizontalPodAutoscaler, V2MetricSpec } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  cpuUtilizationTargetOf,
  hpaApplyBody,
  hpaTargetNotActuatable,
  metricsWithCpuTarget,
  validateReplicaBounds,
} from './replica-bounds.ts';

describe('validateReplicaBounds', () => {
  it.each([
    [{ minReplicas: 0, maxReplicas: 3 }, /minReplicas must be a whole number ≥ 1, got 0/],
    [{ minReplicas: 1.5, maxReplicas: 3 }, /minReplicas must be a whole number ≥ 1, got 1.5/],
    [{ minReplicas: 4, maxReplicas: 3 }, /maxReplicas must be a whole number ≥ minReplicas \(4\), got 3/],
    [{ minReplicas: 2, maxReplicas: Number.POSITIVE_INFINITY }, /maxReplicas must be a whole number/],
  ])('refuses %j', (bounds, message) => {
    expect(() => validateReplicaBounds(bounds)).toThrow(message);
  });

  it.each([
    { minReplicas: 2, maxReplicas: 10 },
    { minReplicas: 3, maxReplicas: 3 },
  ])('accepts %j', (bounds) => {
    expect(() => validateReplicaBounds(bounds)).not.toThrow();
  });
});

const cpu = (averageUtilization: number): V2MetricSpec => ({
  type: 'Resource',
  resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization } },
});
const memory: V2MetricSpec = {
  type: 'Resource',
  resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '512Mi' } },
};
const rps: V2MetricSpec = {
  type: 'Pods',
  pods: {
    metric: { name: 'http_requests_per_second' },
    target: { type: 'AverageValue', averageValue: '200' },
  },
};
const hpaWith = (metrics: V2MetricSpec[] | undefined, owner?: string): V2HorizontalPodAutoscaler => ({
  metadata: {
    name: 'risk-api',
    ...(owner
      ? { ownerReferences: [{ apiVersion: 'keda.sh/v1alpha1', kind: 'ScaledObject', name: owner, uid: 'u' }] }
      : {}),
  },
  spec: {
    scaleTargetRef: { kind: 'Deployment', name: 'risk-api' },
    maxReplicas: 10,
    ...(metrics ? { metrics } : {}),
  },
});

describe('the HPA CPU target', () => {
  it.each<[string, V2MetricSpec[] | undefined, number | undefined]>([
    ['the cpu Utilization target', [memory, cpu(70)], 70],
    ['none without metrics', undefined, undefined],
    [
      'none for a cpu AverageValue target',
      [
        {
          type: 'Resource',
          resource: { name: 'cpu', target: { type: 'AverageValue', averageValue: '500m' } },
        },
      ],
      undefined,
    ],
  ])('reads %s', (_name, metrics, expected) => {
    expect(cpuUtilizationTargetOf(hpaWith(metrics))).toBe(expected);
  });

  it.each<[string, V2HorizontalPodAutoscaler, RegExp | undefined]>([
    ['an HPA with a cpu Utilization metric is tuned', hpaWith([cpu(70)]), undefined],
    [
      'a KEDA-owned HPA is held',
      hpaWith([cpu(70)], 'search'),
      /owned by KEDA ScaledObject search, which writes its metrics/,
    ],
    [
      'an HPA on other metrics alone is held',
      hpaWith([rps]),
      /has no Resource cpu metric with target.type Utilization/,
    ],
  ])('%s', (_name, hpa, reason) => {
    const held = hpaTargetNotActuatable(hpa);
    if (reason) expect(held).toMatch(reason);
    else expect(held).toBeUndefined();
  });

  it('sets only the cpu Utilization target and keeps every other metric as written, in order', () => {
    const metrics = [memory, cpu(70), rps];
    expect(metricsWithCpuTarget(metrics, 82)).toEqual([memory, cpu(82), rps]);
    expect(metrics[1]).toEqual(cpu(70));
  });

  it.each<[string, V2MetricSpec[] | undefined, number, RegExp]>([
    [
      'a target above 100',
      [cpu(70)],
      120,
      /cpuUtilizationPercent must be a whole number in \[1, 100\], got 120/,
    ],
    ['a fractional target', [cpu(70)], 72.5, /got 72.5/],
    [
      'a list without a cpu Utilization metric',
      [rps],
      80,
      /no Resource cpu metric with target.type Utilization/,
    ],
  ])('refuses %s', (_name, metrics, percent, message) => {
    expect(() => metricsWithCpuTarget(metrics, percent)).toThrow(message);
  });

  it.each<[string, number | undefined, object]>([
    ['bounds alone without a target', undefined, { minReplicas: 2, maxReplicas: 6 }],
    [
      'the whole metrics list with a target',
      80,
      { minReplicas: 2, maxReplicas: 6, metrics: [memory, cpu(80), rps] },
    ],
  ])('an apply body carries %s', (_name, cpuUtilizationPercent, spec) => {
    const body = hpaApplyBody(
      hpaWith([memory, cpu(70), rps]),
      { namespace: 'shop', name: 'risk-api' },
      { minReplicas: 2, maxReplicas: 6, ...(cpuUtilizationPercent ? { cpuUtilizationPercent } : {}) },
    );
    expect(body).toEqual({
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'risk-api', namespace: 'shop' },
      spec,
    });
  });
  it.each<[string, string, object]>([
    [
      'perfpilot applied before',
      'perfpilot',
      { minReplicas: 2, maxReplicas: 6, metrics: [memory, cpu(70), rps] },
    ],
    ['another manager owns', 'argocd-controller', { minReplicas: 2, maxReplicas: 6 }],
  ])('without a target, an apply body carries the list as read only where %s', (_name, manager, spec) => {
    const live = hpaWith([memory, cpu(70), rps]);
    const owned: V2HorizontalPodAutoscaler = {
      ...live,
      metadata: {
        ...live.metadata,
        managedFields: [
          {
            manager,
            operation: 'Apply',
            fieldsType: 'FieldsV1',
            fieldsV1: { 'f:spec': { 'f:metrics': {}, 'f:minReplicas': {}, 'f:maxReplicas': {} } },
          },
        ],
      },
    };
    const body = hpaApplyBody(
      owned,
      { namespace: 'shop', name: 'risk-api' },
      { minReplicas: 2, maxReplicas: 6 },
    );
    expect(body.spec).toEqual(spec);
  });
});
