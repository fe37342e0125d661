/**
 * Metric presets: whole sets of default queries for the metric names a service already exports.
 * `spec.metrics.prometheus.preset` picks the HTTP, cache and query names, `poolPreset` the
 * connection pool's, and `spec.metrics.redis.source: Exporter` reads Redis through
 * redis_exporter's series instead of INFO; `spec.metrics.prometheus.queries` still overrides any
 * one signal. Every query keeps the API's series by `namespace="$namespace",job="$deployment"`
 * (the scrape job of the API's Service has the Deployment's name).
 *
 * Names checked against (2026-12):
 * - OpenTelemetry semantic conventions v1.45.0, HTTP metrics (stable since v1.23.0):
 *   `http.server.request.duration`, histogram, unit `s`, attributes `http.request.method`,
 *   `http.response.status_code`, `http.route`; database metrics: `db.client.operation.duration`,
 *   histogram, unit `s`. Prometheus exports them as `http_server_request_duration_seconds_*` and
 *   `db_client_operation_duration_seconds_*`, dots in attribute names turned into underscores.
 *   The conventions define no cache hit or miss metric: the OpenTelemetry preset keeps
 *   `cache_hits_total` and `cache_misses_total`.
 * - HikariCP through Micrometer's Prometheus registry: gauges `hikaricp_connections_active`,
 *   `hikaricp_connections_max`, `hikaricp_connections_pending`, timers
 *   `hikaricp_connections_acquire_seconds_{count,sum,max}` and `hikaricp_connections_usage_seconds_*`,
 *   each labelled `pool`. Micrometer publishes no acquire buckets unless percentiles-histogram is
 *   on, so the acquire timer's `_max` stands for the 95th percentile (an upper bound).
 * - Go's database/sql through client_golang's `collectors.NewDBStatsCollector` (`go_sql_*`,
 *   labelled `db_name`): `go_sql_in_use_connections`, `go_sql_max_open_connections`,
 *   `go_sql_wait_count_total`, `go_sql_wait_duration_seconds_total`. It counts only checkouts
 *   that waited, and has no histogram: the mean wait stands for the 95th percentile.
 *   (github.com/dlmiddlecote/sqlstats exports the same figures as `go_sql_stats_connections_*`;
 *   override the pool queries for it.)
 */
import { DEFAULT_PROMQL, type Signal } from './default-promql.ts';

/** MetricsPreset names the HTTP, cache and query metric names a service exports. */
export const METRICS_PRESETS = ['PerfPilot', 'OpenTelemetry'] as const;
/** One of {@link METRICS_PRESETS}. */
export type MetricsPreset = (typeof METRICS_PRESETS)[number];

/** PoolPreset names the connection pool metrics a service exports. */
export const POOL_PRESETS = ['PerfPilot', 'HikariCP', 'GoDatabaseSQL'] as const;
/** One of {@link POOL_PRESETS}. */
export type PoolPreset = (typeof POOL_PRESETS)[number];

/** Where the Redis signals come from: INFO on every node, or redis_exporter's series in Prometheus. */
export const REDIS_METRICS_SOURCES = ['Direct', 'Exporter'] as const;
/** One of {@link REDIS_METRICS_SOURCES}. */
export type RedisMetricsSource = (typeof REDIS_METRICS_SOURCES)[number];

/** The default preset of each kind: today's names. */
export const DEFAULT_METRICS_PRESET: MetricsPreset = 'PerfPilot';
export const DEFAULT_POOL_PRESET: PoolPreset = 'PerfPilot';
export const DEFAULT_REDIS_METRICS_SOURCE: RedisMetricsSource = 'Direct';

/** One signal's default in a preset. */
export interface SignalDefault {
  /** query is the PromQL, with `$namespace`, `$deployment` and `$poolCapacity` still in it. */
  readonly query: string;
  /**
   * freshness is the raw series whose newest sample tells the signal's age; of several, the
   * newest of any (a cache's hits or misses, whichever exists).
   */
  readonly freshness?: string | readonly string[];
  /**
   * events is the count the query divides by (or takes a quantile of). When the query is NaN and
   * this is exactly 0 while the freshness series is young, the signal had no events: it did not
   * fail, nothing happened to measure.
   */
  readonly events?: string;
}

const API = 'namespace="$namespace",job="$deployment"';
const POD = 'namespace="$namespace",pod=~"$deployment-.+"';

/** rateOf is `sum(rate(series{API…}[window]))`. */
const rateOf = (series: string, window = '5m', matchers = '') =>
  `sum(rate(${series}{${API}${matchers}}[${window}]))`;

/** An HTTP duration histogram's signals: request rate, p95 (ms) and 5xx share, in seconds and `statusLabel`. */
function httpSignals(histogram: string, statusLabel: string) {
  const requests = rateOf(`${histogram}_count`);
  return {
    requestsPerSecond: { query: rateOf(`${histogram}_count`, '2m'), freshness: `${histogram}_count{${API}}` },
    p95LatencyMs: {
      query: `1000 * histogram_quantile(0.95, sum by (le) (rate(${histogram}_bucket{${API}}[5m])))`,
      freshness: `${histogram}_count{${API}}`,
      events: requests,
    },
    // A 5xx series exists only once a request has failed: no such series is zero errors, as long
    // as the request rate it is divided by exists (no requests measured is still unknown).
    errorRatePercent: {
      query: `100 * (${rateOf(`${histogram}_count`, '5m', `,${statusLabel}=~"5.."`)} or vector(0)) / ${requests}`,
      freshness: `${histogram}_count{${API}}`,
      events: requests,
    },
  } satisfies Partial<Record<Signal, SignalDefault>>;
}

const hits = rateOf('cache_hits_total');
const misses = rateOf('cache_misses_total');
/**
 * The cache hit rate from `cache_hits_total` and `cache_misses_total`. A labelled counter has no
 * series until its first increment (a warmed cache is never missed), so either side absent counts
 * as 0 as long as the other exists and proves the source alive.
 */
const CACHE_HIT_RATE: SignalDefault = {
  query: DEFAULT_PROMQL.cacheHitRatePercent,
  // Two selectors, not one with a name regex: timestamp() drops the metric name, and hits and
  // misses would be two series with one label set, an error.
  freshness: [`cache_hits_total{${API}}`, `cache_misses_total{${API}}`],
  events: `(${hits} or 0 * ${misses}) + (${misses} or 0 * ${hits})`,
};

type PresetSignal =
  | 'requestsPerSecond'
  | 'p95LatencyMs'
  | 'errorRatePercent'
  | 'cacheHitRatePercent'
  | 'dbQueriesPerSecond';
type PoolSignal = 'poolUsagePercent' | 'poolWaitSecondsP95' | 'poolWaitSecondsMean' | 'dbActiveConnections';

/** The HTTP, cache and query signals of each {@link MetricsPreset}. */
export const METRICS_PRESET_QUERIES: Record<MetricsPreset, Record<PresetSignal, SignalDefault>> = {
  PerfPilot: {
    ...httpSignals('http_request_duration_seconds', 'status_code'),
    cacheHitRatePercent: CACHE_HIT_RATE,
    dbQueriesPerSecond: {
      query: DEFAULT_PROMQL.dbQueriesPerSecond,
      freshness: `database_query_duration_seconds_count{${API}}`,
    },
  },
  OpenTelemetry: {
    ...httpSignals('http_server_request_duration_seconds', 'http_response_status_code'),
    cacheHitRatePercent: CACHE_HIT_RATE,
    dbQueriesPerSecond: {
      query: rateOf('db_client_operation_duration_seconds_count', '2m'),
      freshness: `db_client_operation_duration_seconds_count{${API}}`,
    },
  },
};

/** A pool's mean wait: waited seconds over checkouts; no checkout in the window is no events. */
function meanWait(sum: string, count: string): SignalDefault {
  return { query: `${rateOf(sum)} / ${rateOf(count)}`, freshness: `${count}{${API}}`, events: rateOf(count) };
}

/** The pool signals of each {@link PoolPreset}. */
export const POOL_PRESET_QUERIES: Record<PoolPreset, Record<PoolSignal, SignalDefault>> = {
  PerfPilot: {
    poolUsagePercent: {
      query: DEFAULT_PROMQL.poolUsagePercent,
      freshness: `database_connections_active{${API}}`,
    },
    poolWaitSecondsP95: {
      query: DEFAULT_PROMQL.poolWaitSecondsP95,
      freshness: `database_pool_wait_seconds_count{${API}}`,
      events: rateOf('database_pool_wait_seconds_count'),
    },
    poolWaitSecondsMean: meanWait('database_pool_wait_seconds_sum', 'database_pool_wait_seconds_count'),
    dbActiveConnections: {
      query: DEFAULT_PROMQL.dbActiveConnections,
      freshness: `database_connections_active{${API}}`,
    },
  },
  HikariCP: {
    // Each pod's own maximum (maximumPoolSize) is exported: no $poolCapacity needed.
    poolUsagePercent: {
      query: `100 * max(hikaricp_connections_active{${API}} / hikaricp_connections_max{${API}})`,
      freshness: `hikaricp_connections_active{${API}}`,
    },
    poolWaitSecondsP95: {
      query: `max(hikaricp_connections_acquire_seconds_max{${API}})`,
      freshness: `hikaricp_connections_acquire_seconds_max{${API}}`,
    },
    poolWaitSecondsMean: meanWait(
      'hikaricp_connections_acquire_seconds_sum',
      'hikaricp_connections_acquire_seconds_count',
    ),
    dbActiveConnections: {
      query: `sum(hikaricp_connections_active{${API}})`,
      freshness: `hikaricp_connections_active{${API}}`,
    },
  },
  GoDatabaseSQL: {
    // go_sql_max_open_connections is 0 when unlimited: the usage is then +Inf, unknown; override it.
    poolUsagePercent: {
      query: `100 * max(go_sql_in_use_connections{${API}} / go_sql_max_open_connections{${API}})`,
      freshness: `go_sql_in_use_connections{${API}}`,
    },
    poolWaitSecondsP95: meanWait('go_sql_wait_duration_seconds_total', 'go_sql_wait_count_total'),
    poolWaitSecondsMean: meanWait('go_sql_wait_duration_seconds_total', 'go_sql_wait_count_total'),
    dbActiveConnections: {
      query: `sum(go_sql_in_use_connections{${API}})`,
      freshness: `go_sql_in_use_connections{${API}}`,
    },
  },
};

/** The signals every preset shares: CPU (cAdvisor, kube-state-metrics) and Redis (redis_exporter). */
const SHARED_QUERIES: Record<Exclude<Signal, PresetSignal | PoolSignal>, SignalDefault> = {
  cpuUtilizationPercent: {
    query: DEFAULT_PROMQL.cpuUtilizationPercent,
    freshness: `container_cpu_usage_seconds_total{${POD},container!="",container!="POD"}`,
  },
  readyReplicas: { query: DEFAULT_PROMQL.readyReplicas },
  redisUsedMemoryBytes: { query: DEFAULT_PROMQL.redisUsedMemoryBytes },
  redisMaxmemoryBytes: { query: DEFAULT_PROMQL.redisMaxmemoryBytes },
  redisHitsPerSecond: { query: DEFAULT_PROMQL.redisHitsPerSecond },
  redisMissesPerSecond: { query: DEFAULT_PROMQL.redisMissesPerSecond },
  redisEvictedKeysPerSecond: { query: DEFAULT_PROMQL.redisEvictedKeysPerSecond },
  redisExpiredKeysPerSecond: { query: DEFAULT_PROMQL.redisExpiredKeysPerSecond },
};

/**
 * REDIS_EXPORTER_FRESHNESS: read live (`redis.source: Exporter`), each Redis signal is as fresh as
 * redis_exporter's newest sample; the exporter stops serving them when its Redis is down.
 */
const REDIS_EXPORTER_FRESHNESS = {
  redisUsedMemoryBytes: 'redis_memory_used_bytes{namespace="$namespace"}',
  redisMaxmemoryBytes: 'redis_memory_max_bytes{namespace="$namespace"}',
  redisHitsPerSecond: 'redis_keyspace_hits_total{namespace="$namespace"}',
  redisMissesPerSecond: 'redis_keyspace_misses_total{namespace="$namespace"}',
  redisEvictedKeysPerSecond: 'redis_evicted_keys_total{namespace="$namespace"}',
  redisExpiredKeysPerSecond: 'redis_expired_keys_total{namespace="$namespace"}',
} as const satisfies Partial<Record<Signal, string>>;

/** The Redis signals read from Prometheus when `spec.metrics.redis.source` is `Exporter`. */
export const REDIS_EXPORTER_SIGNALS = Object.keys(
  REDIS_EXPORTER_FRESHNESS,
) as (keyof typeof REDIS_EXPORTER_FRESHNESS)[];

/** The presets a profile chose. */
export interface PresetChoice {
  readonly preset?: MetricsPreset;
  readonly poolPreset?: PoolPreset;
  /** live: the Redis signals are read live (Exporter), so they are judged by freshness too. */
  readonly liveRedis?: boolean;
}

/** presetDefault is a signal's default under the chosen presets. */
export function presetDefault(signal: Signal, choice: PresetChoice = {}): SignalDefault {
  const preset = METRICS_PRESET_QUERIES[choice.preset ?? DEFAULT_METRICS_PRESET] as Partial<
    Record<Signal, SignalDefault>
  >;
  const pool = POOL_PRESET_QUERIES[choice.poolPreset ?? DEFAULT_POOL_PRESET] as Partial<
    Record<Signal, SignalDefault>
  >;
  const shared = SHARED_QUERIES as Partial<Record<Signal, SignalDefault>>;
  const found = preset[signal] ?? pool[signal] ?? (shared[signal] as SignalDefault);
  const redisFreshness = (REDIS_EXPORTER_FRESHNESS as Partial<Record<Signal, string>>)[signal];
  return choice.liveRedis && redisFreshness ? { ...found, freshness: redisFreshness } : found;
}
