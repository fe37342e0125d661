/**
 * A test exporter: a prom-client Registry served on a free loopback port at /metrics, whose
 * gauges, counters and histograms the test sets. Prometheus scrapes it like any exporter, so a
 * test drives the series the operator reads through a real Prometheus.
 */
import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { freePort } from './processes.ts';

/** A sample served with an explicit timestamp (Prometheus then keeps its age: a stale sample). */
export interface TimestampedSample {
  /** name of the metric, e.g. `database_connections_active`. */
  readonly name: string;
  /** labels of the series. @default {} */
  readonly labels?: Readonly<Record<string, string>>;
  /** value of the sample. */
  readonly value: number;
  /** timestampMs is the sample's time in Unix milliseconds. */
  readonly timestampMs: number;
}

/** A running test exporter. */
export interface TestExporter {
  /** address is `127.0.0.1:port`, for a scrape target. */
  readonly address: string;
  readonly port: number;
  /** registry holds the metrics served. */
  readonly registry: Registry;
  /** gauge registers (once) and returns a gauge. */
  gauge(name: string, labelNames?: readonly string[]): Gauge;
  /** counter registers (once) and returns a counter. */
  counter(name: string, labelNames?: readonly string[]): Counter;
  /** histogram registers (once) and returns a histogram with the given buckets. */
  histogram(name: string, buckets: readonly number[], labelNames?: readonly string[]): Histogram;
  /** setTimestamped serves these samples (replacing earlier ones) after the registry's output. */
  setTimestamped(samples: readonly TimestampedSample[]): void;
  /** setRaw serves this exposition text instead of the registry (e.g. NaN, +Inf); undefined restores it. */
  setRaw(text: string | undefined): void;
  /** stop closes the server. */
  stop(): Promise<void>;
}

function labelText(labels: Readonly<Record<string, string>> = {}): string {
  const pairs = Object.entries(labels).map(
    ([k, v]) => `${k}="${v.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`,
  );
  return pairs.length ? `{${pairs.join(',')}}` : '';
}

/** startTestExporter serves a fresh registry on a free loopback port. */
export async function startTestExporter(): Promise<TestExporter> {
  const registry = new Registry();
  const metrics = new Map<string, Gauge | Counter | Histogram>();
  let timestamped: readonly TimestampedSample[] = [];
  let raw: string | undefined;
  const server: Server = createServer((request, response) => {
    void (async () => {
      if (request.url !== '/metrics') {
        response.writeHead(404).end();
        return;
      }
      const extra = timestamped
        .map((s) => `${s.name}${labelText(s.labels)} ${s.value} ${Math.round(s.timestampMs)}\n`)
        .join('');
      const body = raw ?? `${await registry.metrics()}${extra}`;
      response.writeHead(200, { 'content-type': registry.contentType }).end(body);
    })();
  });
  const port = await freePort();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const once = <T extends Gauge | Counter | Histogram>(name: string, make: () => T): T => {
    const existing = metrics.get(name);
    if (existing) return existing as T;
    const created = make();
    metrics.set(name, created);
    return created;
  };
  return {
    address: `127.0.0.1:${port}`,
    port,
    registry,
    gauge: (name, labelNames = []) =>
      once(name, () => new Gauge({ name, help: name, labelNames: [...labelNames], registers: [registry] })),
    counter: (name, labelNames = []) =>
      once(name, () => new Counter({ name, help: name, labelNames: [...labelNames], registers: [registry] })),
    histogram: (name, buckets, labelNames = []) =>
      once(
        name,
        () =>
          new Histogram({
            name,
            help: name,
            buckets: [...buckets],
            labelNames: [...labelNames],
            registers: [registry],
          }),
      ),
    setTimestamped: (samples) => {
      timestamped = samples;
    },
    setRaw: (text) => {
      raw = text;
    },
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** What the risk API's series say, per 100 ms tick (see {@link driveRiskApiSeries}). */
export interface RiskApiTraffic {
  /** requestsPerTick: requests observed in `http_request_duration_seconds` per tick. @default 50 */
  requestsPerTick: number;
  /** latencySeconds: the duration every request is observed with. @default 0.08 */
  latencySeconds: number;
  /** errorEveryTicks: one request of every this many ticks has status 500 (0.05 %, inside the seed's 0.1 %). @default 40 */
  errorEveryTicks: number;
  /** hitsPerTick, missesPerTick: `cache_hits_total` and `cache_misses_total` increments. @default 45, 5 */
  hitsPerTick: number;
  missesPerTick: number;
  /** queriesPerTick: `database_query_duration_seconds` observations (40 ms each). @default 5 */
  queriesPerTick: number;
  /** poolWaitSeconds: each query's `database_pool_wait_seconds` observation. @default 0.002 */
  poolWaitSeconds: number;
  /**
   * activeConnections: `database_connections_active` per pod (`<deployment>-a`, `-b`, ...). The
   * default agrees with the queries by Little's law: 50 queries/s × 40 ms = 2 busy. @default [1, 1]
   */
  activeConnections: number[];
  /** cpuSecondsPerTick: `container_cpu_usage_seconds_total` per pod per tick, against a one-core request. @default 0.05 */
  cpuSecondsPerTick: number;
  /** readyReplicas: `kube_deployment_status_replicas_ready`. @default 2 */
  readyReplicas: number;
  /** redisUsedBytes, redisMaxBytes: redis_exporter's memory gauges. @default 100 MiB, 512 MiB */
  redisUsedBytes: number;
  redisMaxBytes: number;
  /** redisPerTick: increments of redis_exporter's hits, misses, evictions and expirations counters. @default 3 */
  redisPerTick: number;
}

/** The risk API's series advance by one tick of their per-tick figures every this many ms. */
const TICK_MS = 100;

/**
 * driveRiskApiSeries makes the exporter serve the series the risk API, cAdvisor,
 * kube-state-metrics and redis_exporter would (the seed's metric names), moving every 100 ms as
 * `traffic` says; `update` changes it live; `stop` ends the ticking. Prometheus scrapes them under
 * the job and labels of its scrape target.
 */
export function driveRiskApiSeries(
  exporter: TestExporter,
  deployment: string,
  traffic: Partial<RiskApiTraffic> = {},
): { update(change: Partial<RiskApiTraffic>): void; stop(): void } {
  const t: RiskApiTraffic = {
    requestsPerTick: 50,
    latencySeconds: 0.08,
    errorEveryTicks: 40,
    hitsPerTick: 45,
    missesPerTick: 5,
    queriesPerTick: 5,
    poolWaitSeconds: 0.002,
    activeConnections: [1, 1],
    cpuSecondsPerTick: 0.05,
    readyReplicas: 2,
    redisUsedBytes: 100 * 2 ** 20,
    redisMaxBytes: 512 * 2 ** 20,
    redisPerTick: 3,
    ...traffic,
  };
  const requests = exporter.histogram(
    'http_request_duration_seconds',
    [0.05, 0.1, 0.2, 0.5, 1],
    ['status_code'],
  );
  const hits = exporter.counter('cache_hits_total');
  const misses = exporter.counter('cache_misses_total');
  const queries = exporter.histogram('database_query_duration_seconds', [0.01, 0.05, 0.1]);
  const wait = exporter.histogram('database_pool_wait_seconds', [0.001, 0.01, 0.1, 1]);
  const active = exporter.gauge('database_connections_active', ['pod']);
  const cpu = exporter.counter('container_cpu_usage_seconds_total', ['pod', 'container']);
  const cpuRequest = exporter.gauge('kube_pod_container_resource_requests', ['pod', 'container', 'resource']);
  const ready = exporter.gauge('kube_deployment_status_replicas_ready', ['deployment']);
  const redisUsed = exporter.gauge('redis_memory_used_bytes');
  const redisMax = exporter.gauge('redis_memory_max_bytes');
  const redisCounters = [
    'redis_keyspace_hits_total',
    'redis_keyspace_misses_total',
    'redis_evicted_keys_total',
    'redis_expired_keys_total',
  ].map((n) => exporter.counter(n));
  const pods = () => t.activeConnections.map((_, i) => `${deployment}-${String.fromCharCode(97 + i)}`);
  const setGauges = () => {
    active.reset();
    cpuRequest.reset();
    pods().forEach((pod, i) => {
      active.set({ pod }, t.activeConnections[i] ?? 0);
      cpuRequest.set({ pod, container: 'api', resource: 'cpu' }, 1);
    });
    ready.set({ deployment }, t.readyReplicas);
    redisUsed.set(t.redisUsedBytes);
    redisMax.set(t.redisMaxBytes);
  };
  setGauges();
  // Ticks follow the clock, not the timer: a timer that fires late on a loaded machine (one
  // process serves several stacks) catches up, so the rates Prometheus reads are the series'
  // rates and not 30 % below them.
  const started = performance.now();
  let tick = 0;
  const timer = setInterval(() => {
    const due = Math.floor((performance.now() - started) / TICK_MS);
    while (tick < due) {
      tick++;
      for (let i = 0; i < t.requestsPerTick; i++) {
        const failed = t.errorEveryTicks > 0 && tick % t.errorEveryTicks === 0 && i === 0;
        requests.observe({ status_code: failed ? '500' : '200' }, t.latencySeconds);
      }
      hits.inc(t.hitsPerTick);
      misses.inc(t.missesPerTick);
      for (let i = 0; i < t.queriesPerTick; i++) {
        queries.observe(0.04);
        wait.observe(t.poolWaitSeconds);
      }
      for (const pod of pods()) cpu.inc({ pod, container: 'api' }, t.cpuSecondsPerTick);
      for (const c of redisCounters) c.inc(t.redisPerTick);
    }
  }, TICK_MS);
  return {
    update: (change) => {
      Object.assign(t, change);
      setGauges();
    },
    stop: () => clearInterval(timer),
  };
}
