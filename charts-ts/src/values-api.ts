/** The risk API's values: its image and endpoints, the seed's pool and cache settings, and its HPA. */
import Type from 'typebox';
import { DEFAULT_SLO } from '../../operator/src/api/v1alpha1/defaults.ts';
import {
  CACHE_STRATEGY_NAMES,
  type CacheStrategyName,
  DEFAULT_CACHE_STRATEGIES,
  POOL_LIMITS,
  RISK_API_DEFAULTS,
} from '../../risk-api/src/config.ts';
import { requestRateMetricTypes } from './request-rate-metric.ts';
import {
  bool,
  DNS_SUBDOMAIN,
  image,
  int,
  name,
  oneOf,
  PERFPILOT_IMAGE,
  resources,
  strict,
} from './values-fields.ts';

/** POSTGRES_PORT is PostgreSQL's own port, where DATABASE_URL points unless it names another. */
export const POSTGRES_PORT = 5432;
/** Cache strategies the seed names per data type (the risk API's own list). */
export const CACHE_STRATEGIES = CACHE_STRATEGY_NAMES;
export type { CacheStrategyName };

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

/** api: the Redis-cached risk API. */
export const ApiValues = Type.Object(
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
    databasePort: int(
      'TCP port of the database server DATABASE_URL names: the one port outside the stack the API’s NetworkPolicy lets it reach (PostgreSQL 5432; PgBouncer is often 6432).',
      POSTGRES_PORT,
      1,
      65535,
    ),
    // Measured by `npm run bench -- risk-api` (docs/benchmarks.md#risk-api, 6 December 2026): one
    // process pinned to one core serves the benchmark's load; its peak RSS was 339 MiB hot (about
    // 20,000 requests per second) and 387 MiB cold (about 2,000), within the 512 MiB limit.
    resources: resources({
      cpuRequestMillis: 500,
      cpuLimitMillis: 1000,
      memoryRequestMiB: 384,
      memoryLimitMiB: 512,
    }),
  },
  { ...strict, description: 'The Redis-cached risk API.' },
);

/** hpa: the API's HorizontalPodAutoscaler. */
export const HpaValues = Type.Object(
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
);
