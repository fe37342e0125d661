/**
 * Derived limits of a {@link TuningSpec} and its validation. The spec itself comes from a
 * PerformanceProfile through the one mapper, tuning-spec-from-profile.ts, which also
 * holds the default spec (the CRD's defaults).
 */
import { MIN_POOL_USAGE_PERCENT, REQUEST_RATE_TARGET_MAX } from '../api/v1alpha1/defaults.ts';
import { maxmemoryCeilingForLimitMiB } from '../api/v1alpha1/redis-maxmemory-ceiling.ts';
import type { HpaTolerance, TuningSpec } from './types.ts';

/**
 * The HPA leaves the fleet alone while CPU is within this share of its target
 * (`--horizontal-pod-autoscaler-tolerance`, 0.1 by default), and adds pods above it.
 */
export const HPA_TOLERANCE = 0.1;

/** The cluster's default tolerance, both ways: what an HPA without `behavior.*.tolerance` gets. */
export const DEFAULT_HPA_TOLERANCE: HpaTolerance = { scaleUp: HPA_TOLERANCE, scaleDown: HPA_TOLERANCE };

/** The spec's HPA tolerance, or the cluster's default. */
export function hpaToleranceOf(spec: Pick<TuningSpec, 'hpaTolerance'>): HpaTolerance {
  return spec.hpaTolerance ?? DEFAULT_HPA_TOLERANCE;
}

/** `--horizontal-pod-autoscaler-sync-period`, in seconds: how often the HPA acts. */
export const HPA_SYNC_SECONDS = 15;

/**
 * The replicas the HPA asks for on a CPU target, by its own formula (replica_calculator.go):
 * `ceil(pods × utilization / target)`, or `current` while the ratio is within the tolerance of 1.
 * `pods` are the pods the mean `utilization` is taken over.
 */
export function hpaDesiredReplicas(
  pods: number,
  utilization: number,
  targetUtilization: number,
  current: number,
  tolerance: HpaTolerance = DEFAULT_HPA_TOLERANCE,
): number {
  return withinHpaTolerance(utilization, targetUtilization, tolerance)
    ? current
    : Math.ceil((utilization / targetUtilization) * pods);
}

/**
 * Whether the HPA leaves the fleet alone at this utilization and target: their ratio at most
 * `scaleUp` above 1 and at most `scaleDown` below it (replica_calculator.go, KEP-4951).
 */
export function withinHpaTolerance(
  utilization: number,
  targetUtilization: number,
  tolerance: HpaTolerance = DEFAULT_HPA_TOLERANCE,
): boolean {
  const ratio = utilization / targetUtilization;
  return ratio >= 1 ? ratio - 1 <= tolerance.scaleUp : 1 - ratio <= tolerance.scaleDown;
}

/**
 * The share of a Deployment's pods a rolling update takes away at once (its default
 * `maxUnavailable: 25%`, rounded down to whole pods).
 */
export const ROLLOUT_UNAVAILABLE_SHARE = 0.25;

/** Connections a replica's pool must be able to hand out so that no request can deadlock it. */
export function poolDeadlockFloor(spec: TuningSpec): number {
  const { workersPerReplica, connectionsHeldPerRequest } = spec.database;
  return workersPerReplica * (connectionsHeldPerRequest - 1) + 1;
}

/** The smallest pool the engine may set: the knob's min and the deadlock floor. */
export function poolSizeFloor(spec: TuningSpec): number {
  return Math.max(spec.knobs.poolSize.min, poolDeadlockFloor(spec));
}

/** Connections all replicas together may hold: `maxConnections − reservedConnections`. */
export function connectionBudget(spec: TuningSpec): number {
  return spec.database.maxConnections - spec.database.reservedConnections;
}

/** The largest `maxmemory` allowed: 0.75 × the Redis memory limit, and the knob's own max. */
export function maxMemoryCeilingMiB(spec: TuningSpec): number {
  return Math.min(spec.knobs.redisMaxmemoryMiB.max, maxmemoryCeilingForLimitMiB(spec.redisMemoryLimitMiB));
}

/** The smallest `minReplicas` allowed: 2, the PDB's `minAvailable` and the knob floor. */
export function minReplicasFloor(spec: TuningSpec): number {
  return Math.max(2, spec.pdbMinAvailable, spec.knobs.replicas.floor);
}

function requireRange(field: string, value: number, min: number, max: number): void {
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new RangeError(`${field} must be a number in [${min}, ${max}], got ${value}`);
  }
}

/**
 * Checks a spec before the engine uses it and throws a RangeError naming the field and its bound,
 * including the one cross-field check that matters: the DB budget must fit `minReplicas` pools.
 */
export function validateTuningSpec(spec: TuningSpec): TuningSpec {
  const { slo, knobs, database, timings } = spec;
  requireRange('slo.p95LatencyMs', slo.p95LatencyMs, 1, 600_000);
  requireRange('slo.errorRate', slo.errorRate, 0, 1);
  requireRange('slo.cacheHitRate', slo.cacheHitRate, 0, 1);
  // The CRD's own bound on slo.poolUsagePercent: a profile the API server stores is one the engine takes.
  requireRange('slo.poolUsage', slo.poolUsage, MIN_POOL_USAGE_PERCENT / 100, 1);
  requireRange('slo.requestsPerReplica', slo.requestsPerReplica, 1, 1e7);
  for (const name of ['poolSize', 'maxOverflow', 'redisMaxmemoryMiB'] as const) {
    requireRange(`knobs.${name}.min`, knobs[name].min, 0, 1e7);
    requireRange(`knobs.${name}.max`, knobs[name].max, knobs[name].min, 1e7);
  }
  requireRange('knobs.replicas.floor', knobs.replicas.floor, 0, 1e7);
  requireRange('knobs.hpaTargetCpuPercent.min', knobs.hpaTargetCpuPercent.min, 1, 100);
  requireRange(
    'knobs.hpaTargetCpuPercent.max',
    knobs.hpaTargetCpuPercent.max,
    knobs.hpaTargetCpuPercent.min,
    100,
  );
  requireRange(
    'knobs.hpaTargetRequestsPerPod.min',
    knobs.hpaTargetRequestsPerPod.min,
    1,
    REQUEST_RATE_TARGET_MAX,
  );
  requireRange(
    'knobs.hpaTargetRequestsPerPod.max',
    knobs.hpaTargetRequestsPerPod.max,
    knobs.hpaTargetRequestsPerPod.min,
    REQUEST_RATE_TARGET_MAX,
  );
  requireRange('knobs.poolSize.min', knobs.poolSize.min, 1, knobs.poolSize.max);
  requireRange('database.maxConnections', database.maxConnections, 1, 1e6);
  requireRange('database.reservedConnections', database.reservedConnections, 0, database.maxConnections - 1);
  requireRange('database.connectionsHeldPerRequest', database.connectionsHeldPerRequest, 1, 100);
  requireRange('database.workersPerReplica', database.workersPerReplica, 1, 10_000);
  requireRange('redisMemoryLimitMiB', spec.redisMemoryLimitMiB, 1, 1e7);
  if (spec.hpaTolerance) {
    requireRange('hpaTolerance.scaleUp', spec.hpaTolerance.scaleUp, 0, 1e6);
    requireRange('hpaTolerance.scaleDown', spec.hpaTolerance.scaleDown, 0, 1e6);
  }
  requireRange('pdbMinAvailable', spec.pdbMinAvailable, 0, 10_000);
  requireRange('timings.evaluationIntervalSeconds', timings.evaluationIntervalSeconds, 1, 86_400);
  requireRange('timings.cooldownSeconds', timings.cooldownSeconds, 0, 604_800);
  requireRange('timings.stabilizationWindowSeconds', timings.stabilizationWindowSeconds, 0, 604_800);
  requireRange('timings.verificationWindowSeconds', timings.verificationWindowSeconds, 0, 604_800);
  requireRange('timings.maxMetricAgeSeconds', timings.maxMetricAgeSeconds, 1, 86_400);
  requireRange('timings.maxStepFraction', timings.maxStepFraction, 0.01, 10);
  requireRange('timings.deadbandFraction', timings.deadbandFraction, 0, 0.9);
  requireRange('burst.ratio', spec.burst.ratio, 2, 100);
  requireRange('forecast.leadSeconds', spec.forecast.leadSeconds, 0, 86_400);
  const floor = minReplicasFloor(spec);
  requireRange('knobs.replicas.ceiling', knobs.replicas.ceiling, floor, 1e7);
  requireRange('knobs.redisMaxmemoryMiB.min', knobs.redisMaxmemoryMiB.min, 0, maxMemoryCeilingMiB(spec));
  const perReplicaFloor = poolSizeFloor(spec) + knobs.maxOverflow.min;
  const budget = connectionBudget(spec);
  if (floor * perReplicaFloor > budget) {
    throw new RangeError(
      `database.maxConnections − reservedConnections (${budget}) must hold at least ${floor} replicas × ` +
        `${perReplicaFloor} connections (${floor * perReplicaFloor})`,
    );
  }
  return spec;
}
