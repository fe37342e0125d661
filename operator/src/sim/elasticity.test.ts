import { describe, expect, it } from 'vitest';
import {
  accountElasticity,
  demandedPods,
  elasticityOf,
  emptyElasticity,
  utilizationAtSlo,
} from './elasticity.ts';
import { parseScenario } from './scenario.ts';

const scenario = parseScenario({
  name: 'defaults',
  durationMinutes: 60,
  load: { points: [{ minute: 0, rps: 1000 }] },
});

describe('elasticityOf', () => {
  it.each<[string, [number, number][], [number, number, number, number]]>([
    [
      'supply equal to demand',
      [
        [4, 4],
        [2, 2],
      ],
      [0, 0, 0, 0],
    ],
    // one tick short by half the demand, one tick on the mark: θU 25 %, τU 50 %
    [
      'short half the demand half the time',
      [
        [4, 2],
        [4, 4],
      ],
      [25, 0, 50, 0],
    ],
    // one tick with twice the demand, one with 1.5×: θO (100 + 50) / 2 = 75 %, τO 100 %
    [
      'over-provisioned all the time',
      [
        [2, 4],
        [2, 3],
      ],
      [0, 75, 0, 100],
    ],
  ])('%s', (_name, ticks, [underAccuracy, overAccuracy, underTimeshare, overTimeshare]) => {
    const sums = emptyElasticity();
    for (const [demanded, supplied] of ticks) accountElasticity(sums, demanded, supplied);
    expect(elasticityOf(sums)).toEqual({ underAccuracy, overAccuracy, underTimeshare, overTimeshare });
  });
});

describe('the demanded pods', () => {
  it('a replica runs hotter within a loose p95 objective than within a tight one', () => {
    const loose = utilizationAtSlo(scenario, 0.87, 200);
    const tight = utilizationAtSlo(scenario, 0.87, 60);
    expect(loose).toBeGreaterThan(tight);
    expect(loose).toBeLessThanOrEqual(1);
  });

  it('a lower hit rate demands more pods for the same load', () => {
    const at = (hitRate: number) =>
      demandedPods(scenario, 4000, hitRate, utilizationAtSlo(scenario, hitRate, 200));
    expect(at(0.5)).toBeGreaterThan(at(0.9));
  });
});
