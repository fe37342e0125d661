/**
 * Assembling the engine's {@link MetricSnapshot} from what the sources measured, pure: every field
 * the engine needs must be known, or there is no snapshot and the engine fails static. Also the
 * history points rebuilt from range queries.
 */
import type { Signal } from '../api/v1alpha1/default-promql.ts';
import type { MetricSnapshot, RedisSignals } from '../tuning/types.ts';
import type { HpaStatus } from './hpa-status.ts';
import { UnknownReason, type UnknownSignal, unknown } from './prometheus-result.ts';

/** What one measurement found: Prometheus values by signal, Redis signals, the HPA's status. */
export interface MeasuredValues {
  /** prometheus holds each signal's value; a missing signal is unknown. */
  readonly prometheus: Partial<Record<Signal, number>>;
  /** redis holds the cluster's Redis signals, when every node was read twice. */
  readonly redis?: RedisSignals;
  /** hpa is the HPA's status, when it was read. */
  readonly hpa?: HpaStatus;
  /**
   * withoutRedis: the profile names no Redis, so the snapshot has no cache signals (maxmemory is
   * not tuned) instead of missing them. @default false
   */
  readonly withoutRedis?: boolean;
}

const MS_PER_SECOND = 1000;

/**
 * assembleSnapshot builds the engine's snapshot when every field it needs is known: request rate,
 * p95, error rate (percent → fraction), CPU (Prometheus, else the HPA's own reading), DB query
 * rate, active connections, mean pool wait (seconds → ms), ready replicas (the HPA's current
 * replicas) and Redis. Otherwise the snapshot is undefined and `missing` names each field.
 */
export function assembleSnapshot(
  values: MeasuredValues,
  takenAtSeconds: number,
  windowSeconds: number,
): { snapshot?: MetricSnapshot; missing: UnknownSignal[] } {
  const p = values.prometheus;
  const missing: UnknownSignal[] = [];
  const need = (name: string, value: number | undefined, source: string): number => {
    if (value === undefined)
      missing.push(unknown(name, UnknownReason.Empty, `not measured (${source})`).unknown);
    return value ?? 0;
  };
  const cpuPercent = p.cpuUtilizationPercent ?? values.hpa?.cpuUtilizationPercent;
  const snapshot: MetricSnapshot = {
    takenAtSeconds,
    windowSeconds,
    requestsPerSecond: need('requestsPerSecond', p.requestsPerSecond, 'Prometheus'),
    p95LatencyMs: need('p95LatencyMs', p.p95LatencyMs, 'Prometheus'),
    errorRate: need('errorRatePercent', p.errorRatePercent, 'Prometheus') / 100,
    cpuUtilization: need('cpuUtilizationPercent', cpuPercent, 'Prometheus or the HPA') / 100,
    dbQueriesPerSecond: need('dbQueriesPerSecond', p.dbQueriesPerSecond, 'Prometheus'),
    dbActiveConnections: need('dbActiveConnections', p.dbActiveConnections, 'Prometheus'),
    poolWaitMs: need('poolWaitSecondsMean', p.poolWaitSecondsMean, 'Prometheus') * MS_PER_SECOND,
    readyReplicas: need('readyReplicas', values.hpa?.currentReplicas, 'the HPA’s status'),
    ...(values.withoutRedis && !values.redis
      ? {}
      : {
          redis: values.redis ?? {
            usedMemoryBytes: need('redis', undefined, 'Redis INFO'),
            maxMemoryBytes: 0,
            hitsPerSecond: 0,
            missesPerSecond: 0,
            evictedKeysPerSecond: 0,
            expiredKeysPerSecond: 0,
          },
        }),
  };
  // The zeros above only fill the shape; a snapshot with any field missing is never returned.
  return missing.length > 0 ? { missing } : { snapshot, missing };
}

/** Range-query points by signal: time (seconds) → value. */
export type HistoryPoints = Partial<Record<Signal, ReadonlyMap<number, number>>>;

/** The Redis signals of a history snapshot, by the field of RedisSignals each fills. */
const REDIS_HISTORY_FIELDS = {
  usedMemoryBytes: 'redisUsedMemoryBytes',
  maxMemoryBytes: 'redisMaxmemoryBytes',
  hitsPerSecond: 'redisHitsPerSecond',
  missesPerSecond: 'redisMissesPerSecond',
  evictedKeysPerSecond: 'redisEvictedKeysPerSecond',
  expiredKeysPerSecond: 'redisExpiredKeysPerSecond',
} as const satisfies Record<keyof RedisSignals, Signal>;

/**
 * historySnapshots builds one snapshot per time at which every engine signal and the ready
 * replicas have a point (the request rate's times lead), oldest first; a time with any of them
 * missing is skipped, never filled with zero. Redis is part of a snapshot where all six of its
 * signals have a point, and left out otherwise (a profile without Redis, or without
 * redis_exporter's series): a snapshot without Redis is a whole snapshot, and the engine reads no
 * cache signal from it.
 */
export function historySnapshots(points: HistoryPoints, windowSeconds: number): MetricSnapshot[] {
  const times = [...(points.requestsPerSecond?.keys() ?? [])].sort((a, b) => a - b);
  const at = (signal: Signal, t: number) => points[signal]?.get(t);
  const snapshots: MetricSnapshot[] = [];
  for (const t of times) {
    const values = {
      requestsPerSecond: at('requestsPerSecond', t),
      p95LatencyMs: at('p95LatencyMs', t),
      errorRatePercent: at('errorRatePercent', t),
      cpuUtilizationPercent: at('cpuUtilizationPercent', t),
      dbQueriesPerSecond: at('dbQueriesPerSecond', t),
      dbActiveConnections: at('dbActiveConnections', t),
      poolWaitSecondsMean: at('poolWaitSecondsMean', t),
      readyReplicas: at('readyReplicas', t),
    };
    if (Object.values(values).some((v) => v === undefined)) continue;
    const v = values as { [K in keyof typeof values]: number };
    const redisValues = Object.entries(REDIS_HISTORY_FIELDS).map(([field, signal]) => [field, at(signal, t)]);
    const redis = redisValues.every(([, value]) => value !== undefined)
      ? (Object.fromEntries(redisValues) as RedisSignals)
      : undefined;
    snapshots.push({
      takenAtSeconds: t,
      windowSeconds,
      requestsPerSecond: v.requestsPerSecond,
      p95LatencyMs: v.p95LatencyMs,
      errorRate: v.errorRatePercent / 100,
      cpuUtilization: v.cpuUtilizationPercent / 100,
      dbQueriesPerSecond: v.dbQueriesPerSecond,
      dbActiveConnections: v.dbActiveConnections,
      poolWaitMs: v.poolWaitSecondsMean * MS_PER_SECOND,
      readyReplicas: v.readyReplicas,
      ...(redis ? { redis } : {}),
    });
  }
  return snapshots;
}
