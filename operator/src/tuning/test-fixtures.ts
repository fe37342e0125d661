/** Builders for tuning tests: a roomy spec, a healthy snapshot, seed-like knobs and an empty history. */
import { defaultedProfileSpec, tuningSpecFromProfile } from './tuning-spec-from-profile.ts';
import type { HpaTargets, KnobValues, MetricSnapshot, RedisSignals, TuningSpec } from './types.ts';

const MIB = 1024 * 1024;

/** A snapshot of a healthy API at 2000 rps on 3 replicas, taken at `takenAtSeconds`. */
export function healthySnapshot(
  takenAtSeconds = 1000,
  overrides: Partial<Omit<MetricSnapshot, 'redis'>> & { redis?: Partial<RedisSignals> } = {},
): MetricSnapshot & { readonly redis: RedisSignals } {
  const { redis, ...rest } = overrides;
  return {
    takenAtSeconds,
    windowSeconds: 60,
    requestsPerSecond: 2000,
    p95LatencyMs: 80,
    errorRate: 0,
    readyReplicas: 3,
    cpuUtilization: 0.55,
    dbQueriesPerSecond: 240,
    dbActiveConnections: 7.2,
    poolWaitMs: 0.1,
    ...rest,
    redis: {
      usedMemoryBytes: 512 * MIB,
      maxMemoryBytes: 512 * MIB,
      hitsPerSecond: 1760,
      missesPerSecond: 240,
      evictedKeysPerSecond: 100,
      expiredKeysPerSecond: 140,
      ...redis,
    },
  };
}

/**
 * The spec the engine's unit tests run with: a profile with the CRD's policy and SLO defaults in a
 * roomy environment (a 4 GiB Redis container, up to 20 replicas, pools from 2, 97 of PostgreSQL's
 * 100 connections, samples valid for 180 s, the HPA's CPU target tuned within 50..85 %), so each test exercises one mechanism without the
 * default bounds getting in its way. The shipped defaults have their own tests
 * (tuning-spec-from-profile.test.ts).
 */
export const TEST_SPEC: TuningSpec = tuningSpecFromProfile(
  defaultedProfileSpec({
    targetRef: { name: 'risk-api' },
    knobs: {
      poolSize: { min: 2, max: 50 },
      maxOverflow: { min: 0, max: 30 },
      redisMaxmemory: { minMiB: 64, maxMiB: 3072, containerMemoryLimitMiB: 4096 },
      replicas: { floor: 2, ceiling: 20 },
      hpaTarget: {},
    },
    database: { maxConnections: 100, reservedConnections: 3 },
    metrics: { prometheus: { url: 'http://prometheus.test:9090', stalenessSeconds: 180 } },
  }),
);

/** Knob values that satisfy every invariant of {@link TEST_SPEC}. */
export const SAFE_KNOBS: KnobValues = {
  poolSize: 8,
  maxOverflow: 0,
  redisMaxmemoryMiB: 512,
  minReplicas: 2,
  maxReplicas: 6,
  hpaTargetCpuPercent: 70,
  hpaTargetRequestsPerPod: 0,
};

/** HPA targets of a CPU target alone, in percent (no request-rate metric). */
export function cpuTargets(percent: number): HpaTargets {
  return { hpaTargetCpuPercent: percent, hpaTargetRequestsPerPod: 0 };
}

/** {@link TEST_SPEC} with some fields replaced. */
export function specWith(overrides: Partial<TuningSpec> = {}): TuningSpec {
  return { ...TEST_SPEC, ...overrides };
}
