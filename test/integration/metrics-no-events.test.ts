/**
 * "No events" is not "unknown", at the measure step, against a real Prometheus and a real
 * redis-server: a warmed cache that has not missed yet (no `cache_misses_total` series at all)
 * and a window in which no pool checkout happened leave the snapshot complete and the engine
 * deciding, while a Prometheus that is down, a counter that did not move but is stale, a query
 * that returns two series and a NaN from a broken exporter stay unknown.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_VERSION, KIND, type PerformanceProfile } from '../../operator/src/api/v1alpha1/index.ts';
import {
  createMetricSources,
  type MetricSources,
  measureSnapshot,
} from '../../operator/src/metrics/index.ts';
import { EMPTY_HISTORY, evaluate } from '../../operator/src/tuning/index.ts';
import {
  defaultedProfileSpec,
  tuningSpecFromProfile,
} from '../../operator/src/tuning/tuning-spec-from-profile.ts';
import { driveRiskApiSeries, startTestExporter, type TestExporter } from '../cluster/exporter.ts';
import { freePort } from '../cluster/processes.ts';
import { type PrometheusServer, startPrometheus } from '../cluster/prometheus.ts';
import { type RedisServer, startRedis } from '../cluster/redis.ts';

const NAMESPACE = 'shop';
const now = () => Date.now() / 1000;
const hpa = { currentReplicas: 2, conditions: [], scalingLimited: false };
const CURRENT = {
  poolSize: 5,
  maxOverflow: 5,
  redisMaxmemoryMiB: 64,
  minReplicas: 2,
  maxReplicas: 4,
  hpaTargetCpuPercent: 70,
  hpaTargetRequestsPerPod: 0,
};

describe('no events is not unknown', () => {
  let warm: TestExporter;
  let steady: TestExporter;
  let stale: TestExporter;
  let broken: TestExporter;
  let prometheus: PrometheusServer;
  let redis: RedisServer;
  let sources: MetricSources;
  const stops: (() => void)[] = [];

  /** A profile for `deployment` in `shop`, Redis read with INFO; `queries` override signals. */
  const profile = (
    deployment: string,
    queries: Record<string, string> = {},
    url = prometheus.url,
    poolPreset = 'PerfPilot',
  ): PerformanceProfile => ({
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: { name: deployment, namespace: NAMESPACE },
    spec: defaultedProfileSpec({
      targetRef: { name: deployment },
      mode: 'Auto',
      policy: { evaluationIntervalSeconds: 10, verificationWindowSeconds: 60, cooldownSeconds: 60 },
      metrics: {
        prometheus: { url, stalenessSeconds: 30, timeoutSeconds: 5, poolPreset, queries },
        redis: { endpoints: [`${redis.host}:${redis.port}`], passwordSecretRef: { name: 'redis-auth' } },
      },
    }),
  });

  beforeAll(async () => {
    [warm, steady, stale, broken] = await Promise.all([
      startTestExporter(),
      startTestExporter(),
      startTestExporter(),
      startTestExporter(),
    ]);
    const labels = { namespace: NAMESPACE };
    prometheus = await startPrometheus({
      scrapeTargets: [
        { address: warm.address, job: 'warm-api', labels },
        { address: steady.address, job: 'steady-api', labels },
        { address: stale.address, job: 'stale-api', labels },
        { address: broken.address, job: 'broken-api', labels },
      ],
    });
    redis = await startRedis({ password: 'redis-test-password' });
    // A warmed cache: every lookup hits, so cache_misses_total has no series; no request needs
    // the database, so no pool checkout happens (database_pool_wait_seconds stays at 0).
    stops.push(
      driveRiskApiSeries(warm, 'warm-api', {
        hitsPerTick: 50,
        missesPerTick: 0,
        queriesPerTick: 0,
        activeConnections: [0, 0],
        errorEveryTicks: 0,
      }).stop,
      // A Go service whose queries never wait for a connection: go_sql_wait_count_total stays 0.
      driveRiskApiSeries(steady, 'steady-api', {
        poolNames: 'GoDatabaseSQL',
        poolWaitSeconds: 0,
        errorEveryTicks: 0,
      }).stop,
    );
    // A broken exporter: the pool's active connections are NaN.
    broken.setRaw(
      [
        'database_connections_active{pod="broken-api-a"} NaN',
        'database_pool_wait_seconds_count 0',
        'database_pool_wait_seconds_sum 0',
        '',
      ].join('\n'),
    );
    sources = createMetricSources({ readSecret: async () => redis.password, redisSecondReadingDelayMs: 300 });
    await prometheus.waitForSeries('rate(cache_hits_total{job="warm-api"}[5m]) > 0');
    await prometheus.waitForSeries(
      'count_over_time(database_pool_wait_seconds_count{job="warm-api"}[5m]) > 1',
    );
    await prometheus.waitForSeries('count_over_time(database_connections_active{job="broken-api"}[5m]) > 1');
    await prometheus.waitForSeries('rate(database_query_duration_seconds_count{job="steady-api"}[2m]) > 0');
    await prometheus.waitForSeries('count_over_time(go_sql_wait_count_total{job="steady-api"}[5m]) > 1');
  });

  afterAll(async () => {
    for (const stop of stops) stop();
    sources?.close();
    await prometheus?.stop();
    await Promise.all([warm, steady, stale, broken].map(async (e) => await e?.stop()));
    await redis?.stop();
  });

  it('reads a warmed cache with no miss series as 100 % and a window without checkouts as no events; the other knobs are decided', async () => {
    expect((await prometheus.query('cache_misses_total{job="warm-api"}')).result).toEqual([]);
    const p = profile('warm-api');
    const m = await measureSnapshot(p, sources, now, { poolCapacity: 10, hpa });
    expect(m.unknown).toEqual([]);
    expect(m.prometheus.cacheHitRatePercent).toBeCloseTo(100, 9);
    expect(m.noEvents).toEqual(['poolWaitSecondsMean', 'poolWaitSecondsP95']);
    expect(m.prometheus.poolWaitSecondsMean).toBeUndefined();
    expect(m.snapshot?.poolWaitMs).toBe(0);
    const evaluation = evaluate(tuningSpecFromProfile(p.spec), m.snapshot, CURRENT, EMPTY_HISTORY, now());
    expect(evaluation.metricsUsable).toBe(true);
    // No query reached the database: the pool has nothing to size from and holds; the replica
    // bounds and maxmemory are decided.
    const proposed = evaluation.proposals.map((x) => x.knob);
    expect(proposed).toContain('maxReplicas');
    expect(proposed).not.toContain('poolSize');
  });

  it('reads a window in which no checkout waited as no waiting, and the pool rules decide', async () => {
    const p = profile('steady-api', {}, prometheus.url, 'GoDatabaseSQL');
    const m = await measureSnapshot(p, sources, now, { hpa });
    expect(m.unknown).toEqual([]);
    expect(m.noEvents).toEqual(['poolWaitSecondsMean', 'poolWaitSecondsP95']);
    expect(m.snapshot?.poolWaitMs).toBe(0);
    expect(m.snapshot?.dbQueriesPerSecond).toBeGreaterThan(0);
    const evaluation = evaluate(tuningSpecFromProfile(p.spec), m.snapshot, CURRENT, EMPTY_HISTORY, now());
    expect(evaluation.metricsUsable).toBe(true);
    expect(evaluation.proposals.map((x) => x.knob)).toEqual(
      expect.arrayContaining(['poolSize', 'maxOverflow', 'maxReplicas']),
    );
  });

  it('an unreachable Prometheus is unknown, never no events', async () => {
    const m = await measureSnapshot(
      profile('warm-api', {}, `http://127.0.0.1:${await freePort()}`),
      sources,
      now,
      { poolCapacity: 10, hpa },
    );
    expect(m.snapshot).toBeUndefined();
    expect(m.noEvents).toEqual([]);
    expect(m.unknown.find((u) => u.signal === 'poolWaitSecondsMean')?.reason).toBe('unanswered');
    expect(m.unknown.find((u) => u.signal === 'cacheHitRatePercent')?.reason).toBe('unanswered');
  });

  it('a counter that did not move but is stale is unknown, never no events', async () => {
    // Two samples of an unmoved pool wait counter, 95 and 85 s old: rate 0, mean wait 0/0.
    const at = Date.now();
    const samples = (ageMs: number) =>
      ['count', 'sum'].map((part) => ({
        name: `database_pool_wait_seconds_${part}`,
        value: part === 'count' ? 7 : 0.1,
        timestampMs: at - ageMs,
      }));
    stale.setTimestamped(samples(95_000));
    await prometheus.waitForSeries('database_pool_wait_seconds_count{job="stale-api"}');
    stale.setTimestamped(samples(85_000));
    await prometheus.waitForSeries(
      'count_over_time(database_pool_wait_seconds_count{job="stale-api"}[5m]) > 1',
    );
    const fresh = createMetricSources({ readSecret: async () => redis.password });
    const m = await measureSnapshot(profile('stale-api'), fresh, now, { poolCapacity: 10, hpa });
    fresh.close();
    expect(m.noEvents).toEqual([]);
    expect(m.unknown.find((u) => u.signal === 'poolWaitSecondsMean')?.reason).toBe('stale');
  });

  it('a query that returns two series is unknown', async () => {
    const m = await measureSnapshot(
      profile('warm-api', {
        poolWaitSecondsMean:
          'rate(database_pool_wait_seconds_sum{namespace="$namespace",job="$deployment"}[5m]) / rate(database_pool_wait_seconds_count{namespace="$namespace",job="$deployment"}[5m]) or label_replace(vector(0), "copy", "1", "", "")',
      }),
      sources,
      now,
      { poolCapacity: 10, hpa },
    );
    expect(m.snapshot).toBeUndefined();
    expect(m.unknown.find((u) => u.signal === 'poolWaitSecondsMean')?.reason).toBe('multiple_series');
  });

  it('a NaN from a broken exporter is unknown, never no events', async () => {
    const m = await measureSnapshot(profile('broken-api'), sources, now, { poolCapacity: 10, hpa });
    expect(m.snapshot).toBeUndefined();
    expect(m.unknown.find((u) => u.signal === 'poolUsagePercent')?.reason).toBe('nan');
    expect(m.unknown.find((u) => u.signal === 'dbActiveConnections')?.reason).toBe('nan');
  });
});
