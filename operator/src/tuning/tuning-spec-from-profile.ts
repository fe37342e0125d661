/**
 * The one contract between the PerformanceProfile CRD and the tuning engine: a profile's spec,
 * with the API server's defaults applied, becomes the engine's {@link TuningSpec}. Every default
 * lives once (api/v1alpha1/defaults.ts), in the CRD's schema; the simulator, the benchmark and
 * `perfpilot recommend` run the engine with {@link DEFAULT_TUNING_SPEC}, which is this mapper
 * applied to a profile that sets nothing but its target.
 *
 * It lives in tuning/, not in controller/: it is pure and depends only on api/ and the engine's
 * types, and the simulator and the test fixtures need it as much as the reconcile does, so the
 * pure core never imports the reconcile.
 */
import Value from 'typebox/value';
import {
  DEFAULT_BURST,
  DEFAULT_FORECAST_MODE,
  DEFAULT_HPA_TARGET_CPU_PERCENT,
  DEFAULT_STALENESS_SECONDS,
  REQUEST_RATE_TARGET_MAX,
} from '../api/v1alpha1/defaults.ts';
import { PerformanceProfileSpec } from '../api/v1alpha1/performance-profile.ts';
import { poolPlaceOf } from '../api/v1alpha1/pool-ref.ts';
import { HPA_SYNC_SECONDS, validateTuningSpec } from './tuning-spec.ts';
import type { HpaTolerance, KnobName, TuningSpec } from './types.ts';

/**
 * What the engine needs to know about the target that the profile does not say, because the
 * target's own objects do: its workers per pod (`ASYNC_WORKERS`), how many connections one request
 * holds at once and the PodDisruptionBudget's `minAvailable`. (The HPA's CPU target is a knob: its
 * value in force is read with the others, `KnobValues.hpaTargetCpuPercent`.)
 */
export interface TargetEnvironment {
  /** workersPerReplica: concurrent request workers per pod (`ASYNC_WORKERS`). */
  readonly workersPerReplica: number;
  /** connectionsHeldPerRequest: DB connections one request holds at the same time. */
  readonly connectionsHeldPerRequest: number;
  /** pdbMinAvailable: the PodDisruptionBudget's `minAvailable` (pods). */
  readonly pdbMinAvailable: number;
  /**
   * hpaTolerance: the HPA's tolerance per direction, where its `spec.behavior` sets one.
   * @default the cluster's 10 % both ways
   */
  readonly hpaTolerance?: HpaTolerance;
  /** podStartupSeconds: from a pod's creation to its readiness, the lead a forecast floor needs. @default 60 */
  readonly podStartupSeconds?: number;
  /**
   * untunedKnobs: knobs the target's objects keep the operator from writing, with the reason
   * (a pool env var set from a ConfigMap or Secret reference). @default none
   */
  readonly untunedKnobs?: Readonly<Partial<Record<KnobName, string>>>;
}

/**
 * The toolkit HPA's CPU target, in percent: the seed baselines' and the one the engine assumes
 * where the HPA has no Resource cpu metric of type Utilization (the knob is then held).
 */
export const ASSUMED_HPA_TARGET_CPU_PERCENT = 70;

/**
 * The CPU target the engine assumes for an HPA that scales on a request-rate target and has no CPU
 * Utilization metric: CPU then adds no pod before the pods saturate.
 */
export const FULL_CPU_PERCENT = 100;

/** HPA_TARGET_NOT_SET is why the HPA's CPU target is held for a profile without spec.knobs.hpaTarget. */
export const HPA_TARGET_NOT_SET = "spec.knobs.hpaTarget is not set: the HPA's target is held as written";

/** REQUEST_RATE_NOT_SET is why the HPA's request-rate target is held for a profile without spec.knobs.hpaTarget.requestRate. */
export const REQUEST_RATE_NOT_SET =
  'spec.knobs.hpaTarget.requestRate is not set: the HPA has no request-rate target the operator tunes';

/** REDIS_NOT_MEASURED is why maxmemory is held for a profile without spec.metrics.redis. */
export const REDIS_NOT_MEASURED = 'spec.metrics.redis is not set, so Redis is not measured';

/**
 * poolUntunedKnobs: the pool knobs a profile's spec leaves out, each with the reason the engine
 * holds it for: the pool with pool.none, the overflow of a pool without an overflow key or var.
 * (maxmemory without Redis is the reconcile's to say: the simulator's profiles name no Redis and
 * tune it.)
 */
export function poolUntunedKnobs(spec: PerformanceProfileSpec): Partial<Record<KnobName, string>> {
  const untuned: Partial<Record<KnobName, string>> = {};
  const place = poolPlaceOf(spec.targetRef);
  if (place.kind === 'none') {
    untuned.poolSize = 'spec.targetRef.pool is none';
    untuned.maxOverflow = 'spec.targetRef.pool is none';
  } else if (place.kind === 'env' && place.overflowVar === undefined) {
    untuned.maxOverflow = 'the pool has no overflow (spec.targetRef.pool.env.overflowVar is not set)';
  } else if (place.kind === 'configMap' && place.overflowKey === undefined) {
    untuned.maxOverflow = 'the pool has no overflow (spec.targetRef.pool.configMap.overflowKey is "")';
  }
  return untuned;
}

/**
 * The environment the toolkit's stack has, used until the target's objects say otherwise: the
 * seed's `ASYNC_WORKERS=4`, one connection per request, a PDB keeping one pod (the toolkit's
 * `maxUnavailable: 1` with two replicas), and a minute from a pod's creation to its readiness.
 */
export const DEFAULT_TARGET_ENVIRONMENT: Required<Omit<TargetEnvironment, 'untunedKnobs' | 'hpaTolerance'>> =
  {
    workersPerReplica: 4,
    connectionsHeldPerRequest: 1,
    pdbMinAvailable: 1,
    podStartupSeconds: 60,
  };

/** The request-rate target's bounds: the profile's, or 1..the CRD's maximum while the knob is off (they then bound nothing). */
function requestRateBounds(spec: PerformanceProfileSpec): { min: number; max: number } {
  const rate = spec.knobs.hpaTarget?.requestRate;
  return rate ? { min: rate.minPerPod, max: rate.maxPerPod } : { min: 1, max: REQUEST_RATE_TARGET_MAX };
}

/** The CPU target's bounds: the profile's, or the defaults while the knob is off (they then bound nothing). */
function hpaTargetBounds(spec: PerformanceProfileSpec): { min: number; max: number } {
  const cpu = spec.knobs.hpaTarget?.cpuUtilization ?? DEFAULT_HPA_TARGET_CPU_PERCENT;
  return { min: cpu.minPercent, max: cpu.maxPercent };
}

/** A profile spec as the API server stores it: every omitted field defaulted from the CRD schema. */
export function defaultedProfileSpec(spec: unknown): PerformanceProfileSpec {
  return Value.Default(PerformanceProfileSpec, structuredClone(spec)) as PerformanceProfileSpec;
}

/**
 * tuningSpecFromProfile maps a (defaulted) profile spec and its target's environment onto the
 * engine's spec: percentages become fractions, `knobs.redisMaxmemory.{minMiB,maxMiB}` the
 * `redisMaxmemoryMiB` range and `containerMemoryLimitMiB` the memory limit, the Prometheus
 * staleness bound the engine's maximum snapshot age. The result is validated; a RangeError names
 * the engine field and its bound.
 */
export function tuningSpecFromProfile(
  spec: PerformanceProfileSpec,
  environment: TargetEnvironment = DEFAULT_TARGET_ENVIRONMENT,
): TuningSpec {
  const { slo, knobs, database, policy } = spec;
  // The HPA's target is tuned only where the profile asks for it; the target's objects may still
  // hold it (environment: a KEDA-owned HPA, or one without a cpu Utilization metric).
  const untunedKnobs = {
    ...poolUntunedKnobs(spec),
    ...(knobs.hpaTarget === undefined ? { hpaTargetCpuPercent: HPA_TARGET_NOT_SET } : {}),
    ...(knobs.hpaTarget?.requestRate === undefined ? { hpaTargetRequestsPerPod: REQUEST_RATE_NOT_SET } : {}),
    ...environment.untunedKnobs,
  };
  // A pool without overflow has none to give: the budget then counts the size alone.
  const noOverflow = untunedKnobs.maxOverflow !== undefined;
  return validateTuningSpec({
    slo: {
      p95LatencyMs: slo.p95LatencyMs,
      errorRate: slo.errorRatePercent / 100,
      cacheHitRate: slo.cacheHitRatePercent / 100,
      poolUsage: slo.poolUsagePercent / 100,
      requestsPerReplica: slo.requestsPerReplica,
    },
    knobs: {
      poolSize: { min: knobs.poolSize.min, max: knobs.poolSize.max },
      maxOverflow: noOverflow
        ? { min: 0, max: 0 }
        : { min: knobs.maxOverflow.min, max: knobs.maxOverflow.max },
      redisMaxmemoryMiB: { min: knobs.redisMaxmemory.minMiB, max: knobs.redisMaxmemory.maxMiB },
      replicas: { floor: knobs.replicas.floor, ceiling: knobs.replicas.ceiling },
      hpaTargetCpuPercent: hpaTargetBounds(spec),
      hpaTargetRequestsPerPod: requestRateBounds(spec),
    },
    database: {
      maxConnections: database.maxConnections,
      reservedConnections: database.reservedConnections,
      connectionsHeldPerRequest: environment.connectionsHeldPerRequest,
      workersPerReplica: environment.workersPerReplica,
    },
    redisMemoryLimitMiB: knobs.redisMaxmemory.containerMemoryLimitMiB,
    pdbMinAvailable: environment.pdbMinAvailable,
    timings: {
      evaluationIntervalSeconds: policy.evaluationIntervalSeconds,
      cooldownSeconds: policy.cooldownSeconds,
      stabilizationWindowSeconds: policy.stabilizationWindowSeconds,
      verificationWindowSeconds: policy.verificationWindowSeconds,
      maxMetricAgeSeconds: spec.metrics.prometheus?.stalenessSeconds ?? DEFAULT_STALENESS_SECONDS,
      maxStepFraction: policy.maxStepPercent / 100,
      deadbandFraction: policy.deadbandPercent / 100,
    },
    ...(Object.keys(untunedKnobs).length > 0 ? { untunedKnobs } : {}),
    ...(environment.hpaTolerance ? { hpaTolerance: environment.hpaTolerance } : {}),
    // Optional in the schema's type so that profiles written before it stay whole; the API server
    // and defaultedProfileSpec fill it in, the fallback is the same default.
    burst: { ratio: policy.burst?.ratio ?? DEFAULT_BURST.ratio },
    forecast: {
      mode: policy.forecast ?? DEFAULT_FORECAST_MODE,
      leadSeconds:
        (environment.podStartupSeconds ?? DEFAULT_TARGET_ENVIRONMENT.podStartupSeconds) +
        HPA_SYNC_SECONDS +
        policy.evaluationIntervalSeconds,
    },
  });
}

/** The target name of the profile behind {@link DEFAULT_TUNING_SPEC}; it does not affect the spec. */
const DEFAULT_TARGET = { targetRef: { name: 'risk-api' } };

/** The engine spec a profile gets when it sets nothing but its target, in the toolkit's environment. */
export const DEFAULT_TUNING_SPEC: TuningSpec = tuningSpecFromProfile(defaultedProfileSpec(DEFAULT_TARGET));
