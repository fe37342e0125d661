import type { V2HorizontalPodAutoscaler } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { hpaToleranceLine } from './doctor.ts';

const hpa = (behavior: object): V2HorizontalPodAutoscaler => ({
  spec: { scaleTargetRef: { kind: 'Deployment', name: 'api' }, maxReplicas: 10, behavior },
});

describe("doctor's HPA tolerance line", () => {
  it.each<[string, object, string]>([
    ['no behavior', {}, 'scale-up 10 % (the cluster default), scale-down 10 % (the cluster default)'],
    [
      "the user's 2 % scale-down, as the API server writes it",
      { scaleDown: { tolerance: '20m' } },
      'scale-up 10 % (the cluster default), scale-down 2 % (spec.behavior.scaleDown.tolerance)',
    ],
    [
      'an unreadable scale-up beside a readable scale-down',
      { scaleUp: { tolerance: 'lots' }, scaleDown: { tolerance: '0.05' } },
      'scale-up 10 % (the cluster default), scale-down 5 % (spec.behavior.scaleDown.tolerance)',
    ],
  ])('%s', (_name, behavior, detail) => {
    expect(hpaToleranceLine(hpa(behavior))).toEqual({
      verdict: 'ok',
      check: 'HPA tolerance',
      detail: `${detail}: the operator sizes the HPA target's steps and the replica floor by these`,
    });
  });
});
