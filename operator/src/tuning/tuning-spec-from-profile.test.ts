import { describe, expect, it } from 'vitest';
import { performanceProfileSchema } from '../api/v1alpha1/crd.ts';
import { tuningSpecFor } from '../sim/controllers.ts';
import { parseScenario } from '../sim/scenario.ts';
import { EMPTY_HISTORY, evaluate } from './evaluate.ts';
import { SEED_STATIC_KNOBS } from './seed-baselines.ts';
import { healthySnapshot } from './test-fixtures.ts';
import { connectionBudget } from './tuning-spec.ts';
import {
  DEFAULT_TARGET_ENVIRONMENT,
  DEFAULT_TUNING_SPEC,
  defaultedProfileSpec,
  HPA_TARGET_NOT_SET,
  tuningSpecFromProfile,
} from './tuning-spec-from-profile.ts';

const minimal = { targetRef: { name: 'risk-api' } };

/** The default of a field as the generated CRD declares it (what the API server fills in). */
function crdDefault(path: string): unknown {
  let node: unknown = performanceProfileSchema().properties?.spec;
  for (const part of path.split('.')) {
    node = (node as { properties?: Record<string, unknown> }).properties?.[part];
  }
  return (node as { default?: unknown }).default;
}

describe('tuningSpecFromProfile', () => {
  it.each<
    [string, Record<string, unknown>, (s: ReturnType<typeof tuningSpecFromProfile>) => unknown, unknown]
  >([
    ['p95 objective, in ms', { slo: { p95LatencyMs: 150 } }, (s) => s.slo.p95LatencyMs, 150],
    ['error rate percent → fraction', { slo: { errorRatePercent: 0.5 } }, (s) => s.slo.errorRate, 0.005],
    ['hit rate percent → fraction', { slo: { cacheHitRatePercent: 90 } }, (s) => s.slo.cacheHitRate, 0.9],
    ['pool usage percent → fraction', { slo: { poolUsagePercent: 70 } }, (s) => s.slo.poolUsage, 0.7],
    ['requests per replica', { slo: { requestsPerReplica: 400 } }, (s) => s.slo.requestsPerReplica, 400],
    [
      'pool range',
      { knobs: { poolSize: { min: 3, max: 40 } } },
      (s) => s.knobs.poolSize,
      { min: 3, max: 40 },
    ],
    [
      'overflow range',
      { knobs: { maxOverflow: { min: 1, max: 9 } } },
      (s) => s.knobs.maxOverflow,
      { min: 1, max: 9 },
    ],
    [
      'maxmemory minMiB/maxMiB → redisMaxmemoryMiB range',
      { knobs: { redisMaxmemory: { minMiB: 256, maxMiB: 1536, containerMemoryLimitMiB: 2048 } } },
      (s) => s.knobs.redisMaxmemoryMiB,
      { min: 256, max: 1536 },
    ],
    [
      'container memory limit',
      { knobs: { redisMaxmemory: { maxMiB: 1536, containerMemoryLimitMiB: 2048 } } },
      (s) => s.redisMemoryLimitMiB,
      2048,
    ],
    [
      'replica floor and ceiling, the other defaulted',
      { knobs: { replicas: { ceiling: 30 } } },
      (s) => s.knobs.replicas,
      { floor: 2, ceiling: 30 },
    ],
    [
      'database budget',
      { database: { maxConnections: 500, reservedConnections: 20 } },
      (s) => [s.database.maxConnections, s.database.reservedConnections],
      [500, 20],
    ],
    ['cooldown', { policy: { cooldownSeconds: 900 } }, (s) => s.timings.cooldownSeconds, 900],
    [
      'stabilization window',
      { policy: { stabilizationWindowSeconds: 3600 } },
      (s) => s.timings.stabilizationWindowSeconds,
      3600,
    ],
    [
      'max step percent → fraction',
      { policy: { maxStepPercent: 20 } },
      (s) => s.timings.maxStepFraction,
      0.2,
    ],
    [
      'deadband percent → fraction',
      { policy: { deadbandPercent: 5 } },
      (s) => s.timings.deadbandFraction,
      0.05,
    ],
    [
      'verification window',
      { policy: { verificationWindowSeconds: 300 } },
      (s) => s.timings.verificationWindowSeconds,
      300,
    ],
    [
      'Prometheus staleness → the largest snapshot age',
      { metrics: { prometheus: { url: 'http://p:9090', stalenessSeconds: 45 } } },
      (s) => s.timings.maxMetricAgeSeconds,
      45,
    ],
  ])('maps %s', (_what, fields, read, expected) => {
    expect(read(tuningSpecFromProfile(defaultedProfileSpec({ ...minimal, ...fields })))).toEqual(expected);
  });

  it('takes workers, connections per request and the PDB from the target’s environment', () => {
    const spec = tuningSpecFromProfile(defaultedProfileSpec(minimal), {
      workersPerReplica: 8,
      connectionsHeldPerRequest: 2,
      pdbMinAvailable: 3,
    });
    expect(spec.database).toMatchObject({ workersPerReplica: 8, connectionsHeldPerRequest: 2 });
    expect(spec.pdbMinAvailable).toBe(3);
  });

  it.each<[string, object, { min: number; max: number }, string | undefined]>([
    ['without spec.knobs.hpaTarget the HPA target is held', {}, { min: 50, max: 85 }, HPA_TARGET_NOT_SET],
    ['hpaTarget: {} tunes it within 50..85', { hpaTarget: {} }, { min: 50, max: 85 }, undefined],
    [
      'its own bounds',
      { hpaTarget: { cpuUtilization: { minPercent: 60, maxPercent: 90 } } },
      { min: 60, max: 90 },
      undefined,
    ],
  ])('%s', (_name, knobs, bounds, untuned) => {
    const spec = tuningSpecFromProfile(defaultedProfileSpec({ ...minimal, knobs }));
    expect(spec.knobs.hpaTargetCpuPercent).toEqual(bounds);
    expect(spec.untunedKnobs?.hpaTargetCpuPercent).toBe(untuned);
  });

  it('rejects a profile the engine cannot run, naming the engine field and its bound', () => {
    const profile = defaultedProfileSpec({
      ...minimal,
      database: { maxConnections: 12, reservedConnections: 10 },
    });
    expect(() => tuningSpecFromProfile(profile)).toThrow(
      /must hold at least 2 replicas × 5 connections \(10\)/,
    );
  });
});

describe('DEFAULT_TUNING_SPEC: what a profile that sets only its target gets', () => {
  it.each<[string, string, (typeof DEFAULT_TUNING_SPEC)[keyof typeof DEFAULT_TUNING_SPEC] | number]>([
    ['policy.cooldownSeconds', 'cooldownSeconds', DEFAULT_TUNING_SPEC.timings.cooldownSeconds],
    [
      'policy.stabilizationWindowSeconds',
      'stabilizationWindowSeconds',
      DEFAULT_TUNING_SPEC.timings.stabilizationWindowSeconds,
    ],
    [
      'policy.verificationWindowSeconds',
      'verificationWindowSeconds',
      DEFAULT_TUNING_SPEC.timings.verificationWindowSeconds,
    ],
    [
      'policy.evaluationIntervalSeconds',
      'evaluationIntervalSeconds',
      DEFAULT_TUNING_SPEC.timings.evaluationIntervalSeconds,
    ],
    ['policy.maxStepPercent', 'maxStepFraction × 100', DEFAULT_TUNING_SPEC.timings.maxStepFraction * 100],
    ['policy.deadbandPercent', 'deadbandFraction × 100', DEFAULT_TUNING_SPEC.timings.deadbandFraction * 100],
    ['knobs.poolSize.min', 'knobs.poolSize.min', DEFAULT_TUNING_SPEC.knobs.poolSize.min],
    ['knobs.poolSize.max', 'knobs.poolSize.max', DEFAULT_TUNING_SPEC.knobs.poolSize.max],
    ['knobs.maxOverflow.max', 'knobs.maxOverflow.max', DEFAULT_TUNING_SPEC.knobs.maxOverflow.max],
    [
      'knobs.redisMaxmemory.minMiB',
      'knobs.redisMaxmemoryMiB.min',
      DEFAULT_TUNING_SPEC.knobs.redisMaxmemoryMiB.min,
    ],
    [
      'knobs.redisMaxmemory.maxMiB',
      'knobs.redisMaxmemoryMiB.max',
      DEFAULT_TUNING_SPEC.knobs.redisMaxmemoryMiB.max,
    ],
    ['knobs.replicas.floor', 'knobs.replicas.floor', DEFAULT_TUNING_SPEC.knobs.replicas.floor],
    ['knobs.replicas.ceiling', 'knobs.replicas.ceiling', DEFAULT_TUNING_SPEC.knobs.replicas.ceiling],
    [
      'knobs.hpaTarget.cpuUtilization.minPercent',
      'knobs.hpaTargetCpuPercent.min',
      DEFAULT_TUNING_SPEC.knobs.hpaTargetCpuPercent.min,
    ],
    [
      'knobs.hpaTarget.cpuUtilization.maxPercent',
      'knobs.hpaTargetCpuPercent.max',
      DEFAULT_TUNING_SPEC.knobs.hpaTargetCpuPercent.max,
    ],
    [
      'database.reservedConnections',
      'database.reservedConnections',
      DEFAULT_TUNING_SPEC.database.reservedConnections,
    ],
  ])('the generated CRD’s default of %s is the engine’s %s', (crdPath, _engine, engineValue) => {
    expect(crdDefault(crdPath)).toBe(engineValue);
  });

  it('has the values chosen for the contract', () => {
    expect(DEFAULT_TUNING_SPEC.timings).toMatchObject({
      cooldownSeconds: 600,
      stabilizationWindowSeconds: 1800,
      maxStepFraction: 0.5,
      deadbandFraction: 0.1,
    });
    expect(DEFAULT_TUNING_SPEC.knobs.poolSize).toEqual({ min: 5, max: 50 });
    expect(connectionBudget(DEFAULT_TUNING_SPEC)).toBe(90);
    expect(DEFAULT_TUNING_SPEC.database.workersPerReplica).toBe(DEFAULT_TARGET_ENVIRONMENT.workersPerReplica);
  });

  it('repairs the seed’s DB overcommit (10 replicas × 50 connections > 90) on the first evaluation', () => {
    const { next, decisions } = evaluate(
      DEFAULT_TUNING_SPEC,
      healthySnapshot(1000),
      SEED_STATIC_KNOBS,
      EMPTY_HISTORY,
      1000,
    );
    expect(next.maxReplicas * (next.poolSize + next.maxOverflow)).toBeLessThanOrEqual(90);
    expect(next.poolSize).toBeGreaterThanOrEqual(5);
    expect(decisions.find((d) => d.knob === 'maxOverflow')?.reason).toMatch(
      /invariant: 10 × \(20 \+ 30\) > 90 connections, repaired at once/,
    );
  });

  it('is what the simulator runs, apart from the scenario’s environment', () => {
    const scenario = parseScenario({
      name: 'env',
      durationMinutes: 60,
      seed: 1,
      load: { points: [{ minute: 0, rps: 500 }] },
    });
    const simulated = tuningSpecFor(scenario);
    expect(simulated.timings).toEqual(DEFAULT_TUNING_SPEC.timings);
    expect(simulated.slo).toEqual(DEFAULT_TUNING_SPEC.slo);
    expect(simulated.knobs.poolSize).toEqual(DEFAULT_TUNING_SPEC.knobs.poolSize);
    expect(simulated.knobs.maxOverflow).toEqual(DEFAULT_TUNING_SPEC.knobs.maxOverflow);
    expect(simulated.knobs.replicas.floor).toBe(DEFAULT_TUNING_SPEC.knobs.replicas.floor);
    expect(simulated.knobs.redisMaxmemoryMiB.max).toBe(Math.floor(0.75 * scenario.redis.memoryLimitMiB));
    // The one knob the simulator turns on that a profile must opt into.
    expect(DEFAULT_TUNING_SPEC.untunedKnobs?.hpaTargetCpuPercent).toBe(HPA_TARGET_NOT_SET);
    expect(simulated.untunedKnobs?.hpaTargetCpuPercent).toBeUndefined();
    expect(simulated.knobs.hpaTargetCpuPercent).toEqual({ min: 50, max: 85 });
  });
});
