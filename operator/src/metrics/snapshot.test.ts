import { describe, expect, it } from 'vitest';
import { API_VERSION, KIND, type PerformanceProfile } from '../api/v1alpha1/index.ts';
import { REDIS_EXPORTER_SIGNALS } from '../api/v1alpha1/metric-presets.ts';
import { defaultedProfileSpec } from '../tuning/tuning-spec-from-profile.ts';
import { assembleSnapshot, historySnapshots } from './snapshot.ts';
import { createMetricSources, measureSnapshot } from './sources.ts';

const redis = {
  usedMemoryBytes: 100,
  maxMemoryBytes: 200,
  hitsPerSecond: 90,
  missesPerSecond: 10,
  evictedKeysPerSecond: 1,
  expiredKeysPerSecond: 2,
};
const prometheus = {
  requestsPerSecond: 1000,
  p95LatencyMs: 120,
  errorRatePercent: 0.05,
  cpuUtilizationPercent: 55,
  dbQueriesPerSecond: 100,
  dbActiveConnections: 6,
  poolWaitSecondsMean: 0.002,
};
const hpa = { currentReplicas: 3, conditions: [], scalingLimited: false };

describe('assembleSnapshot', () => {
  it('converts units: percent → fraction, seconds → ms, the HPA’s current replicas as ready', () => {
    const { snapshot } = assembleSnapshot({ prometheus, redis, hpa }, 1000, 60);
    expect(snapshot).toEqual({
      takenAtSeconds: 1000,
      windowSeconds: 60,
      requestsPerSecond: 1000,
      p95LatencyMs: 120,
      errorRate: 0.0005,
      cpuUtilization: 0.55,
      dbQueriesPerSecond: 100,
      dbActiveConnections: 6,
      poolWaitMs: 2,
      readyReplicas: 3,
      redis,
    });
  });

  it.each<[string, Parameters<typeof assembleSnapshot>[0], string[]]>([
    ['no p95', { prometheus: { ...prometheus, p95LatencyMs: undefined }, redis, hpa }, ['p95LatencyMs']],
    ['no Redis', { prometheus, hpa }, ['redis']],
    ['no HPA', { prometheus, redis }, ['readyReplicas']],
    [
      'no CPU from Prometheus nor the HPA',
      { prometheus: { ...prometheus, cpuUtilizationPercent: undefined }, redis, hpa },
      ['cpuUtilizationPercent'],
    ],
  ])('has no snapshot with %s, and names what is missing', (_what, values, missing) => {
    const result = assembleSnapshot(values, 1000, 60);
    expect(result.snapshot).toBeUndefined();
    expect(result.missing.map((m) => m.signal)).toEqual(missing);
  });

  it('takes the HPA’s CPU reading when Prometheus has none', () => {
    const { snapshot } = assembleSnapshot(
      {
        prometheus: { ...prometheus, cpuUtilizationPercent: undefined },
        redis,
        hpa: { ...hpa, cpuUtilizationPercent: 70 },
      },
      1000,
      60,
    );
    expect(snapshot?.cpuUtilization).toBe(0.7);
  });
});

describe('historySnapshots', () => {
  const full = (t: number) => new Map([[t, 1]]);
  const everySignal = (t: number) => ({
    requestsPerSecond: new Map([[t, 500]]),
    p95LatencyMs: full(t),
    errorRatePercent: full(t),
    cpuUtilizationPercent: new Map([[t, 40]]),
    dbQueriesPerSecond: full(t),
    dbActiveConnections: full(t),
    poolWaitSecondsMean: full(t),
    readyReplicas: new Map([[t, 2]]),
    redisUsedMemoryBytes: full(t),
    redisMaxmemoryBytes: full(t),
    redisHitsPerSecond: full(t),
    redisMissesPerSecond: full(t),
    redisEvictedKeysPerSecond: full(t),
    redisExpiredKeysPerSecond: full(t),
  });

  it('builds a snapshot where every signal has a point', () => {
    const [snapshot] = historySnapshots(everySignal(60), 60);
    expect(snapshot).toMatchObject({
      takenAtSeconds: 60,
      requestsPerSecond: 500,
      cpuUtilization: 0.4,
      readyReplicas: 2,
    });
  });

  const without = (signals: string[]) => {
    const points: Record<string, ReadonlyMap<number, number>> = { ...everySignal(60) };
    for (const signal of signals) points[signal] = new Map<number, number>();
    return points;
  };
  const REDIS: string[] = [...REDIS_EXPORTER_SIGNALS];

  it.each<[string, string[], 'skipped' | 'with Redis' | 'without Redis']>([
    ['every signal', [], 'with Redis'],
    ['no Redis signal (a profile without Redis)', REDIS, 'without Redis'],
    ['one Redis signal missing', ['redisEvictedKeysPerSecond'], 'without Redis'],
    ['no p95', ['p95LatencyMs'], 'skipped'],
    ['no CPU', ['cpuUtilizationPercent'], 'skipped'],
    ['no ready replicas', ['readyReplicas'], 'skipped'],
    ['no request rate', ['requestsPerSecond'], 'skipped'],
  ])('with %s at a time: %s, never filling in zero', (_what, missing, expected) => {
    const snapshots = historySnapshots(without(missing), 60);
    if (expected === 'skipped') {
      expect(snapshots).toEqual([]);
      return;
    }
    expect(snapshots).toHaveLength(1);
    expect(snapshots[0]).toMatchObject({ takenAtSeconds: 60, requestsPerSecond: 500, readyReplicas: 2 });
    expect(snapshots[0]?.redis).toEqual(
      expected === 'with Redis'
        ? {
            usedMemoryBytes: 1,
            maxMemoryBytes: 1,
            hitsPerSecond: 1,
            missesPerSecond: 1,
            evictedKeysPerSecond: 1,
            expiredKeysPerSecond: 1,
          }
        : undefined,
    );
  });
});

describe('measureSnapshot without Redis', () => {
  it('reports the HPA’s replicas and names Redis as not measured, with no engine snapshot', async () => {
    const profile: PerformanceProfile = {
      apiVersion: API_VERSION,
      kind: KIND,
      metadata: { namespace: 'shop', name: 'main' },
      spec: defaultedProfileSpec({ targetRef: { name: 'risk-api' }, metrics: {} }),
    };
    const sources = createMetricSources({ readSecret: async () => '' });
    const m = await measureSnapshot(profile, sources, () => 1000, { hpa });
    sources.close();
    expect(m.snapshot).toBeUndefined();
    expect(m.readyReplicas).toBe(3);
    expect(m.unknown.map((u) => u.message)).toContain('redis: spec.metrics.redis is not set');
  });
});
