/**
 * The signals the operator measures and the PromQL each one runs by default; a profile overrides
 * any of them in `spec.metrics.prometheus.queries`.
 */

/** Label matchers of the API's own series: the target's namespace and its scrape job. */
const API_SERIES = 'namespace="$namespace",job="$deployment"';
const HITS = `sum(rate(cache_hits_total{${API_SERIES}}[5m]))`;
const MISSES = `sum(rate(cache_misses_total{${API_SERIES}}[5m]))`;

/**
 * Default PromQL per signal (the `PerfPilot` preset; metric-presets.ts holds the others), on the seed guide's metric names (and, for Redis history and CPU,
 * redis_exporter's, cAdvisor's and kube-state-metrics' standard names). Before a query runs,
 * `$namespace` and `$deployment` are replaced with the target's namespace and Deployment name (the
 * scrape job of the API's Service, which has the Deployment's name), and `$poolCapacity` with the
 * current DB_POOL_SIZE + DB_MAX_OVERFLOW; `spec.metrics.prometheus.queries` overrides any of them.
 * Each query must return one series: an empty result, several series, NaN, ±Inf or a negative
 * value makes the signal unknown, never zero; a NaN whose count did not move while its series
 * are fresh is "no events" (metric-presets.ts, `events`).
 */
export const DEFAULT_PROMQL = {
  requestsPerSecond: `sum(rate(http_request_duration_seconds_count{${API_SERIES}}[2m]))`,
  p95LatencyMs: `1000 * histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{${API_SERIES}}[5m])))`,
  // A 5xx series exists only once a request has failed: no such series is zero errors, as long as
  // the request rate it is divided by exists (no requests measured is still unknown, not zero).
  errorRatePercent: `100 * (sum(rate(http_request_duration_seconds_count{${API_SERIES},status_code=~"5.."}[5m])) or vector(0)) / sum(rate(http_request_duration_seconds_count{${API_SERIES}}[5m]))`,
  // A labelled counter has no series before its first increment (a warmed key is never missed):
  // either side absent counts as 0 while the other exists and proves the source alive.
  cacheHitRatePercent: `100 * (${HITS} or 0 * ${MISSES}) / ((${HITS} or 0 * ${MISSES}) + (${MISSES} or 0 * ${HITS}))`,
  poolUsagePercent: `100 * max(database_connections_active{${API_SERIES}}) / $poolCapacity`,
  poolWaitSecondsP95: `histogram_quantile(0.95, sum by (le) (rate(database_pool_wait_seconds_bucket{${API_SERIES}}[5m])))`,
  poolWaitSecondsMean: `sum(rate(database_pool_wait_seconds_sum{${API_SERIES}}[5m])) / sum(rate(database_pool_wait_seconds_count{${API_SERIES}}[5m]))`,
  dbQueriesPerSecond: `sum(rate(database_query_duration_seconds_count{${API_SERIES}}[2m]))`,
  dbActiveConnections: `sum(database_connections_active{${API_SERIES}})`,
  cpuUtilizationPercent:
    '100 * sum(rate(container_cpu_usage_seconds_total{namespace="$namespace",pod=~"$deployment-.+",container!="",container!="POD"}[2m])) / sum(kube_pod_container_resource_requests{namespace="$namespace",pod=~"$deployment-.+",resource="cpu"})',
  readyReplicas:
    'sum(kube_deployment_status_replicas_ready{namespace="$namespace",deployment="$deployment"})',
  redisUsedMemoryBytes: 'max(redis_memory_used_bytes{namespace="$namespace"})',
  redisMaxmemoryBytes: 'min(redis_memory_max_bytes{namespace="$namespace"})',
  redisHitsPerSecond: 'sum(rate(redis_keyspace_hits_total{namespace="$namespace"}[5m]))',
  redisMissesPerSecond: 'sum(rate(redis_keyspace_misses_total{namespace="$namespace"}[5m]))',
  redisEvictedKeysPerSecond: 'sum(rate(redis_evicted_keys_total{namespace="$namespace"}[5m]))',
  redisExpiredKeysPerSecond: 'sum(rate(redis_expired_keys_total{namespace="$namespace"}[5m]))',
} as const;

/** What each signal measures, for the CRD's descriptions. */
export const SIGNAL_MEANING: Record<keyof typeof DEFAULT_PROMQL, string> = {
  requestsPerSecond: 'the request rate (requests per second)',
  p95LatencyMs: 'the 95th percentile latency (milliseconds)',
  errorRatePercent: 'the error rate (percent)',
  cacheHitRatePercent: 'the cache hit rate (percent)',
  poolUsagePercent: 'the DB pool usage (percent)',
  poolWaitSecondsP95: 'the 95th percentile pool wait (seconds)',
  poolWaitSecondsMean: 'the mean pool wait (seconds)',
  dbQueriesPerSecond: 'the DB query rate over all pods (queries per second)',
  dbActiveConnections: 'the DB connections checked out, summed over pods',
  cpuUtilizationPercent: 'the API pods’ CPU use, in percent of their CPU request',
  readyReplicas: 'the ready API pods (used to rebuild history; live, the HPA’s status says)',
  redisUsedMemoryBytes:
    'the fullest Redis node’s used memory, in bytes (history only; live, Redis INFO says)',
  redisMaxmemoryBytes: 'the Redis maxmemory, in bytes (history only)',
  redisHitsPerSecond: 'the Redis keyspace hit rate (history only)',
  redisMissesPerSecond: 'the Redis keyspace miss rate (history only)',
  redisEvictedKeysPerSecond: 'the Redis eviction rate (history only)',
  redisExpiredKeysPerSecond: 'the Redis expiry rate (history only)',
};

/** Signal is a measured signal with an overridable query. */
export type Signal = keyof typeof DEFAULT_PROMQL;

/** SIGNALS lists every signal with an overridable query. */
export const SIGNALS = Object.keys(DEFAULT_PROMQL) as Signal[];
