import type { TuningSpec } from './types.ts';

/** The seed guide's SLOs and conservative policy timings; every field is documented in types.ts. */
export const DEFAULT_TUNING_SPEC: TuningSpec = {
  slo: { p95LatencyMs: 200, errorRate: 0.001, cacheHitRate: 0.85, poolUsage: 0.8, requestsPerReplica: 1000 },
  knobs: {
    poolSize: { min: 2, max: 50 },
    maxOverflow: { min: 0, max: 30 },
    redisMaxMemoryMiB: { min: 64, max: 3072 },
    replicas: { min: 2, max: 20 },
  },
  database: {
    maxConnections: 100,
    reservedConnections: 3,
    connectionsHeldPerRequest: 1,
    workersPerReplica: 4,
  },
  redisMemoryLimitMiB: 4096,
  pdbMinAvailable: 1,
  hpaTargetCpuUtilization: 0.7,
  timings: {
    evaluationIntervalSeconds: 60,
    cooldownSeconds: 600,
    stabilizationWindowSeconds: 1800,
    verificationWindowSeconds: 600,
    maxMetricAgeSeconds: 180,
    maxStepFraction: 0.5,
    deadbandFraction: 0.1,
  },
};

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
  return Math.min(spec.knobs.redisMaxMemoryMiB.max, Math.floor(0.75 * spec.redisMemoryLimitMiB));
}

/** The smallest `minReplicas` allowed: 2, the PDB's `minAvailable` and the knob floor. */
export function minReplicasFloor(spec: TuningSpec): number {
  return Math.max(2, spec.pdbMinAvailable, spec.knobs.replicas.min);
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
  requireRange('slo.poolUsage', slo.poolUsage, 0.05, 1);
  requireRange('slo.requestsPerReplica', slo.requestsPerReplica, 1, 1e7);
  for (const [name, range] of Object.entries(knobs) as [string, { min: number; max: number }][]) {
    requireRange(`knobs.${name}.min`, range.min, 0, 1e7);
    requireRange(`knobs.${name}.max`, range.max, range.min, 1e7);
  }
  requireRange('knobs.poolSize.min', knobs.poolSize.min, 1, knobs.poolSize.max);
  requireRange('database.maxConnections', database.maxConnections, 1, 1e6);
  requireRange('database.reservedConnections', database.reservedConnections, 0, database.maxConnections - 1);
  requireRange('database.connectionsHeldPerRequest', database.connectionsHeldPerRequest, 1, 100);
  requireRange('database.workersPerReplica', database.workersPerReplica, 1, 10_000);
  requireRange('redisMemoryLimitMiB', spec.redisMemoryLimitMiB, 1, 1e7);
  requireRange('pdbMinAvailable', spec.pdbMinAvailable, 0, 10_000);
  requireRange('hpaTargetCpuUtilization', spec.hpaTargetCpuUtilization, 0.05, 1);
  requireRange('timings.evaluationIntervalSeconds', timings.evaluationIntervalSeconds, 1, 86_400);
  requireRange('timings.cooldownSeconds', timings.cooldownSeconds, 0, 604_800);
  requireRange('timings.stabilizationWindowSeconds', timings.stabilizationWindowSeconds, 0, 604_800);
  requireRange('timings.verificationWindowSeconds', timings.verificationWindowSeconds, 0, 604_800);
  requireRange('timings.maxMetricAgeSeconds', timings.maxMetricAgeSeconds, 1, 86_400);
  requireRange('timings.maxStepFraction', timings.maxStepFraction, 0.01, 10);
  requireRange('timings.deadbandFraction', timings.deadbandFraction, 0, 0.9);
  const floor = minReplicasFloor(spec);
  requireRange('knobs.replicas.max', knobs.replicas.max, floor, 1e7);
  requireRange('knobs.redisMaxMemoryMiB.min', knobs.redisMaxMemoryMiB.min, 0, maxMemoryCeilingMiB(spec));
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
