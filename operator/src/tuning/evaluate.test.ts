import { describe, expect, it } from 'vitest';
import { EMPTY_HISTORY, evaluate, proposeKnobs, recordEvaluation } from './evaluate.ts';
import { SEED_STATIC_KNOBS } from './seed-baselines.ts';
import { healthySnapshot, SAFE_KNOBS, TEST_SPEC } from './test-fixtures.ts';
import { validateTuningSpec } from './tuning-spec.ts';
import { KNOB_NAMES } from './types.ts';

const spec = TEST_SPEC;

describe('evaluate', () => {
  it('returns one decision per knob, each with a reason', () => {
    const result = evaluate(spec, healthySnapshot(1000), SAFE_KNOBS, EMPTY_HISTORY, 1000);
    expect(result.decisions.map((d) => d.knob)).toEqual(KNOB_NAMES);
    expect(result.decisions.every((d) => d.reason.length > 10)).toBe(true);
    expect(result.metricsUsable).toBe(true);
  });

  it('repairs the seed’s DB overcommit (10 replicas × 50 connections > 97) on the first evaluation', () => {
    const { next, decisions } = evaluate(spec, healthySnapshot(1000), SEED_STATIC_KNOBS, EMPTY_HISTORY, 1000);
    expect(next.maxReplicas * (next.poolSize + next.maxOverflow)).toBeLessThanOrEqual(97);
    expect(decisions.find((d) => d.knob === 'maxOverflow')?.reason).toMatch(
      /invariant: 10 × \(20 \+ 30\) > 97 connections, repaired at once/,
    );
  });

  it('records applied changes and usable snapshots; a change then cools down', () => {
    const first = evaluate(spec, healthySnapshot(1000), SEED_STATIC_KNOBS, EMPTY_HISTORY, 1000);
    const history = recordEvaluation(spec, EMPTY_HISTORY, healthySnapshot(1000), first, 1000, true);
    expect(history.snapshots).toHaveLength(1);
    expect(history.changes.length).toBeGreaterThan(0);
    const second = evaluate(spec, healthySnapshot(1060), first.next, history, 1060);
    const changedAgain = second.decisions.filter(
      (d) =>
        d.to !== d.from && history.changes.some((c) => c.knob === d.knob) && !d.reason.includes('invariant'),
    );
    expect(changedAgain).toEqual([]);
  });

  it('records no change in Observe mode', () => {
    const result = evaluate(spec, healthySnapshot(1000), SEED_STATIC_KNOBS, EMPTY_HISTORY, 1000);
    expect(recordEvaluation(spec, EMPTY_HISTORY, healthySnapshot(1000), result, 1000, false).changes).toEqual(
      [],
    );
  });
});

describe('the minReplicas proposal', () => {
  // 2,000 rps on 3 replicas at 55 % CPU: a measured 1,212 rps per replica, 849 at the 70 % target;
  // the prior is 1,000 (700 at the target). Either way a trough of 2,000 rps needs 3 replicas.
  const measured = [60, 120, 180].map((t) => healthySnapshot(t));
  it.each<[string, readonly number[], number, number | undefined]>([
    ['rises on a measured capacity', [60, 120, 180], 2, 3],
    ['does not rise on the prior alone', [], 2, undefined],
    ['falls on the prior', [], 6, 3],
    ['falls on a measured capacity', [60, 120, 180], 6, 3],
  ])('%s', (_name, history, currentMin, proposed) => {
    const snapshots = measured.filter((s) => history.includes(s.takenAtSeconds));
    const proposals = proposeKnobs(
      spec,
      healthySnapshot(240),
      { ...SAFE_KNOBS, minReplicas: currentMin, maxReplicas: 8 },
      { changes: [], snapshots },
    );
    expect(proposals.find((p) => p.knob === 'minReplicas')?.value).toBe(proposed);
  });
});

describe('the maxmemory proposal at the replica floor', () => {
  // Hit rate 92 %, above the 87 % target + 2 points, but 5 % of lookups miss on evicted keys.
  const evicting = {
    hitsPerSecond: 1840,
    missesPerSecond: 160,
    evictedKeysPerSecond: 100,
    expiredKeysPerSecond: 60,
  };
  it.each<[string, number, number, boolean]>([
    ['at the floor with CPU to spare, memory stays: hits would save no pod', 2, 0.4, false],
    ['at the floor near the HPA target, memory grows before the HPA adds a pod', 2, 0.66, true],
    ['at the floor saturated by a step, memory grows while the new pods start', 2, 1, true],
    ['above the floor, memory grows', 3, 0.4, true],
  ])('%s', (_name, readyReplicas, cpuUtilization, grows) => {
    const snapshot = healthySnapshot(240, { readyReplicas, cpuUtilization, redis: evicting });
    const proposals = proposeKnobs(spec, snapshot, { ...SAFE_KNOBS, minReplicas: 2 }, EMPTY_HISTORY);
    const memory = proposals.find((p) => p.knob === 'redisMaxmemoryMiB');
    expect(memory !== undefined && memory.value > SAFE_KNOBS.redisMaxmemoryMiB).toBe(grows);
  });
});

describe('the maxmemory proposal of an idle cache at the floor', () => {
  // 2 replicas at their floor with CPU to spare, nothing evicted, 300 of 1,024 MiB used.
  const quiet = {
    hitsPerSecond: 900,
    missesPerSecond: 100,
    evictedKeysPerSecond: 0,
    expiredKeysPerSecond: 100,
  };
  const at = (t: number, rps: number) =>
    healthySnapshot(t, {
      requestsPerSecond: rps,
      readyReplicas: 2,
      cpuUtilization: 0.3,
      redis: { ...quiet, usedMemoryBytes: 300 * 1024 * 1024, maxMemoryBytes: 1024 * 1024 * 1024 },
    });
  const window = spec.timings.stabilizationWindowSeconds;
  // Two hours of one-minute snapshots: a flat load, or one that grows `growth`× in every stabilization window.
  const history = (growth: number) =>
    Array.from({ length: 120 }, (_, i) => at(i * 60, 200 * growth ** ((i * 60) / window)));
  it.each<[string, readonly ReturnType<typeof at>[], number | undefined]>([
    ['shrinks to today’s use + 25 % under a flat load', history(1), 375],
    ['keeps room for a load that doubles within the stabilization window: 300 × 2 + 25 %', history(2), 750],
    ['keeps what a load tripling within the stabilization window would fill', history(3), undefined],
    ['keeps the memory while the window’s growth is not measured', history(1).slice(-10), undefined],
  ])('%s', (_name, snapshots, proposed) => {
    const proposals = proposeKnobs(
      spec,
      at(7200, 200),
      { ...SAFE_KNOBS, minReplicas: 2, redisMaxmemoryMiB: 1024 },
      { changes: [], snapshots },
    );
    expect(proposals.find((p) => p.knob === 'redisMaxmemoryMiB')?.value).toBe(proposed);
  });
});

describe('validateTuningSpec', () => {
  it.each<[string, object, RegExp]>([
    [
      'a negative error-rate target',
      { slo: { ...spec.slo, errorRate: -1 } },
      /slo.errorRate must be a number in \[0, 1\], got -1/,
    ],
    [
      'a DB budget too small for two replicas',
      { database: { ...spec.database, maxConnections: 3, reservedConnections: 0 } },
      /must hold at least 2 replicas × 2 connections/,
    ],
    [
      'an inverted pool range',
      { knobs: { ...spec.knobs, poolSize: { min: 10, max: 5 } } },
      /knobs.poolSize.max must be a number in \[10,/,
    ],
  ])('rejects %s, naming the field and bound', (_name, overrides, message) => {
    expect(() => validateTuningSpec({ ...spec, ...overrides })).toThrow(message);
  });

  it('accepts the defaults', () => {
    expect(validateTuningSpec(spec)).toBe(spec);
  });
});
