/**
 * The toolkit's values model: one typed, documented schema whose defaults are the seed guide's
 * numbers. A YAML values file overrides any of it (see load-values.ts); every field says what it
 * does, its default and its allowed range, and the same schema validates user input.
 */
import Type, { type Static } from 'typebox';
import { MODES, type Mode } from '../../operator/src/api/v1alpha1/constants.ts';
import {
  DEFAULT_DATABASE,
  DEFAULT_KNOB_BOUNDS,
  DEFAULT_POLICY,
  DEFAULT_SLO,
} from '../../operator/src/api/v1alpha1/defaults.ts';
import {
  CACHE_STRATEGY_NAMES,
  type CacheStrategyName,
  DEFAULT_CACHE_STRATEGIES,
  POOL_LIMITS,
  RISK_API_DEFAULTS,
} from '../../risk-api/src/config.ts';
import { requestRateMetricTypes } from './request-rate-metric.ts';

const DNS_LABEL = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
const DNS_SUBDOMAIN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
/** An image reference with an explicit tag or digest, never `latest`. */
const PINNED_IMAGE =
  '^[a-z0-9][a-z0-9._/:-]*[a-z0-9](:(?!latest$)[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[a-f0-9]{64})$';

const strict = { additionalProperties: false, default: {} } as const;

function int(description: string, def: number, minimum: number, maximum: number) {
  return Type.Integer({ description, default: def, minimum, maximum });
}
function bool(description: string, def: boolean) {
  return Type.Boolean({ description, default: def });
}
function name(description: string, def: string, pattern = DNS_LABEL) {
  const allowed =
    pattern === DNS_LABEL
      ? 'a DNS label: lowercase letters, digits and -, at most 63 characters'
      : 'a DNS subdomain: lowercase letters, digits, - and ., at most 63 characters';
  return Type.String({
    description,
    default: def,
    pattern,
    minLength: 1,
    maxLength: 63,
    'x-allowed': allowed,
  });
}
function image(description: string, def: string) {
  return Type.String({
    description,
    default: def,
    pattern: PINNED_IMAGE,
    maxLength: 512,
    'x-allowed': 'an image reference with a tag or digest, not latest (e.g. registry/name:1.2.3)',
  });
}
function oneOf<T extends string>(description: string, values: readonly T[], def: T) {
  return Type.Unsafe<T>({ type: 'string', enum: [...values], default: def, description });
}

/** Resources of one container: CPU in millicores, memory in MiB; requests never above limits. */
function resources(def: {
  cpuRequestMillis: number;
  cpuLimitMillis: number;
  memoryRequestMiB: number;
  memoryLimitMiB: number;
}) {
  return Type.Object(
    {
      cpuRequestMillis: int('CPU request in millicores.', def.cpuRequestMillis, 10, 64000),
      cpuLimitMillis: int('CPU limit in millicores.', def.cpuLimitMillis, 10, 64000),
      memoryRequestMiB: int('Memory request in MiB.', def.memoryRequestMiB, 16, 1048576),
      memoryLimitMiB: int('Memory limit in MiB.', def.memoryLimitMiB, 16, 1048576),
    },
    { ...strict, description: 'Container requests and limits.' },
  );
}
export type ContainerResources = Static<ReturnType<typeof resources>>;

/** Cache strategies the seed names per data type (the risk API's own list). */
export const CACHE_STRATEGIES = CACHE_STRATEGY_NAMES;
export type { CacheStrategyName };

/**
 * The project's one image: its entrypoint is the `perfpilot` command (see the Dockerfile), and
 * each Deployment picks a subcommand with its args (`operator`, `risk-api`).
 */
export const PERFPILOT_IMAGE = 'ghcr.io/perfpilot/perfpilot:0.1.0';

const CacheStrategy = Type.Object(
  {
    ttlSeconds: Type.Integer({
      description: 'TTL of entries of this data type, in seconds.',
      minimum: 1,
      maximum: 604800,
    }),
    strategy: Type.Unsafe<CacheStrategyName>({
      type: 'string',
      enum: [...CACHE_STRATEGIES],
      description: 'How writes reach the cache.',
    }),
  },
  { additionalProperties: false },
);

export const ValuesSchema = Type.Object(
  {
    namespace: name('Namespace of the whole stack; labelled for Pod Security restricted.', 'perfpilot'),
    clusterDomain: Type.String({
      description: 'DNS domain of the cluster, for the stable hostnames Redis nodes announce.',
      default: 'cluster.local',
      pattern: DNS_SUBDOMAIN,
      maxLength: 253,
    }),
    redis: Type.Object(
      {
        image: image('Redis image (7.x, for cluster-announce-hostname).', 'redis:7.4.2-bookworm'),
        exporterImage: image('redis_exporter sidecar image.', 'oliver006/redis_exporter:v1.67.0'),
        masters: int('Number of Redis masters (hash slot owners).', 3, 3, 50),
        replicasPerMaster: int('Replicas per master.', 1, 0, 5),
        maxmemoryMiB: int(
          'maxmemory of each node in MiB (seed: 512mb); at most 75% of the memory limit.',
          512,
          16,
          1048576,
        ),
        maxmemoryPolicy: oneOf(
          'maxmemory-policy (seed: allkeys-lru).',
          [
            'allkeys-lru',
            'allkeys-lfu',
            'volatile-lru',
            'volatile-lfu',
            'allkeys-random',
            'volatile-ttl',
            'noeviction',
          ],
          'allkeys-lru',
        ),
        timeoutSeconds: int(
          'timeout: close idle client connections after this many seconds (seed: 300).',
          300,
          0,
          86400,
        ),
        tcpKeepaliveSeconds: int('tcp-keepalive in seconds (seed: 300).', 300, 0, 86400),
        hz: int('hz: background task frequency (seed: 10).', 10, 1, 500),
        hashMaxListpackEntries: int(
          'hash-max-listpack-entries (the seed’s hash-max-ziplist-entries 512).',
          512,
          0,
          1000000,
        ),
        maxclients: int('maxclients (seed: 1000).', 1000, 1, 100000),
        clusterNodeTimeoutMs: int('cluster-node-timeout in milliseconds.', 5000, 1000, 120000),
        appendonly: bool('appendonly: persist writes in the append-only file.', true),
        passwordSecret: Type.Object(
          {
            name: name(
              'Existing Secret holding the Redis password; never generated or committed.',
              'redis-auth',
              DNS_SUBDOMAIN,
            ),
            key: Type.String({
              description: 'Key in the Secret.',
              default: 'password',
              pattern: '^[-._a-zA-Z0-9]+$',
            }),
          },
          { ...strict, description: 'Reference to an existing Secret with the Redis password.' },
        ),
        storageGiB: int('Size of each node’s data volume in GiB.', 2, 1, 16384),
        storageClassName: Type.Optional(
          Type.String({
            description: 'StorageClass of the data volumes; the cluster default when unset.',
            pattern: DNS_SUBDOMAIN,
          }),
        ),
        resources: resources({
          cpuRequestMillis: 250,
          cpuLimitMillis: 1000,
          memoryRequestMiB: 1024,
          memoryLimitMiB: 1024,
        }),
        exporterResources: resources({
          cpuRequestMillis: 25,
          cpuLimitMillis: 100,
          memoryRequestMiB: 32,
          memoryLimitMiB: 64,
        }),
      },
      { ...strict, description: 'The Redis Cluster (the seed’s redis.conf plus cluster settings).' },
    ),
    api: Type.Object(
      {
        name: name('Name of the risk API Deployment, Service, HPA and PDB.', 'risk-api'),
        image: image('Image of the risk API: the project’s one image.', PERFPILOT_IMAGE),
        args: Type.Array(Type.String({ minLength: 1 }), {
          description:
            'Arguments to the image’s entrypoint (the perfpilot command, see the Dockerfile): the risk-api subcommand and its flags.',
          default: ['risk-api'],
          minItems: 1,
        }),
        port: int('HTTP port of the API (PORT; seed: 8001).', RISK_API_DEFAULTS.port, 1024, 65535),
        healthPath: Type.String({
          description: 'Liveness and startup path: the process answers.',
          default: '/health',
          pattern: '^/',
        }),
        readinessPath: Type.String({
          description: 'Readiness path: PostgreSQL reachable (Redis down is degraded, still ready).',
          default: '/ready',
          pattern: '^/',
        }),
        metricsPath: Type.String({
          description: 'Prometheus metrics path.',
          default: '/metrics',
          pattern: '^/',
        }),
        pool: Type.Object(
          {
            size: int(
              'DB_POOL_SIZE: base connections per pod (seed: 20).',
              RISK_API_DEFAULTS.poolSize,
              POOL_LIMITS.size.min,
              POOL_LIMITS.size.max,
            ),
            maxOverflow: int(
              'DB_MAX_OVERFLOW: extra connections under load (seed: 30).',
              RISK_API_DEFAULTS.maxOverflow,
              POOL_LIMITS.maxOverflow.min,
              POOL_LIMITS.maxOverflow.max,
            ),
            timeoutSeconds: int(
              'DB_POOL_TIMEOUT: wait for a connection, seconds (seed: 30).',
              RISK_API_DEFAULTS.poolTimeoutSeconds,
              1,
              600,
            ),
            recycleSeconds: int(
              'DB_POOL_RECYCLE: recycle connections after, seconds (seed: 3600).',
              RISK_API_DEFAULTS.poolRecycleSeconds,
              60,
              86400,
            ),
            prePing: bool(
              'DB_POOL_PRE_PING: verify connections before use (seed: true).',
              RISK_API_DEFAULTS.poolPrePing,
            ),
          },
          { ...strict, description: 'The database connection pool (the seed’s DATABASE_CONFIG).' },
        ),
        cacheTtlDefaultSeconds: int(
          'CACHE_TTL_DEFAULT in seconds (seed: 300).',
          RISK_API_DEFAULTS.cacheTtlDefaultSeconds,
          1,
          604800,
        ),
        cacheStrategies: Type.Record(Type.String({ pattern: '^[a-z][a-z0-9_]*$' }), CacheStrategy, {
          description: 'Cache TTL and write strategy per data type (the seed’s CACHE_STRATEGIES).',
          default: Object.fromEntries(
            Object.entries(DEFAULT_CACHE_STRATEGIES).map(([type, s]) => [
              type,
              { ttlSeconds: s.ttl, strategy: s.strategy },
            ]),
          ),
        }),
        asyncWorkers: int(
          'ASYNC_WORKERS: risk calculations of one batch run at once (seed: 4).',
          RISK_API_DEFAULTS.asyncWorkers,
          1,
          64,
        ),
        profilerEnabled: bool(
          'PROFILER_ENABLED: process CPU, memory and event-loop metrics (seed: true).',
          RISK_API_DEFAULTS.profilerEnabled,
        ),
        monitoringEnabled: bool(
          'MONITORING_ENABLED: serve /metrics (seed: true).',
          RISK_API_DEFAULTS.monitoringEnabled,
        ),
        databaseUrlSecret: Type.Object(
          {
            name: name('Existing Secret with the database URL.', 'risk-api-db', DNS_SUBDOMAIN),
            key: Type.String({
              description: 'Key in the Secret.',
              default: 'url',
              pattern: '^[-._a-zA-Z0-9]+$',
            }),
          },
          { ...strict, description: 'Reference to an existing Secret with DATABASE_URL.' },
        ),
        // Measured by `npm run bench -- risk-api`: one process pinned to one core serves the
        // benchmark's load; its peak RSS was 331 MiB at about 10,000 requests per second.
        resources: resources({
          cpuRequestMillis: 500,
          cpuLimitMillis: 1000,
          memoryRequestMiB: 384,
          memoryLimitMiB: 512,
        }),
      },
      { ...strict, description: 'The Redis-cached risk API.' },
    ),
    hpa: Type.Object(
      {
        minReplicas: int('minReplicas; at least 2 so one disruption never takes the API down.', 2, 2, 1000),
        maxReplicas: int('maxReplicas.', 10, 2, 1000),
        cpuMetric: bool(
          'Scale on CPU utilization too (needs the resource metrics API, e.g. metrics-server).',
          true,
        ),
        cpuUtilizationPercent: int(
          'Target average CPU utilization; below the seed’s 80% CPU alert, so scaling starts before alerting.',
          70,
          10,
          100,
        ),
        requestRateMetric: oneOf(
          'How the HPA reads requests_per_second: Pods (a per-pod series, averaged) or External (the namespace total with an AverageValue target: desired = ceil(rate / target)).',
          requestRateMetricTypes,
          'Pods',
        ),
        requestsPerSecondPerPod: int(
          'Target requests_per_second per pod (the seed’s 1000 RPS per instance).',
          DEFAULT_SLO.requestsPerReplica,
          1,
          1000000,
        ),
        scaleUpStabilizationSeconds: int('behavior.scaleUp.stabilizationWindowSeconds.', 0, 0, 3600),
        scaleDownStabilizationSeconds: int('behavior.scaleDown.stabilizationWindowSeconds.', 300, 0, 3600),
      },
      { ...strict, description: 'The API’s HorizontalPodAutoscaler (autoscaling/v2).' },
    ),
    slo: Type.Object(
      {
        p95LatencyMs: int(
          'p95 response time objective, ms (seed: < 200).',
          DEFAULT_SLO.p95LatencyMs,
          1,
          60000,
        ),
        errorRatePercent: Type.Number({
          description: 'Error rate objective, percent (seed: < 0.1).',
          default: DEFAULT_SLO.errorRatePercent,
          minimum: 0.001,
          maximum: 50,
        }),
        cacheHitRatePercent: Type.Number({
          description: 'Cache hit rate objective, percent (seed: > 85).',
          default: DEFAULT_SLO.cacheHitRatePercent,
          minimum: 0,
          maximum: 100,
        }),
        poolUsagePercent: Type.Number({
          description: 'DB pool usage objective, percent (seed: < 80).',
          default: DEFAULT_SLO.poolUsagePercent,
          minimum: 1,
          maximum: 100,
        }),
        availabilityPercent: Type.Number({
          description:
            'Availability objective, percent (seed: > 99.9); sets the burn-rate alerts’ error budget.',
          default: 99.9,
          minimum: 90,
          maximum: 99.999,
        }),
      },
      { ...strict, description: 'Service level objectives (the seed’s performance targets).' },
    ),
    alerts: Type.Object(
      {
        cacheHitRatePercentBelow: int(
          'Alert when the cache hit rate is below this, percent (seed: 80).',
          80,
          0,
          100,
        ),
        cacheResponseMsAbove: int(
          'Alert when Redis command latency is above this, ms (seed: 10).',
          10,
          1,
          10000,
        ),
        poolUsagePercentAbove: int('Alert when DB pool usage is above this, percent (seed: 85).', 85, 1, 100),
        queryTimeMsAbove: int(
          'Alert when the average DB query time is above this, ms (seed: 100).',
          100,
          1,
          60000,
        ),
        responseTimeMsAbove: int(
          'Alert when API response time (p95) is above this, ms (seed: 1000).',
          1000,
          1,
          60000,
        ),
        errorRatePercentAbove: int('Alert when the error rate is above this, percent (seed: 5).', 5, 1, 100),
        cpuPercentAbove: int(
          'Alert when CPU use is above this share of the limit, percent (seed: 80).',
          80,
          1,
          100,
        ),
        memoryPercentAbove: int(
          'Alert when memory use is above this share of the limit, percent (seed: 85).',
          85,
          1,
          100,
        ),
        redisMemoryPercentAbove: int(
          'Alert when Redis used memory is above this share of maxmemory, percent.',
          90,
          1,
          100,
        ),
        forMinutes: int('How long a threshold must hold before its alert fires, minutes.', 5, 1, 120),
      },
      { ...strict, description: 'Alert thresholds (the seed’s performance_alerts).' },
    ),
    database: Type.Object(
      {
        maxConnections: int(
          'The database’s max_connections (PostgreSQL default 100).',
          DEFAULT_DATABASE.maxConnections,
          1,
          100000,
        ),
        reservedConnections: int(
          'Connections kept free for admins and jobs.',
          DEFAULT_DATABASE.reservedConnections,
          0,
          100000,
        ),
      },
      { ...strict, description: 'The database connection budget the operator enforces.' },
    ),
    operator: Type.Object(
      {
        image: image('Image of the operator: the project’s one image.', PERFPILOT_IMAGE),
        args: Type.Array(Type.String({ minLength: 1 }), {
          description:
            'Flags of the operator (those of `perfpilot operator --help`), given to the image’s operator bundle (`node dist/operator.js`, see the Dockerfile).',
          default: [],
        }),
        replicas: int('Operator replicas; one leads through a Lease, the others stand by.', 2, 1, 5),
        metricsPort: int('Port of /metrics, /healthz and /readyz (one HTTP server).', 8080, 1024, 65535),
        logLevel: oneOf('Log level.', ['debug', 'info', 'warn', 'error'], 'info'),
        resources: resources({
          cpuRequestMillis: 100,
          cpuLimitMillis: 500,
          memoryRequestMiB: 128,
          memoryLimitMiB: 256,
        }),
        profile: Type.Object(
          {
            enabled: bool('Create a PerformanceProfile for the stack.', true),
            mode: oneOf<Mode>('Mode of the default profile.', MODES, 'Recommend'),
            poolSizeMin: int('knobs.poolSize.min.', DEFAULT_KNOB_BOUNDS.poolSize.min, 1, 1000),
            poolSizeMax: int('knobs.poolSize.max.', DEFAULT_KNOB_BOUNDS.poolSize.max, 1, 1000),
            maxOverflowMin: int('knobs.maxOverflow.min.', DEFAULT_KNOB_BOUNDS.maxOverflow.min, 0, 1000),
            maxOverflowMax: int('knobs.maxOverflow.max.', DEFAULT_KNOB_BOUNDS.maxOverflow.max, 0, 1000),
            redisMaxmemoryMinMiB: int(
              'knobs.redisMaxmemory.minMiB.',
              DEFAULT_KNOB_BOUNDS.redisMaxmemory.minMiB,
              16,
              1048576,
            ),
            redisMaxmemoryMaxMiB: int(
              'knobs.redisMaxmemory.maxMiB.',
              DEFAULT_KNOB_BOUNDS.redisMaxmemory.maxMiB,
              16,
              1048576,
            ),
            replicaFloor: int('knobs.replicas.floor.', DEFAULT_KNOB_BOUNDS.replicas.floor, 2, 1000),
            replicaCeiling: int('knobs.replicas.ceiling.', DEFAULT_KNOB_BOUNDS.replicas.ceiling, 2, 1000),
            evaluationIntervalSeconds: int(
              'policy.evaluationIntervalSeconds.',
              DEFAULT_POLICY.evaluationIntervalSeconds,
              10,
              3600,
            ),
            cooldownSeconds: int('policy.cooldownSeconds.', DEFAULT_POLICY.cooldownSeconds, 0, 86400),
            verificationWindowSeconds: int(
              'policy.verificationWindowSeconds.',
              DEFAULT_POLICY.verificationWindowSeconds,
              10,
              86400,
            ),
          },
          { ...strict, description: 'The default PerformanceProfile for the stack.' },
        ),
      },
      { ...strict, description: 'The PerfPilot operator.' },
    ),
    monitoring: Type.Object(
      {
        enabled: bool('Create ServiceMonitors, the PrometheusRule and the Grafana dashboard.', true),
        prometheusUrl: Type.String({
          description: 'Prometheus HTTP API the operator reads.',
          default: 'http://prometheus-operated.monitoring.svc:9090',
          pattern: '^https?://[^\\s]+$',
        }),
        prometheusNamespace: name(
          'Namespace of Prometheus, allowed to scrape the metrics ports.',
          'monitoring',
        ),
        scrapeIntervalSeconds: int('Scrape interval (seed: real-time metrics every 10 s).', 10, 5, 300),
        ruleLabels: Type.Record(Type.String(), Type.String(), {
          description: 'Labels Prometheus selects ServiceMonitors and PrometheusRules by.',
          default: { release: 'prometheus' },
        }),
      },
      { ...strict, description: 'Prometheus Operator objects and the Grafana dashboard.' },
    ),
  },
  { additionalProperties: false, description: 'PerfPilot toolkit values.' },
);

/** Values is the complete, validated values model. */
export type Values = Static<typeof ValuesSchema>;
