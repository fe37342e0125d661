import { describe, expect, it } from 'vitest';
import {
  breakDownMisses,
  cacheUnsettled,
  fitMissCurveExponent,
  type MemoryInput,
  memoryContext,
  PRIOR_MISS_CURVE_EXPONENT,
  recommendMaxMemory,
} from './cache-policy.ts';
import { healthySnapshot, TEST_SPEC } from './test-fixtures.ts';
import { maxMemoryCeilingMiB } from './tuning-spec.ts';
import type { RedisSignals } from './types.ts';

const spec = TEST_SPEC;
const MIB = 1024 * 1024;

function redis(signals: Partial<RedisSignals>) {
  return healthySnapshot(1000, { redis: signals });
}

/** The memory policy's input: 512 MiB in force, the prior curve, no remembered peak, a 2,000 rps forecast. */
function input(overrides: Partial<MemoryInput> & Pick<MemoryInput, 'snapshot'>): MemoryInput {
  return {
    spec,
    currentMiB: 512,
    missCurveExponent: PRIOR_MISS_CURVE_EXPONENT,
    peakUsedBytes: 0,
    forecastPeakRps: 2000,
    ...overrides,
  };
}

describe('recommendMaxMemory', () => {
  it.each<[string, Partial<RedisSignals>, number, number | undefined, RegExp]>([
    [
      'grows for eviction misses',
      { hitsPerSecond: 1600, missesPerSecond: 400, evictedKeysPerSecond: 360, expiredKeysPerSecond: 40 },
      512,
      1371, // 512 × (18 % eviction misses / 11 % allowed)^(1 / 0.5)
      /needs 1371 MiB for 87.0 %/,
    ],
    [
      'does not grow for TTL misses',
      {
        hitsPerSecond: 1400,
        missesPerSecond: 600,
        evictedKeysPerSecond: 50,
        expiredKeysPerSecond: 550,
        usedMemoryBytes: 512 * MIB,
      },
      512,
      undefined,
      /TTL expiry alone exceeds the miss budget/,
    ],
    [
      'shrinks idle memory to the peak used + 25 %',
      {
        hitsPerSecond: 1900,
        missesPerSecond: 100,
        evictedKeysPerSecond: 0,
        expiredKeysPerSecond: 100,
        usedMemoryBytes: 200 * MIB,
      },
      1024,
      250,
      /nothing evicted; 200 MiB used, at most 200 MiB at the forecast peak/,
    ],
    [
      'shrinks idle memory even when TTL keeps the hit rate below target',
      {
        hitsPerSecond: 1200,
        missesPerSecond: 800,
        evictedKeysPerSecond: 0,
        expiredKeysPerSecond: 800,
        usedMemoryBytes: 50 * MIB,
      },
      512,
      64,
      /nothing evicted/,
    ],
    [
      'holds memory that serves hits',
      { hitsPerSecond: 1900, missesPerSecond: 100, evictedKeysPerSecond: 60, expiredKeysPerSecond: 40 },
      512,
      undefined,
      /target holds/,
    ],
  ])('%s', (_name, signals, current, expected, reason) => {
    const need = recommendMaxMemory(input({ snapshot: redis(signals), currentMiB: current }));
    expect(need.valueMiB).toBe(expected);
    expect(need.reason).toMatch(reason);
  });

  it.each<[string, boolean, Partial<RedisSignals>, number | undefined, RegExp]>([
    [
      'a CPU-bound fleet grows memory for eviction misses although the hit-rate target holds',
      true,
      { hitsPerSecond: 1840, missesPerSecond: 160, evictedKeysPerSecond: 100, expiredKeysPerSecond: 60 },
      12800, // 512 × (5 % eviction misses / 1 %)^(1 / 0.5), then the ceiling
      /fleet runs above its floor, so eviction misses cost pods; .* needs 12800 MiB/,
    ],
    [
      'a fleet at its floor keeps the memory: fewer misses would save no pod',
      false,
      { hitsPerSecond: 1840, missesPerSecond: 160, evictedKeysPerSecond: 100, expiredKeysPerSecond: 60 },
      undefined,
      /target holds/,
    ],
    [
      'a CPU-bound fleet whose eviction misses are already rare keeps the memory',
      true,
      { hitsPerSecond: 1900, missesPerSecond: 100, evictedKeysPerSecond: 15, expiredKeysPerSecond: 85 },
      undefined,
      /target holds/,
    ],
  ])('%s', (_name, cpuBound, signals, expected, reason) => {
    const need = recommendMaxMemory(input({ snapshot: redis(signals), context: { cpuBound } }));
    expect(need.valueMiB).toBe(
      expected === undefined ? undefined : Math.min(expected, maxMemoryCeilingMiB(spec)),
    );
    expect(need.reason).toMatch(reason);
  });

  it.each<[string, boolean, number | undefined, number | undefined, RegExp]>([
    [
      'keeps idle memory for the remembered peak while the fleet may need it',
      false,
      1,
      undefined,
      /memory cannot help/,
    ],
    [
      'at its floor with CPU to spare, sizes idle memory for today’s use',
      true,
      1,
      375,
      /within the 1800 s before memory could grow back, so 300 MiB \+ 25 %/,
    ],
    [
      'at its floor, keeps room for the load the stabilization window may bring',
      true,
      1.5,
      563, // 300 MiB × 1.5 × 1.25
      /grew up to 1\.50× within the 1800 s before memory could grow back, so 450 MiB \+ 25 %/,
    ],
    ['at its floor, keeps memory the window’s growth would fill', true, 6, undefined, /memory cannot help/],
    [
      'at its floor, keeps memory while the window’s growth is not measured',
      true,
      undefined,
      undefined,
      /growth over that window is not measured yet; memory is kept/,
    ],
  ])('%s', (_name, atFloor, growth, expected, reason) => {
    const quietNight = redis({
      hitsPerSecond: 1700,
      missesPerSecond: 300,
      evictedKeysPerSecond: 0,
      expiredKeysPerSecond: 300,
      usedMemoryBytes: 300 * MIB,
    });
    const need = recommendMaxMemory(
      input({
        snapshot: quietNight,
        currentMiB: 1728,
        peakUsedBytes: 1700 * MIB,
        context: { atFloor },
        regrowWindow: { seconds: 1800, growth },
      }),
    );
    expect(need.valueMiB).toBe(expected);
    expect(need.reason).toMatch(reason);
  });

  it('keeps idle-looking memory that the forecast peak load would fill', () => {
    const signals = {
      hitsPerSecond: 1900,
      missesPerSecond: 100,
      evictedKeysPerSecond: 0,
      expiredKeysPerSecond: 100,
      usedMemoryBytes: 300 * MIB,
    };
    expect(recommendMaxMemory(input({ snapshot: redis(signals) })).valueMiB).toBe(375);
    expect(
      recommendMaxMemory(input({ snapshot: redis(signals), forecastPeakRps: 4000 })).valueMiB,
    ).toBeUndefined();
  });

  it('asks for more memory the further the hit rate is below target', () => {
    const wanted = [0.84, 0.8, 0.75].map(
      (hit) =>
        recommendMaxMemory(
          input({
            snapshot: redis({
              hitsPerSecond: 2000 * hit,
              missesPerSecond: 2000 * (1 - hit),
              evictedKeysPerSecond: 90,
              expiredKeysPerSecond: 10,
            }),
            currentMiB: 256,
            missCurveExponent: 1,
          }),
        ).valueMiB ?? 0,
    );
    expect(wanted[0]).toBeLessThan(wanted[1] ?? 0);
    expect(wanted[1]).toBeLessThan(wanted[2] ?? 0);
  });
});

describe('memoryContext', () => {
  // TEST_SPEC's HPA target is 70 %: within its 10 % tolerance from 63 % CPU up.
  it.each<[string, number, number, { cpuBound: boolean; atFloor: boolean }]>([
    ['at the floor with CPU to spare', 2, 0.4, { cpuBound: false, atFloor: true }],
    ['at the floor just below the tolerance band', 2, 0.62, { cpuBound: false, atFloor: true }],
    ['at the floor within the tolerance of the target', 2, 0.65, { cpuBound: true, atFloor: true }],
    ['at the floor above the target (a step saturating it)', 2, 0.95, { cpuBound: true, atFloor: false }],
    ['above the floor', 3, 0.4, { cpuBound: true, atFloor: false }],
  ])('%s', (_name, readyReplicas, cpuUtilization, expected) => {
    expect(
      memoryContext(healthySnapshot(1000, { readyReplicas, cpuUtilization }), {
        minReplicas: 2,
        hpaTargetCpuPercent: 70,
        hpaTargetRequestsPerPod: 0,
      }),
    ).toEqual(expected);
  });
});

describe('miss breakdown and curve fit', () => {
  it('splits misses by what left the cache', () => {
    const b = breakDownMisses(
      redis({
        hitsPerSecond: 800,
        missesPerSecond: 200,
        evictedKeysPerSecond: 150,
        expiredKeysPerSecond: 50,
      }),
    );
    expect(b?.hitRate).toBeCloseTo(0.8);
    expect(b?.capacityMissRatio).toBeCloseTo(0.15);
    expect(b?.otherMissRatio).toBeCloseTo(0.05);
  });

  it('fits the exponent from the last memory change: doubling memory halved eviction misses → 1', () => {
    const before = redis({
      hitsPerSecond: 800,
      missesPerSecond: 200,
      evictedKeysPerSecond: 200,
      expiredKeysPerSecond: 0,
    });
    const after = redis({
      hitsPerSecond: 900,
      missesPerSecond: 100,
      evictedKeysPerSecond: 100,
      expiredKeysPerSecond: 0,
    });
    const change = {
      knob: 'redisMaxmemoryMiB' as const,
      from: 256,
      to: 512,
      atSeconds: 0,
      sloMetBefore: true,
      rollback: false,
      requestsPerSecondBefore: 1000,
    };
    expect(fitMissCurveExponent(change, before, after)).toBeCloseTo(1);
    expect(fitMissCurveExponent(undefined, before, after)).toBe(PRIOR_MISS_CURVE_EXPONENT);
  });
});

describe('cacheUnsettled', () => {
  /** A snapshot at `rps` with hit rate `hit`, at 512 MiB unless `maxMiB` says otherwise. */
  const at = (rps: number, hit: number, maxMiB = 512) =>
    healthySnapshot(1000, {
      requestsPerSecond: rps,
      redis: {
        hitsPerSecond: rps * hit,
        missesPerSecond: rps * (1 - hit),
        evictedKeysPerSecond: rps * (1 - hit),
        expiredKeysPerSecond: 0,
        maxMemoryBytes: maxMiB * MIB,
      },
    });
  const steady = Array.from({ length: 10 }, () => at(1500, 0.92));

  it.each<[string, ReturnType<typeof at>[], ReturnType<typeof at>, RegExp | undefined]>([
    ['a steady cache is settled', steady, at(1500, 0.91), undefined],
    [
      'a collapse at the same memory and load is not',
      steady,
      at(1500, 0.5),
      /hit rate between 50.0 % and 92.0 %/,
    ],
    [
      'nor is the warm-up after it',
      [...steady.slice(0, 5), at(1500, 0.5), at(1500, 0.7)],
      at(1500, 0.8),
      /cache not settled/,
    ],
    ['a hit rate that moved with a memory change is settled', steady, at(1500, 0.97, 1024), undefined],
    ['a hit rate that moved with the load is settled', steady, at(4000, 0.8), undefined],
    ['it settles once the swing leaves the window', [at(1500, 0.5), ...steady], at(1500, 0.92), undefined],
    [
      'a cache filling up (nothing evicted yet) is no change of content: its first evictions count',
      Array.from({ length: 9 }, (_, i) => ({
        ...at(1500, i * 0.01),
        redis: { ...at(1500, i * 0.01).redis, evictedKeysPerSecond: 0 },
      })),
      at(1500, 0.15),
      undefined,
    ],
  ])('%s', (_name, history, snapshot, reason) => {
    const problem = cacheUnsettled(history, snapshot);
    if (reason) expect(problem).toMatch(reason);
    else expect(problem).toBeUndefined();
  });
});
