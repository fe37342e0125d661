import { describe, expect, it } from 'vitest';
import {
  DEFAULT_HPA_BEHAVIOR,
  EMPTY_HPA_MEMORY,
  type HpaMemory,
  type HpaObservation,
  hpaSync,
  metricReplicas,
} from './hpa.ts';

function observe(o: Partial<HpaObservation>): HpaObservation {
  return {
    nowSeconds: 0,
    currentReplicas: 4,
    readyPods: 4,
    unreadyPods: 0,
    readyUtilization: 0.5,
    targetUtilization: 0.5,
    minReplicas: 1,
    maxReplicas: 100,
    ...o,
  };
}

describe('HPA replica calculation (Kubernetes docs, "Algorithm details")', () => {
  it.each<[string, Partial<HpaObservation>, number]>([
    ['metric 200m against 100m doubles the replicas', { readyUtilization: 1.0, targetUtilization: 0.5 }, 8],
    ['metric 50m against 100m halves them', { readyUtilization: 0.25, targetUtilization: 0.5 }, 2],
    [
      'a ratio within the 0.1 tolerance changes nothing',
      { readyUtilization: 0.54, targetUtilization: 0.5 },
      4,
    ],
    ['just outside the tolerance scales', { readyUtilization: 0.56, targetUtilization: 0.5 }, 5],
    [
      'unready pods count as 0 % on scale-up, and a ratio back within tolerance skips it',
      { currentReplicas: 6, readyPods: 3, unreadyPods: 3, readyUtilization: 1.0, targetUtilization: 0.5 },
      6,
    ],
    [
      'unready pods dampen a scale-up',
      { currentReplicas: 4, readyPods: 2, unreadyPods: 2, readyUtilization: 1.0, targetUtilization: 0.3 },
      7, // ceil(((1.0 × 2) / 4 / 0.3) × 4)
    ],
    [
      'with a request-rate Pods metric too, the metric that asks for more pods wins',
      { readyUtilization: 0.5, targetUtilization: 0.5, readyRequestsPerPod: 300, targetRequestsPerPod: 200 },
      6, // CPU holds 4; the rate asks for ceil(300 / 200 × 4)
    ],
    [
      'a request-rate target looser than the CPU target leaves the CPU count',
      { readyUtilization: 0.75, targetUtilization: 0.5, readyRequestsPerPod: 300, targetRequestsPerPod: 600 },
      6, // the rate asks for 2; CPU for ceil(1.5 × 4)
    ],
    [
      'a request-rate ratio within the tolerance changes nothing',
      { readyUtilization: 0.5, targetUtilization: 0.5, readyRequestsPerPod: 210, targetRequestsPerPod: 200 },
      4,
    ],
  ])('%s', (_name, o, expected) => {
    expect(metricReplicas(observe(o))).toBe(expected);
  });
});

describe("the HPA's tolerance per direction (behavior.scaleUp/scaleDown.tolerance, KEP-4951)", () => {
  // 4 pods at 53.5 % against a 50 % target: a ratio of 1.07, within the default 0.1.
  const warm = observe({ readyUtilization: 0.535, targetUtilization: 0.5 });
  // 4 pods at 47.5 %: a ratio of 0.95.
  const cool = observe({ readyUtilization: 0.475, targetUtilization: 0.5 });
  it.each<[string, HpaObservation, { scaleUp: number; scaleDown: number } | undefined, number]>([
    ['the default 0.1 leaves a ratio of 1.07', warm, undefined, 4],
    ['a scale-up tolerance of 0.05 adds a pod at 1.07', warm, { scaleUp: 0.05, scaleDown: 0.1 }, 5],
    ['a scale-up tolerance of 0 adds it too', warm, { scaleUp: 0, scaleDown: 0.1 }, 5],
    ['a scale-down tolerance does not act above 1', warm, { scaleUp: 0.1, scaleDown: 0 }, 4],
    ['the default leaves a ratio of 0.95', cool, undefined, 4],
    [
      'a scale-down tolerance of 0.02 removes nothing: ceil(0.95 × 4) is still 4',
      cool,
      { scaleUp: 0.1, scaleDown: 0.02 },
      4,
    ],
  ])('%s', (_name, o, tolerance, expected) => {
    expect(tolerance ? metricReplicas(o, tolerance) : metricReplicas(o)).toBe(expected);
  });

  it('hpaSync reads it from the behavior', () => {
    const behavior = {
      ...DEFAULT_HPA_BEHAVIOR,
      scaleUp: { ...DEFAULT_HPA_BEHAVIOR.scaleUp, tolerance: 0.05 },
    };
    expect(hpaSync(warm, EMPTY_HPA_MEMORY).replicas).toBe(4);
    expect(hpaSync(warm, EMPTY_HPA_MEMORY, behavior).replicas).toBe(5);
  });
});

describe('HPA default behavior', () => {
  it('scales up by at most max(100 %, 4 pods) per 15 s sync', () => {
    let memory: HpaMemory = EMPTY_HPA_MEMORY;
    let replicas = 2;
    const steps: number[] = [];
    for (let i = 0; i < 4; i++) {
      const o = observe({
        nowSeconds: i * 15,
        currentReplicas: replicas,
        readyPods: replicas,
        readyUtilization: 5,
        targetUtilization: 0.5,
      });
      ({ replicas, memory } = hpaSync(o, memory));
      steps.push(replicas);
    }
    expect(steps).toEqual([6, 12, 24, 48]);
  });

  it('waits out the 300 s scale-down stabilization window, then scales down at once', () => {
    let memory: HpaMemory = EMPTY_HPA_MEMORY;
    let replicas = 10;
    ({ replicas, memory } = hpaSync(observe({ nowSeconds: 0, currentReplicas: 10, readyPods: 10 }), memory));
    const seen: number[] = [];
    for (let t = 15; t <= 330; t += 15) {
      const o = observe({
        nowSeconds: t,
        currentReplicas: replicas,
        readyPods: replicas,
        readyUtilization: 0.1,
      });
      ({ replicas, memory } = hpaSync(o, memory));
      seen.push(replicas);
    }
    // Recommendations of 10 from t = 0 stay in the window until t = 300.
    expect(seen.slice(0, 19)).toEqual(Array(19).fill(10));
    expect(seen.at(-1)).toBe(2);
  });

  it('clamps to minReplicas and maxReplicas', () => {
    expect(hpaSync(observe({ readyUtilization: 5, maxReplicas: 5 }), EMPTY_HPA_MEMORY).replicas).toBe(5);
    expect(
      hpaSync(observe({ currentReplicas: 1, readyPods: 1, minReplicas: 3 }), EMPTY_HPA_MEMORY).replicas,
    ).toBe(3);
  });
});
