/**
 * Each metric preset's default queries against a real Prometheus (Debian's binary) scraping real
 * series: the test exporter serving the OpenTelemetry, HikariCP and database/sql names, and
 * Debian's prometheus-redis-exporter in front of a real redis-server for `redis.source: Exporter`.
 * Values are asserted, so a wrong metric or label name fails here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_VERSION, KIND, type PerformanceProfile } from '../../operator/src/api/v1alpha1/index.ts';
import {
  createMetricSources,
  type MetricSources,
  measureSnapshot,
} from '../../operator/src/metrics/index.ts';
import { defaultedProfileSpec } from '../../operator/src/tuning/tuning-spec-from-profile.ts';
import { driveRiskApiSeries, startTestExporter, type TestExporter } from '../cluster/exporter.ts';
import { type PrometheusServer, startPrometheus } from '../cluster/prometheus.ts';
import { type RedisServer, startRedis } from '../cluster/redis.ts';
import { type RedisExporter, startRedisExporter } from '../cluster/redis-exporter.ts';

const NAMESPACE = 'shop';
const now = () => Date.now() / 1000;
const hpa = { currentReplicas: 2, conditions: [], scalingLimited: false };
const MIB = 2 ** 20;
const REDIS_MAXMEMORY = 64 * MIB;

/** The series every job serves: 500 requests/s at 80 ms, 90 % cache hits, 50 checkouts/s. */
const TRAFFIC = {
  requestsPerTick: 50,
  latencySeconds: 0.08,
  hitsPerTick: 45,
  missesPerTick: 5,
  queriesPerTick: 5,
  activeConnections: [2, 3],
  poolMax: 10,
  // The real redis_exporter serves the Redis series here.
  redisSeries: false,
};

/** A profile for `deployment` in `shop` on the given presets, with Redis through redis_exporter. */
function profile(url: string, deployment: string, prometheus: Record<string, unknown>): PerformanceProfile {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: { name: deployment, namespace: NAMESPACE },
    spec: defaultedProfileSpec({
      targetRef: { name: deployment },
      policy: { evaluationIntervalSeconds: 10, verificationWindowSeconds: 60, cooldownSeconds: 60 },
      metrics: {
        prometheus: { url, stalenessSeconds: 30, timeoutSeconds: 5, ...prometheus },
        redis: { endpoints: ['127.0.0.1:1'], source: 'Exporter' },
      },
    }),
  };
}

describe('metric presets through a real Prometheus', () => {
  let otel: TestExporter;
  let go: TestExporter;
  let prometheus: PrometheusServer;
  let redis: RedisServer;
  let redisExporter: RedisExporter;
  let sources: MetricSources;
  const stops: (() => void)[] = [];

  beforeAll(async () => {
    [otel, go] = await Promise.all([startTestExporter(), startTestExporter()]);
    redis = await startRedis({ password: 'redis-test-password' });
    const client = redis.client();
    await client.config('SET', 'maxmemory', String(REDIS_MAXMEMORY));
    client.disconnect();
    redisExporter = await startRedisExporter(redis);
    const labels = { namespace: NAMESPACE };
    prometheus = await startPrometheus({
      scrapeTargets: [
        { address: otel.address, job: 'orders-api', labels },
        { address: go.address, job: 'ledger-api', labels },
        { address: redisExporter.address, job: 'redis', labels },
      ],
    });
    stops.push(
      driveRiskApiSeries(otel, 'orders-api', {
        ...TRAFFIC,
        httpNames: 'OpenTelemetry',
        poolNames: 'HikariCP',
      }).stop,
      driveRiskApiSeries(go, 'ledger-api', {
        ...TRAFFIC,
        poolWaitSeconds: 0.004,
        poolNames: 'GoDatabaseSQL',
      }).stop,
    );
    sources = createMetricSources({ readSecret: async () => '' });
    await prometheus.waitForSeries(
      'rate(http_server_request_duration_seconds_count{job="orders-api"}[2m]) > 0',
    );
    await prometheus.waitForSeries(
      'rate(hikaricp_connections_acquire_seconds_count{job="orders-api"}[5m]) > 0',
    );
    await prometheus.waitForSeries(
      'rate(http_server_request_duration_seconds_count{job="orders-api",http_response_status_code="500"}[5m]) > 0',
    );
    await prometheus.waitForSeries('rate(go_sql_wait_count_total{job="ledger-api"}[5m]) > 0');
    await prometheus.waitForSeries('rate(redis_keyspace_hits_total{job="redis"}[5m]) >= 0');
    await prometheus.waitForSeries('count_over_time(redis_keyspace_hits_total{job="redis"}[5m]) > 1');
  });

  afterAll(async () => {
    for (const stop of stops) stop();
    sources?.close();
    await prometheus?.stop();
    await otel?.stop();
    await go?.stop();
    await redisExporter?.stop();
    await redis?.stop();
  });

  it('measures a profile on the OpenTelemetry and HikariCP presets in full, Redis through redis_exporter', async () => {
    const client = redis.client();
    await client.set('quote', 'v');
    for (let i = 0; i < 20; i++) await client.get(i % 2 ? 'quote' : 'absent');
    client.disconnect();
    const m = await measureSnapshot(
      profile(prometheus.url, 'orders-api', { preset: 'OpenTelemetry', poolPreset: 'HikariCP' }),
      sources,
      now,
      { hpa },
    );
    expect(m.unknown).toEqual([]);
    expect(m.noEvents).toEqual([]);
    const p = m.prometheus;
    // Every request takes 80 ms, in the conventions' (0.075, 0.1] bucket: p95 interpolates to 98.75 ms.
    expect(p.p95LatencyMs).toBeCloseTo(98.75, 1);
    expect(p.cacheHitRatePercent).toBeCloseTo(90, 0);
    // One request in 2,000 fails (status 500 in http_response_status_code).
    expect(p.errorRatePercent).toBeGreaterThan(0.02);
    expect(p.errorRatePercent).toBeLessThan(0.1);
    // hikaricp_connections_active / hikaricp_connections_max, the fuller pod: 3 of 10.
    expect(p.poolUsagePercent).toBeCloseTo(30, 6);
    expect(p.dbActiveConnections).toBe(5);
    expect(p.poolWaitSecondsMean).toBeCloseTo(0.002, 6);
    expect(p.poolWaitSecondsP95).toBeCloseTo(0.002, 6);
    // db_client_operation_duration_seconds: one query per ten requests.
    expect(p.dbQueriesPerSecond).toBeCloseTo((p.requestsPerSecond ?? 0) / 10, 0);
    // Redis from redis_exporter's series, not from INFO (the endpoint given is closed).
    expect(m.redis).toBeUndefined();
    expect(m.snapshot?.redis?.maxMemoryBytes).toBe(REDIS_MAXMEMORY);
    expect(m.snapshot?.redis?.usedMemoryBytes).toBeGreaterThan(0.5 * MIB);
    expect(m.snapshot?.redis?.usedMemoryBytes).toBeLessThan(REDIS_MAXMEMORY);
    expect(m.snapshot?.requestsPerSecond).toBeGreaterThan(0);
  });

  it('measures the pool of a Go service from database/sql’s go_sql_* series', async () => {
    const m = await measureSnapshot(
      profile(prometheus.url, 'ledger-api', { poolPreset: 'GoDatabaseSQL' }),
      sources,
      now,
      { hpa },
    );
    expect(m.unknown).toEqual([]);
    expect(m.prometheus.poolUsagePercent).toBeCloseTo(30, 6);
    expect(m.prometheus.dbActiveConnections).toBe(5);
    expect(m.prometheus.poolWaitSecondsMean).toBeCloseTo(0.004, 6);
    expect(m.snapshot?.poolWaitMs).toBeCloseTo(4, 3);
  });

  it('finds nothing under a preset whose names the service does not export', async () => {
    const m = await measureSnapshot(profile(prometheus.url, 'orders-api', {}), sources, now, { hpa });
    expect(m.snapshot).toBeUndefined();
    const reasons = Object.fromEntries(m.unknown.map((u) => [u.signal, u.reason]));
    expect(reasons).toMatchObject({
      requestsPerSecond: 'empty',
      p95LatencyMs: 'empty',
      dbActiveConnections: 'empty',
      poolWaitSecondsMean: 'empty',
    });
  });

  it('calls Redis unknown, never zero, once redis_exporter cannot reach it', async () => {
    await redis.stop();
    // redis_exporter then serves redis_up 0 and none of the Redis series: they go stale.
    await prometheus.waitForSeries('absent(redis_memory_used_bytes{job="redis"})', 30_000);
    const m = await measureSnapshot(
      profile(prometheus.url, 'orders-api', { preset: 'OpenTelemetry', poolPreset: 'HikariCP' }),
      sources,
      now,
      { hpa },
    );
    expect(m.snapshot).toBeUndefined();
    expect(m.unknown.map((u) => u.signal)).toEqual(
      expect.arrayContaining(['redisUsedMemoryBytes', 'redisMaxmemoryBytes', 'redisHitsPerSecond']),
    );
  });
});
