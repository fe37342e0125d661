import { describe, expect, it } from 'vitest';
import { hpaDesiredReplicas } from './tuning-spec.ts';

describe('hpaDesiredReplicas, the HPA formula on a CPU target', () => {
  it.each<[string, number, number, number, number, number]>([
    // name, pods, utilization, target, current, expected
    ['at the target: no change', 4, 0.7, 0.7, 4, 4],
    ['within +10 %: no change', 4, 0.76, 0.7, 4, 4],
    ['within −10 %: no change', 4, 0.64, 0.7, 4, 4],
    ['above the tolerance: ceil(pods × ratio)', 4, 0.9, 0.7, 4, 6],
    ['below the tolerance: ceil(pods × ratio)', 4, 0.3, 0.7, 4, 2],
    ['within tolerance keeps current, not pods', 3, 0.7, 0.7, 5, 5],
    ['saturated two pods', 2, 1.5, 0.7, 2, 5],
  ])('%s', (_name, pods, utilization, target, current, expected) => {
    expect(hpaDesiredReplicas(pods, utilization, target, current)).toBe(expected);
  });
});
