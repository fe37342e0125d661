/**
 * The risk API's Prometheus metrics, with the seed's names and the labels the operator's default
 * PromQL, the toolkit's alerts and the dashboard query (operator/src/api/v1alpha1 DEFAULT_PROMQL):
 * `http_request_duration_seconds{method,route,status_code}`, `cache_hits_total`,
 * `cache_misses_total`, `database_connections_active`, `database_pool_wait_seconds`,
 * `database_query_duration_seconds`, and the pool's size and overflow.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { type CacheDataType, DEFAULT_CACHE_STRATEGIES } from './config.ts';
import type { PoolStats } from './connection-pool.ts';

/** Metric names, as Prometheus sees them; tests and the load generator read them by these names. */
export const METRIC = {
  requestDuration: 'http_request_duration_seconds',
  cacheHits: 'cache_hits_total',
  cacheMisses: 'cache_misses_total',
  cacheErrors: 'cache_errors_total',
  cacheAvailable: 'cache_available',
  connectionsActive: 'database_connections_active',
  connectionsIdle: 'database_connections_idle',
  poolSize: 'database_pool_size',
  poolMaxOverflow: 'database_pool_max_overflow',
  poolWaiting: 'database_pool_waiting_requests',
  poolWait: 'database_pool_wait_seconds',
  poolTimeouts: 'database_pool_timeouts_total',
  queryDuration: 'database_query_duration_seconds',
  databaseAvailable: 'database_available',
} as const;

/**
 * Request duration buckets in seconds; 0.2 is the seed's p95 objective, which the toolkit's
 * latency burn-rate rules read as `le="0.2"`.
 */
export const REQUEST_DURATION_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2.5, 5, 10,
];

/** The cache's data types: each has its hit and miss series from the start. */
const CACHE_DATA_TYPES = Object.keys(DEFAULT_CACHE_STRATEGIES) as CacheDataType[];

/** The Redis commands whose failures `cache_errors_total` counts (cache.ts). */
const CACHE_OPERATIONS = ['get', 'set', 'zincrby', 'zrevrange'] as const;

/** Sources the gauges read at scrape time. */
export interface MetricSources {
  poolStats(): PoolStats;
  cacheAvailable(): boolean;
  databaseAvailable(): boolean;
}

/** The API's metrics on their own registry. */
export class RiskApiMetrics {
  readonly registry = new Registry();
  readonly requestDuration: Histogram<'method' | 'route' | 'status_code'>;
  readonly cacheHits: Counter<'data_type'>;
  readonly cacheMisses: Counter<'data_type'>;
  readonly cacheErrors: Counter<'operation'>;
  readonly poolWait: Histogram;
  readonly queryDuration: Histogram;

  constructor(sources: MetricSources, options: { processMetrics: boolean }) {
    const registers = [this.registry];
    this.requestDuration = new Histogram({
      name: METRIC.requestDuration,
      help: 'HTTP request duration in seconds, by method, route template and status code.',
      labelNames: ['method', 'route', 'status_code'],
      buckets: REQUEST_DURATION_BUCKETS,
      registers,
    });
    this.cacheHits = new Counter({
      name: METRIC.cacheHits,
      help: 'Cache lookups answered from Redis, by data type.',
      labelNames: ['data_type'],
      registers,
    });
    this.cacheMisses = new Counter({
      name: METRIC.cacheMisses,
      help: 'Cache lookups not answered from Redis (absent, or Redis unavailable), by data type.',
      labelNames: ['data_type'],
      registers,
    });
    this.cacheErrors = new Counter({
      name: METRIC.cacheErrors,
      help: 'Redis commands that failed (the request was served without the cache).',
      labelNames: ['operation'],
      registers,
    });
    new Gauge({
      name: METRIC.cacheAvailable,
      help: '1 while Redis answers, 0 while the API serves without its cache.',
      registers,
      collect() {
        this.set(sources.cacheAvailable() ? 1 : 0);
      },
    });
    const poolGauge = (name: string, help: string, read: (s: PoolStats) => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read(sources.poolStats()));
        },
      });
    poolGauge(METRIC.connectionsActive, 'Database connections checked out by requests.', (s) => s.active);
    poolGauge(METRIC.connectionsIdle, 'Open database connections waiting in the pool.', (s) => s.idle);
    poolGauge(METRIC.poolSize, 'DB_POOL_SIZE in force: connections kept open.', (s) => s.size);
    poolGauge(
      METRIC.poolMaxOverflow,
      'DB_MAX_OVERFLOW in force: extra connections allowed under load.',
      (s) => s.maxOverflow,
    );
    poolGauge(METRIC.poolWaiting, 'Requests waiting for a database connection.', (s) => s.waiting);
    new Counter({
      name: METRIC.poolTimeouts,
      help: 'Requests that found no free database connection within DB_POOL_TIMEOUT.',
      registers,
      collect() {
        this.reset();
        this.inc(sources.poolStats().timeouts);
      },
    });
    new Gauge({
      name: METRIC.databaseAvailable,
      help: '1 while PostgreSQL accepts connections, 0 after a failed connection attempt.',
      registers,
      collect() {
        this.set(sources.databaseAvailable() ? 1 : 0);
      },
    });
    this.poolWait = new Histogram({
      name: METRIC.poolWait,
      help: 'Time a request waited for a database connection, in seconds.',
      buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
      registers,
    });
    this.queryDuration = new Histogram({
      name: METRIC.queryDuration,
      help: 'Database query duration in seconds.',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
      registers,
    });
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry });
    // Every known label value starts at 0, as Prometheus's instrumentation guidance asks: a series
    // that appears only on its first increment (a warmed cache is never missed) leaves a ratio
    // over it empty, and the operator could not tell "no misses" from "no metrics".
    for (const dataType of [...CACHE_DATA_TYPES, 'default'] as const) {
      this.cacheHits.inc({ data_type: dataType }, 0);
      this.cacheMisses.inc({ data_type: dataType }, 0);
    }
    for (const operation of CACHE_OPERATIONS) this.cacheErrors.inc({ operation }, 0);
  }

  /** recordCacheLookup counts one lookup of `dataType` as a hit or a miss. */
  recordCacheLookup(dataType: CacheDataType | 'default', hit: boolean): void {
    (hit ? this.cacheHits : this.cacheMisses).inc({ data_type: dataType });
  }
}
