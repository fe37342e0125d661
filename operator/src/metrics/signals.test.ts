import { describe, expect, it } from 'vitest';
import { DEFAULT_PROMQL, SIGNALS } from '../api/v1alpha1/default-promql.ts';
import { METRICS_PRESETS, POOL_PRESETS, presetDefault } from '../api/v1alpha1/metric-presets.ts';
import {
  effectiveQueries,
  groupedTemplate,
  LIVE_SIGNALS,
  podRatioTemplate,
  renderQuery,
  signalQuery,
} from './signals.ts';

const vars = { namespace: 'shop', deployment: 'risk-api', poolCapacity: 25 };

describe('renderQuery', () => {
  it.each<[string, string, string | undefined]>([
    [
      'namespace and job',
      'up{namespace="$namespace",job="$deployment"}',
      'up{namespace="shop",job="risk-api"}',
    ],
    ['every occurrence', '$deployment/$deployment', 'risk-api/risk-api'],
    ['the pool capacity', 'x / $poolCapacity', 'x / 25'],
  ])('fills in %s', (_what, template, expected) => {
    expect(renderQuery(template, vars)).toBe(expected);
  });

  it('cannot fill in an unknown pool capacity', () => {
    expect(renderQuery('x / $poolCapacity', { namespace: 'a', deployment: 'b' })).toBeUndefined();
  });
});

describe('signalQuery', () => {
  it('uses the default query, with an age query on its raw series, and its grouped form', () => {
    const q = signalQuery(undefined, 'requestsPerSecond', vars);
    expect(q).toEqual({
      signal: 'requestsPerSecond',
      query: 'sum(rate(http_request_duration_seconds_count{namespace="shop",job="risk-api"}[2m]))',
      ageQuery:
        'time() - max(timestamp(http_request_duration_seconds_count{namespace="shop",job="risk-api"}))',
      overridden: false,
      grouped: {
        query: 'sum by (namespace, job) (rate(http_request_duration_seconds_count[2m]))',
        timestampQuery: 'max by (namespace, job) (timestamp(http_request_duration_seconds_count))',
        labels: { namespace: 'shop', job: 'risk-api' },
      },
    });
  });

  it('groups every live default query by label but CPU, whose pods are matched by name', () => {
    const grouped = LIVE_SIGNALS.filter((signal) => {
      const q = signalQuery(undefined, signal, vars);
      return 'grouped' in q && q.grouped !== undefined;
    });
    expect(grouped).toEqual(LIVE_SIGNALS.filter((s) => s !== 'cpuUtilizationPercent'));
    expect(signalQuery(undefined, 'cpuUtilizationPercent', vars)).toMatchObject({
      groupedPods: {
        scale: 100,
        numerator:
          'sum by (namespace, pod) (rate(container_cpu_usage_seconds_total{container!="",container!="POD"}[2m]))',
        denominator: 'sum by (namespace, pod) (kube_pod_container_resource_requests{resource="cpu"})',
        timestampQuery:
          'max by (namespace, pod) (timestamp(container_cpu_usage_seconds_total{container!="",container!="POD"}))',
        namespace: 'shop',
        podPattern: '^(?:risk-api-.+)$',
      },
    });
  });

  it('divides the grouped pool usage by the profile’s own pool capacity', () => {
    const q = signalQuery(undefined, 'poolUsagePercent', vars);
    expect('grouped' in q && q.grouped).toMatchObject({
      query: '100 * max by (namespace, job) (database_connections_active)',
      divideBy: 25,
    });
  });

  it('uses the profile’s override, trusting Prometheus’s own staleness for it', () => {
    const q = signalQuery({ queries: { p95LatencyMs: 'my_p95{ns="$namespace"}' } }, 'p95LatencyMs', vars);
    expect(q).toEqual({ signal: 'p95LatencyMs', query: 'my_p95{ns="shop"}', overridden: true });
  });

  it('never groups an overridden query', () => {
    const q = signalQuery({ queries: { requestsPerSecond: 'sum(rate(x[1m]))' } }, 'requestsPerSecond', vars);
    expect('grouped' in q && q.grouped).toBe(false);
  });

  it('says why a pool-usage query cannot run without the pool size', () => {
    expect(signalQuery(undefined, 'poolUsagePercent', { namespace: 'a', deployment: 'b' })).toEqual({
      signal: 'poolUsagePercent',
      problem: 'its query needs $poolCapacity, and the pool size is not known',
    });
  });

  it('leaves no placeholder in any default query', () => {
    for (const signal of Object.keys(DEFAULT_PROMQL) as (keyof typeof DEFAULT_PROMQL)[]) {
      const q = signalQuery(undefined, signal, vars);
      expect('query' in q && q.query, signal).not.toMatch(/\$/);
    }
  });
});

const API = 'namespace="$namespace",job="$deployment"';

describe('groupedTemplate', () => {
  it.each<[string, string, string | undefined]>([
    ['a sum', `sum(rate(a{${API}}[2m]))`, 'sum by (namespace, job) (rate(a[2m]))'],
    ['a max', `max(a{${API}})`, 'max by (namespace, job) (a)'],
    ['other matchers kept', `sum(a{${API},code="5"})`, 'sum by (namespace, job) (a{code="5"})'],
    [
      'a quantile over buckets',
      `histogram_quantile(0.95, sum by (le) (rate(a_bucket{${API}}[5m])))`,
      'histogram_quantile(0.95, sum by (namespace, job, le) (rate(a_bucket[5m])))',
    ],
    [
      'no 5xx series as zero, per profile',
      `100 * (sum(rate(a{${API},s="5"}[5m])) or vector(0)) / sum(rate(a{${API}}[5m]))`,
      '100 * (sum by (namespace, job) (rate(a{s="5"}[5m])) or 0 * sum by (namespace, job) (rate(a[5m]))) / sum by (namespace, job) (rate(a[5m]))',
    ],
    ['a placeholder left (CPU’s pod prefix)', `sum(a{${API},pod=~"$deployment-.+"})`, undefined],
    ['another aggregation', `avg(a{${API}})`, undefined],
    ['a sum by other labels', `sum by (pod) (a{${API}})`, undefined],
    ['an aggregation without', `sum without (pod) (a{${API}})`, undefined],
    ['another vector()', `sum(a{${API}}) or vector(1)`, undefined],
    ['no API series matchers', 'sum(a{namespace="$namespace"})', undefined],
  ])('%s', (_what, template, expected) => {
    expect(groupedTemplate(template)?.query).toBe(expected);
  });

  it('leaves a trailing pool capacity to the caller', () => {
    expect(groupedTemplate(`100 * max(a{${API}}) / $poolCapacity`)).toEqual({
      query: '100 * max by (namespace, job) (a)',
      dividedByPoolCapacity: true,
    });
  });
});

const PODS = 'namespace="$namespace",pod=~"$deployment-.+"';

describe('podRatioTemplate', () => {
  it.each<[string, string, ReturnType<typeof podRatioTemplate>]>([
    [
      'a ratio of sums over the pods',
      `100 * sum(rate(a{${PODS},c!=""}[2m])) / sum(b{${PODS},r="cpu"})`,
      {
        scale: 100,
        numerator: 'sum by (namespace, pod) (rate(a{c!=""}[2m]))',
        denominator: 'sum by (namespace, pod) (b{r="cpu"})',
      },
    ],
    ['one side not over the pods', `100 * sum(rate(a{${PODS},c!=""}[2m])) / sum(b{r="cpu"})`, undefined],
    ['another form', `sum(rate(a{${PODS},c!=""}[2m]))`, undefined],
    ['a placeholder left', `100 * sum(a{${PODS},x="$namespace"}) / sum(b{${PODS},r="cpu"})`, undefined],
  ])('%s', (_what, template, expected) => {
    expect(podRatioTemplate(template)).toEqual(expected);
  });
});

describe('metric presets', () => {
  const presets = METRICS_PRESETS.flatMap((preset) =>
    POOL_PRESETS.map((poolPreset) => ({ preset, poolPreset })),
  );

  it('keeps today’s queries under the PerfPilot presets', () => {
    for (const signal of SIGNALS) {
      expect(presetDefault(signal, { preset: 'PerfPilot', poolPreset: 'PerfPilot' }).query).toBe(
        DEFAULT_PROMQL[signal],
      );
    }
  });

  it.each(presets)(
    'groups every live query but CPU under $preset and $poolPreset, each with an age query',
    (source) => {
      for (const signal of LIVE_SIGNALS.filter((s) => s !== 'cpuUtilizationPercent')) {
        const q = signalQuery(source, signal, vars);
        expect('grouped' in q && q.grouped?.labels, `${signal} is grouped`).toEqual({
          namespace: 'shop',
          job: 'risk-api',
        });
        expect('ageQuery' in q && q.ageQuery, `${signal} has an age query`).toMatch(
          /^time\(\) - max\(timestamp\(/,
        );
      }
    },
  );

  it('resolves a profile’s effective queries: presets, then overrides, placeholders filled', () => {
    const queries = effectiveQueries(
      {
        prometheus: {
          url: 'http://prometheus:9090',
          stalenessSeconds: 120,
          timeoutSeconds: 5,
          preset: 'OpenTelemetry',
          poolPreset: 'HikariCP',
          queries: { dbQueriesPerSecond: 'sum(rate(my_queries_total{namespace="$namespace"}[1m]))' },
        },
      },
      vars,
    );
    expect(queries.requestsPerSecond).toEqual({
      query: 'sum(rate(http_server_request_duration_seconds_count{namespace="shop",job="risk-api"}[2m]))',
      origin: 'preset',
      ageQuery:
        'time() - max(timestamp(http_server_request_duration_seconds_count{namespace="shop",job="risk-api"}))',
    });
    expect(queries.errorRatePercent?.query).toContain('http_response_status_code=~"5.."');
    expect(queries.poolUsagePercent?.query).toBe(
      '100 * max(hikaricp_connections_active{namespace="shop",job="risk-api"} / hikaricp_connections_max{namespace="shop",job="risk-api"})',
    );
    expect(queries.poolWaitSecondsMean?.eventsQuery).toBe(
      'sum(rate(hikaricp_connections_acquire_seconds_count{namespace="shop",job="risk-api"}[5m]))',
    );
    expect(queries.dbQueriesPerSecond).toEqual({
      query: 'sum(rate(my_queries_total{namespace="shop"}[1m]))',
      origin: 'override',
    });
    expect(queries.redisUsedMemoryBytes).toBeUndefined();
  });

  it('reads the Redis signals from Prometheus, each with its age, when redis.source is Exporter', () => {
    const queries = effectiveQueries(
      {
        prometheus: { url: 'http://prometheus:9090', stalenessSeconds: 120, timeoutSeconds: 5 },
        redis: { endpoints: ['redis:6379'], source: 'Exporter' },
      },
      { namespace: 'shop', deployment: 'risk-api' },
    );
    expect(queries.redisHitsPerSecond).toEqual({
      query: 'sum(rate(redis_keyspace_hits_total{namespace="shop"}[5m]))',
      origin: 'preset',
      ageQuery: 'time() - max(timestamp(redis_keyspace_hits_total{namespace="shop"}))',
    });
    expect(queries.poolUsagePercent?.problem).toMatch(/\$poolCapacity/);
  });
});
