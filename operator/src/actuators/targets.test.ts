import type { V1Deployment, V2HorizontalPodAutoscaler, V2MetricSpec } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { API_VERSION, KIND, type PerformanceProfile } from '../api/v1alpha1/index.ts';
import { defaultedProfileSpec, HPA_TARGET_NOT_SET } from '../tuning/tuning-spec-from-profile.ts';
import { observeTarget } from './targets.ts';

const profile = (knobs: object): PerformanceProfile => ({
  apiVersion: API_VERSION,
  kind: KIND,
  metadata: { namespace: 'shop', name: 'main' },
  spec: defaultedProfileSpec({ targetRef: { name: 'risk-api', pool: { none: {} } }, knobs }),
});

const hpa = (metrics: object[], owner?: string): V2HorizontalPodAutoscaler => ({
  metadata: {
    name: 'risk-api',
    ...(owner
      ? { ownerReferences: [{ apiVersion: 'keda.sh/v1alpha1', kind: 'ScaledObject', name: owner, uid: 'u' }] }
      : {}),
  },
  spec: {
    scaleTargetRef: { kind: 'Deployment', name: 'risk-api' },
    minReplicas: 2,
    maxReplicas: 10,
    metrics: metrics as V2MetricSpec[],
  },
});
const cpu70 = {
  type: 'Resource',
  resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } },
};
const rps = {
  type: 'Pods',
  pods: {
    metric: { name: 'http_requests_per_second' },
    target: { type: 'AverageValue', averageValue: '200' },
  },
};

describe('observeTarget: the HPA CPU target', () => {
  it.each<[string, object, V2HorizontalPodAutoscaler, number | undefined, RegExp | undefined]>([
    ['read and tuned where the profile asks for it', { hpaTarget: {} }, hpa([cpu70]), 70, undefined],
    [
      'read, not held here, where the profile does not ask (the engine holds it)',
      {},
      hpa([cpu70]),
      70,
      undefined,
    ],
    [
      'held on an HPA without a cpu Utilization metric',
      { hpaTarget: {} },
      hpa([rps]),
      undefined,
      /has no Resource cpu metric/,
    ],
    [
      'not a problem on an HPA on the tuned request rate alone',
      {
        hpaTarget: {
          requestRate: { metricName: 'http_requests_per_second', minPerPod: 100, maxPerPod: 900 },
        },
      },
      hpa([rps]),
      undefined,
      /^the HPA has no Resource cpu Utilization metric: it scales on the request rate, whose target is tuned$/,
    ],
    [
      'held on a KEDA-owned HPA, its value still read',
      { hpaTarget: {} },
      hpa([cpu70], 'search'),
      70,
      /owned by KEDA ScaledObject search/,
    ],
  ])('%s', async (_name, knobs, found, current, held) => {
    const observed = await observeTarget(
      {
        deployment: () => ({ metadata: { name: 'risk-api' } }) as V1Deployment,
        hpa: () => found,
        configMap: () => undefined,
        scaledObject: () => ({
          metadata: { name: 'search' },
          spec: { minReplicaCount: 2, maxReplicaCount: 10 },
        }),
      },
      profile(knobs),
    );
    expect(observed.current.hpaTargetCpuPercent).toBe(current);
    const reason = observed.untunedKnobs?.hpaTargetCpuPercent;
    if (held) expect(reason).toMatch(held);
    else expect(reason).toBeUndefined();
  });

  it('names the reason the engine holds it without spec.knobs.hpaTarget', () => {
    expect(HPA_TARGET_NOT_SET).toBe("spec.knobs.hpaTarget is not set: the HPA's target is held as written");
  });
});
