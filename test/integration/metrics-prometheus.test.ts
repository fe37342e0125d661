/**
 * The metric sources against a real Prometheus (Debian's binary, scraping the test exporter) and
 * a real redis-server: the snapshot the engine gets, every kind of bad answer as an unknown that
 * names its signal (never zero), credentials and TLS, an unreachable or silent Prometheus, and
 * the history rebuilt from range queries.
 */
import { createServer, type Server } from 'node:net';
import { CoreV1Api } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubeSecretReader } from '../../operator/src/actuators/secrets.ts';
import { API_VERSION, KIND, type PerformanceProfile } from '../../operator/src/api/v1alpha1/index.ts';
import { PermanentError } from '../../operator/src/controller/error-policy.ts';
import { classifyingSecretReader } from '../../operator/src/controller/make-reconcile-context.ts';
import {
  createMetricSources,
  type MetricSources,
  measureSnapshot,
  rebuildHistory,
} from '../../operator/src/metrics/index.ts';
import { createOperatorMetrics } from '../../operator/src/telemetry/metrics.ts';
import { defaultedProfileSpec } from '../../operator/src/tuning/tuning-spec-from-profile.ts';
import { type ControlPlane, startControlPlane } from '../cluster/control-plane.ts';
import { driveRiskApiSeries, startTestExporter, type TestExporter } from '../cluster/exporter.ts';
import { createNamespace } from '../cluster/kube.ts';
import { freePort } from '../cluster/processes.ts';
import { type PrometheusServer, startPrometheus } from '../cluster/prometheus.ts';
import { type RedisServer, startRedis } from '../cluster/redis.ts';

const NAMESPACE = 'shop';
const API = 'risk-api';
const now = () => Date.now() / 1000;
const hpa = { currentReplicas: 3, conditions: [], scalingLimited: false };

/** A profile for `deployment` in `shop`, read from `url`; `spec` adds or overrides fields. */
function profile(url: string, spec: Record<string, unknown> = {}, deployment = API): PerformanceProfile {
  const { prometheus, metrics, ...rest } = spec as { prometheus?: object; metrics?: object };
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: { name: deployment, namespace: NAMESPACE },
    spec: defaultedProfileSpec({
      targetRef: { name: deployment },
      policy: { evaluationIntervalSeconds: 10, verificationWindowSeconds: 60, cooldownSeconds: 60 },
      ...rest,
      metrics: {
        prometheus: { url, stalenessSeconds: 30, timeoutSeconds: 2, ...prometheus },
        ...metrics,
      },
    }),
  };
}

describe('metric sources through a real Prometheus and Redis', () => {
  let exporter: TestExporter;
  let staleExporter: TestExporter;
  let calmExporter: TestExporter;
  let stopCalm: () => void;
  let prometheus: PrometheusServer;
  let redis: RedisServer;
  let stopTraffic: () => void;
  let sources: MetricSources;
  const operatorMetrics = createOperatorMetrics(new Registry());
  const secrets = new Map<string, string>();

  beforeAll(async () => {
    exporter = await startTestExporter();
    staleExporter = await startTestExporter();
    calmExporter = await startTestExporter();
    const labels = { namespace: NAMESPACE };
    prometheus = await startPrometheus({
      scrapeTargets: [
        { address: exporter.address, job: API, labels },
        { address: staleExporter.address, job: 'stale-api', labels },
        { address: calmExporter.address, job: 'calm-api', labels },
      ],
      scrapeIntervalSeconds: 1,
    });
    redis = await startRedis({ password: 'redis-test-password' });
    secrets.set(`${NAMESPACE}/redis-auth/password`, redis.password);
    stopTraffic = driveRiskApiSeries(exporter, API).stop;
    stopCalm = driveRiskApiSeries(calmExporter, 'calm-api', { errorEveryTicks: 0 }).stop;
    sources = createMetricSources({
      readSecret: async (ns, ref) => {
        const value = secrets.get(`${ns}/${ref.name}/${ref.key}`);
        if (value === undefined) throw new Error(`Secret ${ns}/${ref.name} has no key ${ref.key}`);
        return value;
      },
      unknownAnswers: operatorMetrics.metricUnknownTotal,
      redisSecondReadingDelayMs: 300,
    });
    // Rates over [2m] need two scrapes of moving counters.
    await prometheus.waitForSeries(`rate(http_request_duration_seconds_count{job="${API}"}[2m]) > 0`);
    await prometheus.waitForSeries(`rate(database_pool_wait_seconds_count{job="${API}"}[5m]) > 0`);
    await prometheus.waitForSeries(
      `rate(http_request_duration_seconds_count{job="${API}",status_code="500"}[5m]) > 0`,
    );
  });

  afterAll(async () => {
    stopTraffic?.();
    stopCalm?.();
    sources?.close();
    await prometheus?.stop();
    await exporter?.stop();
    await staleExporter?.stop();
    await calmExporter?.stop();
    await redis?.stop();
  });

  const withRedis = () => ({
    redis: { endpoints: [`${redis.host}:${redis.port}`], passwordSecretRef: { name: 'redis-auth' } },
  });

  it('counts no 5xx series as no errors while requests are measured, and no requests as unknown', async () => {
    const calm = await measureSnapshot(profile(prometheus.url, {}, 'calm-api'), sources, now, {
      poolCapacity: 10,
      hpa,
    });
    expect(calm.prometheus.errorRatePercent).toBe(0);
    expect(calm.unknown.find((u) => u.signal === 'errorRatePercent')).toBeUndefined();
    const idle = await measureSnapshot(profile(prometheus.url, {}, 'stale-api'), sources, now, {
      poolCapacity: 10,
      hpa,
    });
    expect(idle.unknown.find((u) => u.signal === 'errorRatePercent')?.reason).toBe('empty');
  });

  it('measures the snapshot the engine gets, every signal known', async () => {
    const client = redis.client();
    await client.set('k', 'v');
    await client.get('k');
    await client.get('missing');
    client.disconnect();
    const m = await measureSnapshot(profile(prometheus.url, { metrics: withRedis() }), sources, now, {
      poolCapacity: 10,
      hpa,
    });
    expect(m.unknown).toEqual([]);
    const s = m.snapshot;
    // A [2m] rate over the few seconds this Prometheus has scraped is extrapolated low (Prometheus's
    // rate() divides by the whole window), so the rates are compared with Prometheus's own answer;
    // ratios of rates (error rate, hit rate, CPU share, mean wait) are exact from the first scrapes.
    const direct = await prometheus.waitForSeries(
      `sum(rate(http_request_duration_seconds_count{namespace="${NAMESPACE}",job="${API}"}[2m]))`,
    );
    expect(s?.requestsPerSecond).toBeGreaterThan(0);
    expect(s?.requestsPerSecond).toBeLessThanOrEqual(direct * 1.05);
    expect(s?.requestsPerSecond).toBeGreaterThan(direct * 0.5);
    expect(s?.dbQueriesPerSecond).toBeCloseTo((s?.requestsPerSecond ?? 0) / 10, 0);
    expect(s?.p95LatencyMs).toBeGreaterThan(50);
    expect(s?.p95LatencyMs).toBeLessThanOrEqual(100);
    expect(s?.errorRate).toBeGreaterThan(0);
    expect(s?.errorRate).toBeLessThan(0.01);
    expect(s?.dbActiveConnections).toBe(2);
    expect(s?.cpuUtilization).toBeGreaterThan(0);
    expect(s?.cpuUtilization).toBeLessThan(0.6);
    expect(s?.poolWaitMs).toBeGreaterThan(0);
    expect(s?.poolWaitMs).toBeLessThan(10);
    expect(s?.readyReplicas).toBe(3);
    expect(m.prometheus.cacheHitRatePercent).toBeCloseTo(90, 0);
    expect(m.prometheus.poolUsagePercent).toBe(10);
    expect(s?.redis?.usedMemoryBytes).toBeGreaterThan(0);
    expect(s?.redis?.hitsPerSecond).toBeGreaterThanOrEqual(0);
    expect(m.redis?.masters).toBe(1);
  });

  it.each<[string, Record<string, string>, string, string, RegExp]>([
    [
      'an empty result',
      { p95LatencyMs: 'no_such_metric{namespace="$namespace"}' },
      'p95LatencyMs',
      'empty',
      /p95LatencyMs: the query returned no series/,
    ],
    [
      'several series where one is expected',
      { dbActiveConnections: 'database_connections_active{namespace="$namespace",job="$deployment"}' },
      'dbActiveConnections',
      'multiple_series',
      /dbActiveConnections: the query returned 2 series where one is expected/,
    ],
    [
      'NaN',
      { errorRatePercent: 'vector(0) / 0' },
      'errorRatePercent',
      'nan',
      /errorRatePercent: the value is NaN/,
    ],
    [
      '+Inf',
      { requestsPerSecond: 'vector(1) / 0' },
      'requestsPerSecond',
      'infinite',
      /requestsPerSecond: the value is Infinity/,
    ],
    [
      'a negative value',
      {
        dbQueriesPerSecond: '0 - sum(database_connections_active{namespace="$namespace",job="$deployment"})',
      },
      'dbQueriesPerSecond',
      'negative',
      /dbQueriesPerSecond: the value is negative \(-2\)/,
    ],
    [
      'a query Prometheus rejects',
      { poolWaitSecondsMean: 'sum(rate(database_pool_wait_seconds_sum[5m])' },
      'poolWaitSecondsMean',
      'unanswered',
      /poolWaitSecondsMean: Prometheus at http:\/\/127\.0\.0\.1:\d+ rejected .*bad_data/,
    ],
  ])(
    '%s is unknown, names the signal, yields no snapshot and is counted',
    async (_what, queries, signal, reason, message) => {
      const before = await counted(signal, reason);
      const m = await measureSnapshot(
        profile(prometheus.url, { prometheus: { queries }, metrics: withRedis() }),
        sources,
        now,
        { poolCapacity: 10, hpa },
      );
      expect(m.snapshot).toBeUndefined();
      expect(m.unknown).toHaveLength(1);
      expect(m.unknown[0]).toMatchObject({ signal, reason });
      expect(m.unknown[0]?.message).toMatch(message);
      expect(m.prometheus[signal as keyof typeof m.prometheus]).toBeUndefined();
      expect(await counted(signal, reason)).toBe(before + 1);
    },
  );

  async function counted(signal: string, reason: string): Promise<number> {
    const values = (await operatorMetrics.metricUnknownTotal.get()).values;
    return values.find((v) => v.labels.signal === signal && v.labels.reason === reason)?.value ?? 0;
  }

  /** queriesAnswered is Prometheus's own count of instant queries it answered. */
  async function queriesAnswered(): Promise<number> {
    const page = await (await fetch(`${prometheus.url}/metrics`)).text();
    return page
      .split('\n')
      .filter(
        (line) =>
          line.startsWith('prometheus_http_requests_total{') && line.includes('handler="/api/v1/query"'),
      )
      .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
  }

  /** One evaluation of `count` profiles with default queries, all in one 10 s interval bucket, on fresh sources. */
  async function evaluateTogether(count: number) {
    const fresh = createMetricSources({ readSecret: async () => '' });
    const targets = [API, 'calm-api', 'absent-api'];
    const profiles = Array.from({ length: count }, (_, i) => {
      const p = profile(prometheus.url, {}, targets[i % targets.length]);
      return { ...p, metadata: { ...p.metadata, name: `profile-${i}` } };
    });
    const intoBucket = now() % 10;
    if (intoBucket > 5) await new Promise((resolve) => setTimeout(resolve, (10.2 - intoBucket) * 1000));
    const before = await queriesAnswered();
    const measured = await Promise.all(
      profiles.map((p) => measureSnapshot(p, fresh, now, { poolCapacity: 10, hpa })),
    );
    const queries = (await queriesAnswered()) - before;
    fresh.close();
    return { profiles, measured, queries, grouped: fresh.answers.sent };
  }

  it('answers many profiles with default queries from one grouped query per signal', async () => {
    const few = await evaluateTogether(5);
    const many = await evaluateTogether(20);
    // 9 live signals' values by (namespace, job) and the 5 raw series their ages come from, and
    // CPU's numerator, denominator and age by (namespace, pod): 17, whatever the count.
    expect(few.grouped).toBe(17);
    expect(many.grouped).toBe(17);
    expect(few.queries).toBe(17);
    expect(many.queries).toBe(17);
    const byTarget = (target: string) =>
      many.measured.filter((_, i) => many.profiles[i]?.spec.targetRef.name === target);
    // One shared answer: every profile of the same target reads the same values.
    for (const m of byTarget(API)) {
      expect(m.unknown).toEqual([expect.objectContaining({ signal: 'redis' })]);
      expect(m.prometheus.requestsPerSecond).toBeGreaterThan(0);
      expect(m.prometheus).toEqual(byTarget(API)[0]?.prometheus);
    }
    for (const m of byTarget('calm-api')) expect(m.prometheus.errorRatePercent).toBe(0);
    // A profile whose series is absent from the grouped answer is unknown (empty), never zero.
    for (const m of byTarget('absent-api')) {
      expect(m.prometheus).toEqual({});
      expect(m.unknown.find((u) => u.signal === 'requestsPerSecond')?.reason).toBe('empty');
    }
  });

  it('calls a sample older than the staleness bound stale, though Prometheus still returns it', async () => {
    const old = Date.now() - 90_000;
    staleExporter.setTimestamped([
      { name: 'database_connections_active', labels: { pod: 'stale-api-a' }, value: 3, timestampMs: old },
    ]);
    await prometheus.waitForSeries('database_connections_active{job="stale-api"}');
    // Grouped answers are shared for an evaluation interval: sources that asked before the series
    // existed would see it from the next interval on; fresh sources ask now.
    const fresh = createMetricSources({ readSecret: async () => '' });
    const m = await measureSnapshot(profile(prometheus.url, {}, 'stale-api'), fresh, now, {
      poolCapacity: 10,
      hpa,
    });
    fresh.close();
    const stale = m.unknown.find((u) => u.signal === 'dbActiveConnections');
    expect(stale).toMatchObject({ reason: 'stale' });
    expect(stale?.message).toMatch(
      /dbActiveConnections: the newest sample is (9\d|1\d\d) s old, more than the 30 s staleness bound/,
    );
    expect(m.snapshot).toBeUndefined();
  });

  it('an unreachable Prometheus leaves every signal unknown, naming its URL', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const m = await measureSnapshot(profile(url), sources, now, { poolCapacity: 10, hpa });
    expect(m.snapshot).toBeUndefined();
    const fromPrometheus = m.unknown.filter((u) => u.signal !== 'redis');
    expect(fromPrometheus.length).toBeGreaterThanOrEqual(10);
    for (const u of fromPrometheus) {
      expect(u.reason).toBe('unanswered');
      expect(u.message).toContain(`Prometheus at ${url} is unreachable: ECONNREFUSED`);
    }
  });

  it('a Prometheus that accepts connections and never answers times out after timeoutSeconds', async () => {
    const silent: Server = createServer(() => {});
    const port = await freePort();
    await new Promise<void>((resolve) => silent.listen(port, '127.0.0.1', resolve));
    try {
      const m = await measureSnapshot(
        profile(`http://127.0.0.1:${port}`, { prometheus: { timeoutSeconds: 1 } }),
        sources,
        now,
        { poolCapacity: 10, hpa },
      );
      expect(m.unknown.find((u) => u.signal === 'requestsPerSecond')?.message).toMatch(
        /Prometheus at http:\/\/127\.0\.0\.1:\d+ did not answer within 1000 ms/,
      );
    } finally {
      silent.close();
    }
  });

  // The forecast's 15-day rate history is proven in live-ahead.test.ts, on a backfilled Prometheus.
  const noForecast = {
    policy: {
      evaluationIntervalSeconds: 10,
      verificationWindowSeconds: 60,
      cooldownSeconds: 60,
      forecast: 'Off',
    },
  };

  it('rebuilds the engine’s history from range queries, one snapshot per evaluation interval', async () => {
    // Two evaluation intervals (10 s) of scrapes, so at least two history points have every series.
    await prometheus.waitForSeries(
      'count_over_time(kube_deployment_status_replicas_ready[1m]) >= 22',
      40_000,
    );
    const history = await rebuildHistory(
      profile(prometheus.url, { ...noForecast, metrics: withRedis() }),
      sources,
      now(),
      { lookbackSeconds: 60 },
    );
    expect(history.unknown.map((u) => u.message)).toEqual([]);
    expect(history.rates).toBeUndefined();
    expect(history.snapshots.length).toBeGreaterThanOrEqual(2);
    const times = history.snapshots.map((s) => s.takenAtSeconds);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect((times[1] ?? 0) - (times[0] ?? 0)).toBeCloseTo(10, 3);
    // The request rate grows as the [2m] window fills with traffic; a later point is never lower.
    const rates = history.snapshots.map((s) => s.requestsPerSecond);
    expect(rates.at(-1)).toBeGreaterThanOrEqual(rates[0] ?? 0);
    for (const s of history.snapshots) {
      expect(s.requestsPerSecond).toBeGreaterThan(0);
      expect(s.readyReplicas).toBe(2);
      expect(s.redis?.usedMemoryBytes).toBe(100 * 2 ** 20);
    }
  });

  it('rebuilds snapshots without Redis for a profile that names no Redis, and asks for no Redis series', async () => {
    const history = await rebuildHistory(profile(prometheus.url, noForecast), sources, now(), {
      lookbackSeconds: 60,
    });
    expect(history.unknown.map((u) => u.message)).toEqual([]);
    expect(history.snapshots.length).toBeGreaterThanOrEqual(2);
    for (const s of history.snapshots) expect(s.redis).toBeUndefined();
  });

  it('rebuilds snapshots without Redis where a Redis series does not exist, and names it', async () => {
    const history = await rebuildHistory(
      profile(prometheus.url, {
        ...noForecast,
        metrics: withRedis(),
        prometheus: { queries: { redisEvictedKeysPerSecond: 'no_such_metric' } },
      }),
      sources,
      now(),
      { lookbackSeconds: 60 },
    );
    expect(history.snapshots.length).toBeGreaterThanOrEqual(2);
    for (const s of history.snapshots) expect(s.redis).toBeUndefined();
    expect(history.unknown.map((u) => u.signal)).toEqual(['redisEvictedKeysPerSecond']);
  });

  it('rebuilds nothing, and says which signal is missing, when an engine series does not exist', async () => {
    const history = await rebuildHistory(
      profile(prometheus.url, { ...noForecast, prometheus: { queries: { p95LatencyMs: 'no_such_metric' } } }),
      sources,
      now(),
      { lookbackSeconds: 60 },
    );
    expect(history.snapshots).toEqual([]);
    expect(history.unknown.map((u) => u.signal)).toEqual(['p95LatencyMs']);
  });
});

describe('Prometheus with basic auth and TLS, credentials from Secrets on a real API server', () => {
  let prometheus: PrometheusServer;
  let cp: ControlPlane;
  let sources: MetricSources;

  beforeAll(async () => {
    [prometheus, cp] = await Promise.all([
      startPrometheus({ basicAuth: { username: 'perfpilot', password: 'prom-s3cret' }, tls: true }),
      startControlPlane(),
    ]);
    await createNamespace(cp.kubeConfig, NAMESPACE);
    const core = cp.kubeConfig.makeApiClient(CoreV1Api);
    for (const [name, stringData] of [
      ['prom-auth', { password: 'prom-s3cret' }],
      ['wrong-auth', { password: 'not-the-password' }],
      ['prom-ca', { 'ca.crt': prometheus.caCert ?? '' }],
    ] as const) {
      await core.createNamespacedSecret({ namespace: NAMESPACE, body: { metadata: { name }, stringData } });
    }
    // The operator's own Secret reader, wired into the sources as the operator wires it.
    const readSecret = classifyingSecretReader(kubeSecretReader(core));
    sources = createMetricSources({
      readSecret: async (namespace, ref) => await readSecret({ namespace, ...ref }),
    });
  });
  afterAll(async () => {
    sources?.close();
    await Promise.all([prometheus?.stop(), cp?.stop()]);
  });

  const auth = (passwordSecret: string) => ({
    prometheus: {
      basicAuth: { username: 'perfpilot', passwordSecretRef: { name: passwordSecret } },
      caBundleSecretRef: { name: 'prom-ca' },
      queries: { requestsPerSecond: 'vector(42)' },
    },
  });

  it('reads with the password and CA bundle from Secrets', async () => {
    const m = await measureSnapshot(profile(prometheus.url, auth('prom-auth')), sources, now, { hpa });
    expect(m.prometheus.requestsPerSecond).toBe(42);
  });

  it('a wrong password is an answer naming the URL and the HTTP status, never the password', async () => {
    const m = await measureSnapshot(profile(prometheus.url, auth('wrong-auth')), sources, now, { hpa });
    const u = m.unknown.find((x) => x.signal === 'requestsPerSecond');
    expect(u?.message).toMatch(/Prometheus at https:\/\/127\.0\.0\.1:\d+ answered HTTP 401/);
    expect(JSON.stringify(m)).not.toContain('not-the-password');
  });

  it('a missing Secret is an error naming the Secret and key, and a permanent one', async () => {
    const failed = await measureSnapshot(profile(prometheus.url, auth('absent')), sources, now, {
      hpa,
    }).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(Error);
    expect((failed as Error).message).toBe(
      'reading the Prometheus password from Secret shop/absent key password',
    );
    // The API server's 404, as the operator classifies it: permanent until someone creates the Secret.
    expect((failed as Error).cause).toBeInstanceOf(PermanentError);
    expect(((failed as Error).cause as Error).message).toBe(
      'Secret shop/absent key "password" cannot be read (HTTP 404)',
    );
  });
});
