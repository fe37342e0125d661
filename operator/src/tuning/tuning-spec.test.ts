import { describe, expect, it } from 'vitest';
import { specWith } from './test-fixtures.ts';
import { hpaDesiredReplicas, validateTuningSpec } from './tuning-spec.ts';

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

describe("the HPA's tolerance per direction (spec.behavior.*.tolerance, KEP-4951)", () => {
  // scale-up 10 %, scale-down 2 %, as a user may write them.
  const tolerance = { scaleUp: 0.1, scaleDown: 0.02 };
  it.each<[string, number, number]>([
    // name, utilization, what 50 pods at a 70 % target get
    ['3 % below the target: past the 2 % scale-down tolerance, ceil(50 × 0.97)', 0.679, 49],
    ['1.4 % below: within the scale-down tolerance', 0.69, 50],
    ['8.5 % below: ceil(50 × 0.915)', 0.6405, 46],
    ['9 % above: within the 10 % scale-up tolerance', 0.763, 50],
    ['13 % above: ceil(50 × 1.13)', 0.791, 57],
  ])('%s', (_name, utilization, expected) => {
    expect(hpaDesiredReplicas(50, utilization, 0.7, 50, tolerance)).toBe(expected);
  });

  it('a negative or NaN tolerance is refused, naming the field', () => {
    expect(() => validateTuningSpec(specWith({ hpaTolerance: { scaleUp: 0.1, scaleDown: -0.01 } }))).toThrow(
      /hpaTolerance.scaleDown must be a number in \[0, 1000000\], got -0.01/,
    );
    expect(() =>
      validateTuningSpec(specWith({ hpaTolerance: { scaleUp: Number.NaN, scaleDown: 0 } })),
    ).toThrow(/hpaTolerance.scaleUp/);
  });
});
