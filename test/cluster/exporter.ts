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
  /**
   * podCpuSeries: serve cAdvisor's and kube-state-metrics' CPU series for the named pods at all
   * (off where {@link drivePodCpu} serves them for the Deployment's real pods). @default true
   */
  podCpuSeries: boolean;
  /** readyReplicas: `kube_deployment_status_replicas_ready`. @default 2 */
  readyReplicas: number;
  /** redisUsedBytes, redisMaxBytes: redis_exporter's memory gauges. @default 100 MiB, 512 MiB */
  redisUsedBytes: number;
  redisMaxBytes: number;
  /** redisPerTick: increments of redis_exporter's hits, misses, evictions and expirations counters. @default 3 */
  redisPerTick: number;
  /** redisSeries: serve redis_exporter's series at all (off where a real redis_exporter serves them). @default true */
  redisSeries: boolean;
  /**
   * httpNames: the HTTP and DB query series' names. PerfPilot serves the risk API's; OpenTelemetry
   * serves `http_server_request_duration_seconds{http_request_method,http_route,http_response_status_code}`
   * and `db_client_operation_duration_seconds` (semantic conventions v1.45.0, the conventions'
   * advised buckets). Fixed when the series start. @default 'PerfPilot'
   */
  httpNames: 'PerfPilot' | 'OpenTelemetry';
  /**
   * poolNames: the pool series' names. HikariCP serves Micrometer's `hikaricp_connections_active`,
   * `_max`, `_pending` and the `hikaricp_connections_acquire_seconds` timer (`pool="HikariPool-1"`);
   * GoDatabaseSQL serves client_golang's DBStatsCollector `go_sql_*` (`db_name="risk"`), whose
   * waits count only checkouts that waited (none while `poolWaitSeconds` is 0). Fixed when the
   * series start. @default 'PerfPilot'
   */
  poolNames: 'PerfPilot' | 'HikariCP' | 'GoDatabaseSQL';
  /** poolMax: each pod's pool maximum (`hikaricp_connections_max`, `go_sql_max_open_connections`). @default 10 */
  poolMax: number;
}

/** The semantic conventions' advised buckets for http.server.request.duration, in seconds. */
export const OTEL_DURATION_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
];

/** The pool series of one naming convention: active connections per pod, the pool's maximum, checkouts. */
function poolSeries(
  exporter: TestExporter,
  t: RiskApiTraffic,
): { active: Gauge; max?: Gauge; labels: Record<string, string>; checkout(waitSeconds: number): void } {
  switch (t.poolNames) {
    case 'HikariCP': {
      const labels = { pool: 'HikariPool-1' };
      const acquire = exporter.histogram('hikaricp_connections_acquire_seconds', [1], ['pool']);
      const acquireMax = exporter.gauge('hikaricp_connections_acquire_seconds_max', ['pool']);
      exporter.gauge('hikaricp_connections_pending', ['pool']).set(labels, 0);
      // Micrometer serves a timer from its registration, at 0.
      acquire.zero(labels);
      return {
        active: exporter.gauge('hikaricp_connections_active', ['pod', 'pool']),
        max: exporter.gauge('hikaricp_connections_max', ['pod', 'pool']),
        labels,
        checkout: (seconds) => {
          // Micrometer times every acquisition, waited or not.
          acquire.observe(labels, seconds);
          acquireMax.set(labels, seconds);
        },
      };
    }
    case 'GoDatabaseSQL': {
      const labels = { db_name: 'risk' };
      const waits = exporter.counter('go_sql_wait_count_total', ['db_name']);
      const waited = exporter.counter('go_sql_wait_duration_seconds_total', ['db_name']);
      // The collector serves its counters from the start, at 0.
      waits.inc(labels, 0);
      waited.inc(labels, 0);
      return {
        active: exporter.gauge('go_sql_in_use_connections', ['pod', 'db_name']),
        max: exporter.gauge('go_sql_max_open_connections', ['pod', 'db_name']),
        labels,
        checkout: (seconds) => {
          // database/sql counts only the checkouts that waited.
          if (seconds <= 0) return;
          waits.inc(labels, 1);
          waited.inc(labels, seconds);
        },
      };
    }
    default: {
      const wait = exporter.histogram('database_pool_wait_seconds', [0.001, 0.01, 0.1, 1]);
      return {
        active: exporter.gauge('database_connections_active', ['pod']),
        labels: {},
        checkout: (seconds) => wait.observe(seconds),
      };
    }
  }
}

/** The risk API's series advance by one tick of their per-tick figures every this many ms. */
const TICK_MS = 100;

/**
 * everyTick calls `onTick` once per {@link TICK_MS} of the clock, not of the timer: a timer that
 * fires late on a loaded machine (one process serves several stacks) catches up, so the rates
 * Prometheus reads are the series' rates and not 30 % below them.
 */
function everyTick(onTick: (tick: number) => void): NodeJS.Timeout {
  const started = performance.now();
  let tick = 0;
  return setInterval(() => {
    const due = Math.floor((performance.now() - started) / TICK_MS);
    while (tick < due) {
      tick++;
      onTick(tick);
    }
  }, TICK_MS);
}

/** cAdvisor's CPU counter per container, in CPU seconds. */
export const CPU_USAGE_SERIES = 'container_cpu_usage_seconds_total';
/** cAdvisor's working-set memory gauge per container, in bytes. */
export const MEMORY_WORKING_SET_SERIES = 'container_memory_working_set_bytes';
/** kube-state-metrics' resource requests per container (`resource="cpu"` in cores). */
export const RESOURCE_REQUESTS_SERIES = 'kube_pod_container_resource_requests';

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
    httpNames: 'PerfPilot',
    poolNames: 'PerfPilot',
    poolMax: 10,
    redisSeries: true,
    podCpuSeries: true,
    ...traffic,
  };
  const otel = t.httpNames === 'OpenTelemetry';
  const requests = otel
    ? exporter.histogram('http_server_request_duration_seconds', OTEL_DURATION_BUCKETS, [
        'http_request_method',
        'http_route',
        'http_response_status_code',
      ])
    : exporter.histogram('http_request_duration_seconds', [0.05, 0.1, 0.2, 0.5, 1], ['status_code']);
  const observeRequest = (status: string) =>
    otel
      ? requests.observe(
          { http_request_method: 'GET', http_route: '/api/v1/risk', http_response_status_code: status },
          t.latencySeconds,
        )
      : requests.observe({ status_code: status }, t.latencySeconds);
  // Labelled as the risk API's are: a counter that never moved has no series (a late series).
  const hits = exporter.counter('cache_hits_total', ['data_type']);
  const misses = exporter.counter('cache_misses_total', ['data_type']);
  const queries = otel
    ? exporter.histogram('db_client_operation_duration_seconds', [0.01, 0.05, 0.1], ['db_system_name'])
    : exporter.histogram('database_query_duration_seconds', [0.01, 0.05, 0.1]);
  const observeQuery = () =>
    otel ? queries.observe({ db_system_name: 'postgresql' }, 0.04) : queries.observe(0.04);
  const pool = poolSeries(exporter, t);
  const active = pool.active;
  const cpu = t.podCpuSeries ? exporter.counter(CPU_USAGE_SERIES, ['pod', 'container']) : undefined;
  const cpuRequest = t.podCpuSeries
    ? exporter.gauge(RESOURCE_REQUESTS_SERIES, ['pod', 'container', 'resource'])
    : undefined;
  const ready = exporter.gauge('kube_deployment_status_replicas_ready', ['deployment']);
  const redisUsed = t.redisSeries ? exporter.gauge('redis_memory_used_bytes') : undefined;
  const redisMax = t.redisSeries ? exporter.gauge('redis_memory_max_bytes') : undefined;
  const redisCounters = t.redisSeries
    ? [
        'redis_keyspace_hits_total',
        'redis_keyspace_misses_total',
        'redis_evicted_keys_total',
        'redis_expired_keys_total',
      ].map((n) => exporter.counter(n))
    : [];
  const pods = () => t.activeConnections.map((_, i) => `${deployment}-${String.fromCharCode(97 + i)}`);
  const setGauges = () => {
    active.reset();
    cpuRequest?.reset();
    pods().forEach((pod, i) => {
      active.set({ pod, ...pool.labels }, t.activeConnections[i] ?? 0);
      pool.max?.set({ pod, ...pool.labels }, t.poolMax);
      cpuRequest?.set({ pod, container: 'api', resource: 'cpu' }, 1);
    });
    ready.set({ deployment }, t.readyReplicas);
    redisUsed?.set(t.redisUsedBytes);
    redisMax?.set(t.redisMaxBytes);
  };
  setGauges();
  const timer = everyTick((tick) => {
    for (let i = 0; i < t.requestsPerTick; i++) {
      const failed = t.errorEveryTicks > 0 && tick % t.errorEveryTicks === 0 && i === 0;
      observeRequest(failed ? '500' : '200');
    }
    if (t.hitsPerTick > 0) hits.inc({ data_type: 'market_data' }, t.hitsPerTick);
    if (t.missesPerTick > 0) misses.inc({ data_type: 'market_data' }, t.missesPerTick);
    for (let i = 0; i < t.queriesPerTick; i++) {
      observeQuery();
      pool.checkout(t.poolWaitSeconds);
    }
    if (cpu) for (const pod of pods()) cpu.inc({ pod, container: 'api' }, t.cpuSecondsPerTick);
    for (const c of redisCounters) c.inc(t.redisPerTick);
  });
  return {
    update: (change) => {
      Object.assign(t, change);
      setGauges();
    },
    stop: () => clearInterval(timer),
  };
}

/** The CPU {@link drivePodCpu} serves for a Deployment's pods. */
export interface PodCpuLoad {
  /** cores: the CPU the Deployment's load takes in all, in cores, shared evenly by its pods. */
  cores: number;
  /** requestCores: each pod's CPU request, in cores (kube-state-metrics' series). @default 1 */
  requestCores: number;
  /** memoryBytes: each pod's working set; prometheus-adapter serves a pod's metrics only with memory too. @default 64 MiB */
  memoryBytes: number;
}

/**
 * drivePodCpu serves cAdvisor's CPU and memory series and kube-state-metrics' CPU requests for
 * real pods, by name (container `api`): the load's `cores` shared evenly by the pods last set, as
 * a Service shares requests among its ready endpoints. Pods set later take their share from then
 * on; pods no longer set lose their series. With prometheus-adapter's resource rules, these are
 * the series the HPA's CPU utilization is computed from.
 */
export function drivePodCpu(
  exporter: TestExporter,
  load: Partial<PodCpuLoad> & Pick<PodCpuLoad, 'cores'>,
): { setPods(pods: readonly string[]): void; update(change: Partial<PodCpuLoad>): void; stop(): void } {
  const l: PodCpuLoad = { requestCores: 1, memoryBytes: 64 * 2 ** 20, ...load };
  const cpu = exporter.counter(CPU_USAGE_SERIES, ['pod', 'container']);
  const memory = exporter.gauge(MEMORY_WORKING_SET_SERIES, ['pod', 'container']);
  const requests = exporter.gauge(RESOURCE_REQUESTS_SERIES, ['pod', 'container', 'resource']);
  const container = 'api';
  let pods: readonly string[] = [];
  const setGauges = () => {
    for (const pod of pods) {
      memory.set({ pod, container }, l.memoryBytes);
      requests.set({ pod, container, resource: 'cpu' }, l.requestCores);
    }
  };
  const timer = everyTick(() => {
    const share = pods.length > 0 ? (l.cores / pods.length) * (TICK_MS / 1000) : 0;
    for (const pod of pods) cpu.inc({ pod, container }, share);
  });
  return {
    setPods: (next) => {
      for (const pod of pods) {
        if (next.includes(pod)) continue;
        cpu.remove({ pod, container });
        memory.remove({ pod, container });
        requests.remove({ pod, container, resource: 'cpu' });
      }
      for (const pod of next) if (!pods.includes(pod)) cpu.inc({ pod, container }, 0);
      pods = [...next];
      setGauges();
    },
    update: (change) => {
      Object.assign(l, change);
      setGauges();
    },
    stop: () => clearInterval(timer),
  };
}
