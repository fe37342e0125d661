import { describe, expect, it } from 'vitest';
import { PRIOR_MISS_CURVE_EXPONENT, recommendMaxMemory } from './cache-policy.ts';
import { describeObjectiveCost, hitRateObjectiveCost, objectiveCostPerDay } from './objective-cost.ts';
import { healthySnapshot, TEST_SPEC } from './test-fixtures.ts';

const spec = TEST_SPEC; // p95 200 ms, errors 0.1 %, hit rate 85 %
/** Two replicas at their floor, CPU 30 %: below the point where the HPA adds a pod. */
const idleAtFloor = healthySnapshot(1000, { readyReplicas: 2, cpuUtilization: 0.3, p95LatencyMs: 90 });

describe('hitRateObjectiveCost', () => {
  it.each([
    ['memory grows, nothing else is bought', idleAtFloor, false, 512, 1536, 1],
    ['the fleet is CPU-bound: hits save pods', idleAtFloor, true, 512, 1536, undefined],
    [
      'p95 misses its objective: hits buy latency',
      { ...idleAtFloor, p95LatencyMs: 250 },
      false,
      512,
      1536,
      undefined,
    ],
    ['errors miss theirs', { ...idleAtFloor, errorRate: 0.01 }, false, 512, 1536, undefined],
    ['memory does not grow', idleAtFloor, false, 1536, 1024, undefined],
  ])('%s', (_name, snapshot, cpuBound, fromMiB, toMiB, extraGiB) => {
    expect(hitRateObjectiveCost(spec, snapshot, cpuBound, fromMiB, toMiB)?.extraGiB).toBe(extraGiB);
  });

  it('prices the extra memory per day', () => {
    const cost = hitRateObjectiveCost(spec, idleAtFloor, false, 512, 2560);
    expect(cost && objectiveCostPerDay(cost, 0.006)).toBeCloseTo(2 * 0.006 * 24, 9);
  });
});

describe('the memory policy tells what the hit-rate objective costs', () => {
  const evicting = {
    hitsPerSecond: 1600,
    missesPerSecond: 400,
    evictedKeysPerSecond: 360,
    expiredKeysPerSecond: 40,
  };
  const grow = (snapshot: typeof idleAtFloor, cpuBound: boolean) =>
    recommendMaxMemory({
      spec,
      snapshot: { ...snapshot, redis: { ...snapshot.redis, ...evicting } },
      currentMiB: 512,
      missCurveExponent: PRIOR_MISS_CURVE_EXPONENT,
      peakUsedBytes: 0,
      forecastPeakRps: 2000,
      context: { cpuBound, atFloor: !cpuBound },
    });

  it('says so when the growth buys no pod and no latency objective', () => {
    const need = grow(idleAtFloor, false);
    expect(need.valueMiB).toBe(1371);
    expect(need.objectiveCost?.extraGiB).toBeCloseTo((1371 - 512) / 1024, 9);
    expect(need.reason).toContain(describeObjectiveCost(need.objectiveCost ?? expect.fail('no cost')));
    expect(need.reason).toMatch(/85 % hit-rate objective alone asks for these \+0\.84 GiB/);
  });

  it('says nothing of the kind when the hits save pods', () => {
    const need = grow(healthySnapshot(1000, { readyReplicas: 6, cpuUtilization: 0.7 }), true);
    expect(need.valueMiB).toBe(1371);
    expect(need.objectiveCost).toBeUndefined();
    expect(need.reason).not.toMatch(/objective alone/);
  });
});
