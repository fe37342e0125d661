/** Builders for tuning tests: a healthy snapshot, seed-like knobs and an empty history. */
import { DEFAULT_TUNING_SPEC } from './tuning-spec.ts';
import type { KnobValues, MetricSnapshot, RedisSignals, TuningSpec } from './types.ts';

const MIB = 1024 * 1024;

/** A snapshot of a healthy API at 2000 rps on 3 replicas, taken at `takenAtSeconds`. */
export function healthySnapshot(
  takenAtSeconds = 1000,
  overrides: Partial<Omit<MetricSnapshot, 'redis'>> & { redis?: Partial<RedisSignals> } = {},
): MetricSnapshot {
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

/** Knob values that satisfy every invariant of the default spec. */
export const SAFE_KNOBS: KnobValues = {
  poolSize: 8,
  maxOverflow: 0,
  redisMaxMemoryMiB: 512,
  minReplicas: 2,
  maxReplicas: 6,
};

/** The default spec with some fields replaced. */
export function specWith(overrides: Partial<TuningSpec> = {}): TuningSpec {
  return { ...DEFAULT_TUNING_SPEC, ...overrides };
}
