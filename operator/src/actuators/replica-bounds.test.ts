import type { V2HorizontalPodAutoscaler, V2MetricSpec } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  cpuUtilizationTargetOf,
  hpaApplyBody,
  hpaTargetNotActuatable,
  metricsWithCpuTarget,
  metricsWithRateTarget,
  rateMetricDisagreement,
  rateTargetNotActuatable,
  requestRateReadingOf,
  requestRateTargetOf,
  SCALES_ON_REQUEST_RATE,
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

  it('says an HPA on the request rate alone scales on it, where the profile tunes that target', () => {
    expect(hpaTargetNotActuatable(hpaWith([rps]), undefined, true)).toBe(SCALES_ON_REQUEST_RATE);
    // KEDA's hold comes first; a cpu metric is tuned as always.
    expect(hpaTargetNotActuatable(hpaWith([rps], 'search'), undefined, true)).toMatch(/owned by KEDA/);
    expect(hpaTargetNotActuatable(hpaWith([cpu(70), rps]), undefined, true)).toBeUndefined();
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

describe('the HPA request-rate target', () => {
  const pods = (averageValue: string, name = 'http_requests_per_second'): V2MetricSpec => ({
    type: 'Pods',
    pods: { metric: { name }, target: { type: 'AverageValue', averageValue } },
  });
  const external = (averageValue: string): V2MetricSpec => ({
    type: 'External',
    external: {
      metric: { name: 'http_requests_per_second' },
      target: { type: 'AverageValue', averageValue },
    },
  });
  const objectValue: V2MetricSpec = {
    type: 'Object',
    object: {
      describedObject: { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', name: 'shop' },
      metric: { name: 'http_requests_per_second' },
      target: { type: 'Value', value: '10k' },
    },
  };

  it.each<[string, V2MetricSpec[] | undefined, number | undefined]>([
    ['a Pods metric’s AverageValue', [cpu(70), pods('200')], 200],
    ['an External metric’s AverageValue, as a quantity', [external('1500m')], 2],
    // The API server stores quantities canonical: 1.2k reads back as 1200, 1.5 as 1500m.
    ['a quantity with a suffix', [pods('2k')], 2000],
    ['none below one request a second', [pods('500m')], undefined],
    ['none for another metric’s name', [pods('200', 'queue_depth')], undefined],
    ['none for an Object metric with a Value target', [objectValue], undefined],
    ['none without metrics', undefined, undefined],
  ])('reads %s', (_name, metrics, expected) => {
    expect(requestRateTargetOf(hpaWith(metrics), 'http_requests_per_second')).toBe(expected);
  });

  it.each<[string, V2HorizontalPodAutoscaler, RegExp | undefined]>([
    ['an HPA with the metric is tunable', hpaWith([cpu(70), pods('200')]), undefined],
    ['a KEDA-owned HPA is held', hpaWith([pods('200')], 'search'), /owned by KEDA ScaledObject search/],
    [
      'an HPA without the metric is held, naming it',
      hpaWith([cpu(70)]),
      /no Pods, Object or External metric http_requests_per_second with target.type AverageValue/,
    ],
  ])('%s', (_name, hpa, reason) => {
    const held = rateTargetNotActuatable(hpa, 'http_requests_per_second');
    if (reason) expect(held).toMatch(reason);
    else expect(held).toBeUndefined();
  });

  it('sets only that metric’s AverageValue and keeps every other metric as written, in order', () => {
    const metrics = [memory, cpu(70), pods('200'), pods('30', 'queue_depth')];
    expect(metricsWithRateTarget(metrics, { metricName: 'http_requests_per_second', perPod: 350 })).toEqual([
      memory,
      cpu(70),
      pods('350'),
      pods('30', 'queue_depth'),
    ]);
    expect(metrics[2]).toEqual(pods('200'));
  });

  it.each<[string, V2MetricSpec[], number, RegExp]>([
    ['a target below 1', [pods('200')], 0, /requestRate.perPod must be a whole number ≥ 1, got 0/],
    ['a fractional target', [pods('200')], 2.5, /got 2.5/],
    [
      'a list without the metric',
      [cpu(70)],
      300,
      /no Pods, Object or External metric http_requests_per_second/,
    ],
  ])('refuses %s', (_name, metrics, perPod, message) => {
    expect(() => metricsWithRateTarget(metrics, { metricName: 'http_requests_per_second', perPod })).toThrow(
      message,
    );
  });

  it('an apply body with both targets carries the whole list with both set', () => {
    const body = hpaApplyBody(
      hpaWith([memory, cpu(70), pods('200')]),
      { namespace: 'shop', name: 'risk-api' },
      {
        minReplicas: 2,
        maxReplicas: 6,
        cpuUtilizationPercent: 80,
        requestRate: { metricName: 'http_requests_per_second', perPod: 450 },
      },
    );
    expect(body.spec).toEqual({ minReplicas: 2, maxReplicas: 6, metrics: [memory, cpu(80), pods('450')] });
  });
});

describe('the HPA’s reading of its request-rate metric', () => {
  const metricName = 'http_requests_per_second';
  /** An HPA whose controller last read `averageValue` a pod (Pods metric) with `currentReplicas` pods. */
  const hpaReading = (averageValue: string | undefined, currentReplicas = 4, name = metricName) => ({
    metadata: { name: 'checkout' },
    status: {
      desiredReplicas: currentReplicas,
      currentReplicas,
      currentMetrics: [
        { type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 55 } } },
        ...(averageValue === undefined
          ? []
          : [{ type: 'Pods', pods: { metric: { name }, current: { averageValue } } }]),
      ],
    },
  });

  it.each<[string, ReturnType<typeof hpaReading>, number | undefined]>([
    ['a Pods metric’s current averageValue', hpaReading('400'), 400],
    ['as a quantity', hpaReading('2500m'), 2.5],
    ['none without a reading of that metric', hpaReading(undefined), undefined],
    ['none for another metric', hpaReading('400', 4, 'queue_depth'), undefined],
    ['none for a value that is not a quantity', hpaReading('four hundred'), undefined],
  ])('reads %s', (_name, hpa, expected) => {
    expect(requestRateReadingOf(hpa as V2HorizontalPodAutoscaler, metricName)).toBe(expected);
  });

  // The profile measures 1,600 requests/s on 4 ready pods: 400 a pod.
  it.each<[string, ReturnType<typeof hpaReading>, number, RegExp | undefined]>([
    ['agrees when it reads the same 400 a pod', hpaReading('400'), 4, undefined],
    ['agrees within 25 % (the windows differ)', hpaReading('350'), 4, undefined],
    [
      'agrees while a new pod is not ready yet (the HPA counts 5, the profile 4)',
      hpaReading('320', 5),
      4,
      undefined,
    ],
    [
      'disagrees with a metric per minute',
      hpaReading('24k'),
      4,
      /^http_requests_per_second reads 24000\/pod on 4 pods, the profile 400\/pod: not the same requests per second$/,
    ],
    ['disagrees with a metric of one endpoint in ten', hpaReading('40'), 4, /reads 40\/pod on 4 pods/],
    ['disagrees with a reading of zero under load', hpaReading('0'), 4, /reads 0\/pod/],
    [
      'compares with the HPA’s count where no ready pod is counted',
      hpaReading('24k'),
      0,
      /reads 24000\/pod on 4 pods, the profile 400\/pod/,
    ],
  ])('%s', (_name, hpa, ready, expected) => {
    const reason = rateMetricDisagreement(hpa as V2HorizontalPodAutoscaler, metricName, {
      requestsPerSecond: 1600,
      readyReplicas: ready,
    });
    if (expected === undefined) expect(reason).toBeUndefined();
    else expect(reason).toMatch(expected);
  });

  it('cannot compare without a measured load or a reading', () => {
    expect(
      rateMetricDisagreement(hpaReading('24k') as V2HorizontalPodAutoscaler, metricName, undefined),
    ).toBe(undefined);
    expect(
      rateMetricDisagreement(hpaReading('24k') as V2HorizontalPodAutoscaler, metricName, {
        requestsPerSecond: 0,
        readyReplicas: 4,
      }),
    ).toBe(undefined);
    expect(
      rateMetricDisagreement(hpaReading(undefined) as V2HorizontalPodAutoscaler, metricName, {
        requestsPerSecond: 1600,
        readyReplicas: 4,
      }),
    ).toBe(undefined);
  });
});
