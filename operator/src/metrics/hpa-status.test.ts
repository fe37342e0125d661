import type { V2HorizontalPodAutoscaler } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { hpaStatusOf } from './hpa-status.ts';

const hpa = (status: V2HorizontalPodAutoscaler['status']): V2HorizontalPodAutoscaler => ({
  spec: { minReplicas: 2, maxReplicas: 10, scaleTargetRef: { kind: 'Deployment', name: 'risk-api' } },
  status,
});

describe('hpaStatusOf', () => {
  it.each<[string, V2HorizontalPodAutoscaler['status'], Partial<ReturnType<typeof hpaStatusOf>>, string[]?]>([
    [
      'replicas, a CPU metric and its conditions',
      {
        currentReplicas: 4,
        desiredReplicas: 6,
        currentMetrics: [
          { type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 85 } } },
        ],
        conditions: [
          { type: 'AbleToScale', status: 'True', reason: 'SucceededRescale' },
          { type: 'ScalingLimited', status: 'False', reason: 'DesiredWithinRange' },
        ],
      },
      {
        currentReplicas: 4,
        desiredReplicas: 6,
        cpuUtilizationPercent: 85,
        scalingLimited: false,
        minReplicas: 2,
        maxReplicas: 10,
      },
    ],
    [
      'at its ceiling',
      {
        currentReplicas: 10,
        desiredReplicas: 10,
        conditions: [
          {
            type: 'ScalingLimited',
            status: 'True',
            reason: 'TooManyReplicas',
            message: 'the desired replica count is more than the maximum replica count',
          },
        ],
      },
      { currentReplicas: 10, scalingLimited: true },
    ],
    [
      'a Pods metric only: no CPU reading',
      {
        currentReplicas: 3,
        desiredReplicas: 3,
        currentMetrics: [
          {
            type: 'Pods',
            pods: { metric: { name: 'requests_per_second' }, current: { averageValue: '900' } },
          },
        ],
      },
      { currentReplicas: 3 },
      ['cpuUtilizationPercent'],
    ],
    [
      'a new HPA without status',
      undefined,
      { conditions: [], scalingLimited: false },
      ['currentReplicas', 'desiredReplicas'],
    ],
  ])('%s', (_what, status, expected, absent = []) => {
    const read = hpaStatusOf(hpa(status));
    expect(read).toMatchObject(expected);
    for (const field of absent) expect(read).not.toHaveProperty(field);
  });
});
