/**
 * Any subset of knobs: a profile without Redis, without a pool, or with a pool that has no
 * overflow holds those knobs with the reason, and still tunes the others.
 */
import { describe, expect, it } from 'vitest';
import { EMPTY_HISTORY, evaluate } from './evaluate.ts';
import { enforceInvariants, satisfiesInvariants } from './safety-gate.ts';
import { healthySnapshot, TEST_SPEC } from './test-fixtures.ts';
import { defaultedProfileSpec, poolUntunedKnobs, tuningSpecFromProfile } from './tuning-spec-from-profile.ts';
import type { KnobName, KnobValues, MetricSnapshot, TuningSpec } from './types.ts';

const target = { name: 'orders' };
const HIKARI = { env: { container: 'app', sizeVar: 'SPRING_DATASOURCE_HIKARI_MAXIMUMPOOLSIZE' } };

describe('poolUntunedKnobs: what a profile’s pool form leaves untuned', () => {
  it.each<[string, object, KnobName[]]>([
    ['no pool field (the ConfigMap with both keys)', {}, []],
    ['the env form with an overflow var', { pool: { env: { ...HIKARI.env, overflowVar: 'OVER' } } }, []],
    ['the env form without an overflow var', { pool: HIKARI }, ['maxOverflow']],
    ['the ConfigMap form with overflowKey ""', { pool: { configMap: { overflowKey: '' } } }, ['maxOverflow']],
    ['pool: none', { pool: { none: {} } }, ['poolSize', 'maxOverflow']],
  ])('%s', (_name, targetRef, untuned) => {
    const spec = defaultedProfileSpec({ targetRef: { ...target, ...targetRef } });
    expect(Object.keys(poolUntunedKnobs(spec)).sort()).toEqual([...untuned].sort());
  });
});

/** TEST_SPEC with the knobs of `untuned` held, as tuningSpecFromProfile builds it. */
function holding(untuned: Partial<Record<KnobName, string>>): TuningSpec {
  const noOverflow = untuned.maxOverflow !== undefined;
  return {
    ...TEST_SPEC,
    knobs: { ...TEST_SPEC.knobs, ...(noOverflow ? { maxOverflow: { min: 0, max: 0 } } : {}) },
    untunedKnobs: untuned,
  };
}

describe('a pool with a size only: the budget counts the size alone', () => {
  const spec = holding({ maxOverflow: 'the pool has no overflow' });
  it.each<[string, KnobValues, boolean]>([
    [
      '4 × 24 = 96 fits 97',
      {
        poolSize: 24,
        maxOverflow: 0,
        redisMaxmemoryMiB: 512,
        minReplicas: 2,
        maxReplicas: 4,
        hpaTargetCpuPercent: 70,
        hpaTargetRequestsPerPod: 0,
      },
      true,
    ],
    [
      '5 × 20 = 100 does not',
      {
        poolSize: 20,
        maxOverflow: 0,
        redisMaxmemoryMiB: 512,
        minReplicas: 2,
        maxReplicas: 5,
        hpaTargetCpuPercent: 70,
        hpaTargetRequestsPerPod: 0,
      },
      false,
    ],
  ])('%s', (_name, values, fits) => {
    expect(satisfiesInvariants(spec, values)).toBe(fits);
  });

  it('cuts the pool, never an overflow it does not have, to repair the budget', () => {
    const values = {
      poolSize: 40,
      maxOverflow: 0,
      redisMaxmemoryMiB: 512,
      minReplicas: 2,
      maxReplicas: 4,
      hpaTargetCpuPercent: 70,
      hpaTargetRequestsPerPod: 0,
    };
    const repaired = enforceInvariants(spec, values).values;
    expect(repaired).toEqual({ ...values, poolSize: 24 });
  });

  it('holds the overflow at 0 with the reason, and tunes the size', () => {
    const snapshot = healthySnapshot(1000, { poolWaitMs: 40, dbActiveConnections: 30 });
    const current = {
      poolSize: 6,
      maxOverflow: 0,
      redisMaxmemoryMiB: 512,
      minReplicas: 2,
      maxReplicas: 6,
      hpaTargetCpuPercent: 70,
      hpaTargetRequestsPerPod: 0,
    };
    const { decisions, next } = evaluate(spec, snapshot, current, EMPTY_HISTORY, 1000);
    expect(decisions.find((d) => d.knob === 'maxOverflow')).toMatchObject({
      from: 0,
      to: 0,
      verdict: 'hold',
      reason: 'not tuned: the pool has no overflow',
    });
    expect(next.poolSize).toBeGreaterThan(6);
    expect(next.maxReplicas * next.poolSize).toBeLessThanOrEqual(97);
  });
});

describe('a profile without Redis', () => {
  const spec = holding({ redisMaxmemoryMiB: 'spec.metrics.redis is not set' });
  const { redis: _cache, ...withoutRedis } = healthySnapshot(1000, {
    requestsPerSecond: 9000,
    cpuUtilization: 0.9,
  });
  const snapshot: MetricSnapshot = withoutRedis;
  const current = {
    poolSize: 8,
    maxOverflow: 0,
    redisMaxmemoryMiB: 0,
    minReplicas: 2,
    maxReplicas: 3,
    hpaTargetCpuPercent: 70,
    hpaTargetRequestsPerPod: 0,
  };

  it('uses the snapshot (no fail static) and raises the replica ceiling under load', () => {
    const result = evaluate(spec, snapshot, current, EMPTY_HISTORY, 1000);
    expect(result.metricsUsable).toBe(true);
    expect(result.next.maxReplicas).toBeGreaterThan(3);
  });

  it('holds maxmemory at the value it was given, with the reason, and proposes none', () => {
    const result = evaluate(spec, snapshot, current, EMPTY_HISTORY, 1000);
    expect(result.proposals.some((p) => p.knob === 'redisMaxmemoryMiB')).toBe(false);
    expect(result.decisions.find((d) => d.knob === 'redisMaxmemoryMiB')).toMatchObject({
      from: 0,
      to: 0,
      verdict: 'hold',
      reason: 'not tuned: spec.metrics.redis is not set',
    });
  });

  it('fails static when the profile names Redis and the snapshot lacks it', () => {
    const result = evaluate(TEST_SPEC, snapshot, { ...current, redisMaxmemoryMiB: 512 }, EMPTY_HISTORY, 1000);
    expect(result.metricsUsable).toBe(false);
    // Every tuned knob fails static (this HPA has no request-rate target: that knob is not tuned).
    expect(
      result.decisions
        .filter((d) => d.knob !== 'hpaTargetRequestsPerPod')
        .every((d) => d.verdict === 'hold' && d.reason.includes('metric redis is missing')),
    ).toBe(true);
  });
});

describe('pool: none', () => {
  const spec = tuningSpecFromProfile(
    defaultedProfileSpec({
      targetRef: { ...target, pool: { none: {} } },
      knobs: { replicas: { floor: 2, ceiling: 20 } },
      database: { maxConnections: 100, reservedConnections: 3 },
      metrics: { prometheus: { url: 'http://prometheus.test:9090', stalenessSeconds: 180 } },
    }),
  );
  // The engine's stand-in for a pool nobody read: 0 connections.
  const current = {
    poolSize: 0,
    maxOverflow: 0,
    redisMaxmemoryMiB: 512,
    minReplicas: 2,
    maxReplicas: 3,
    hpaTargetCpuPercent: 70,
    hpaTargetRequestsPerPod: 0,
  };

  it('holds the pool with the reason and lets the ceiling follow the load past the connection budget', () => {
    const snapshot = healthySnapshot(1000, { requestsPerSecond: 20000, cpuUtilization: 0.95 });
    const history = { changes: [], snapshots: [snapshot] };
    const result = evaluate(spec, snapshot, current, history, 1000);
    for (const knob of ['poolSize', 'maxOverflow'] as const)
      expect(result.decisions.find((d) => d.knob === knob)).toMatchObject({
        verdict: 'hold',
        reason: 'not tuned: spec.targetRef.pool is none',
      });
    expect(result.proposals.find((p) => p.knob === 'maxReplicas')?.reason).toMatch(
      /connection budget is not counted/,
    );
    expect(result.next.maxReplicas).toBeGreaterThan(3);
  });
});
