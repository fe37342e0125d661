/**
 * The PerformanceProfile API, defined once: each TypeBox schema below is both the TypeScript type
 * (`Static<>`) the controller works with and the OpenAPI v3 schema the CRD carries (see crd.ts).
 *
 * Typing convention: a field with a `default` is required in the TypeScript type, because the API
 * server fills it in before the controller ever sees the object; the CRD generator drops it from
 * `required`, so users may omit it. Fields without a default and not required are `Optional`.
 */
import Type, { type Static, type TSchema } from 'typebox';
import {
  type API_VERSION,
  CONDITION_TYPES,
  DEFAULT_MODE,
  DecisionOutcome,
  type KIND,
  KNOBS,
  type Knob,
  type LIST_KIND,
  MAX_HISTORY,
  MODES,
  type Mode,
  PAUSED_ANNOTATION,
  REDIS_MAXMEMORY_CONFIG_KEY,
  SloState,
} from './constants.ts';
import { MAXMEMORY_CEILING_CEL_RULE, MAXMEMORY_SHARE_PERCENT } from './redis-maxmemory-ceiling.ts';

/** A CEL rule in `x-kubernetes-validations`. */
export interface CelRule {
  readonly rule: string;
  readonly message?: string;
  readonly messageExpression?: string;
  /** fieldPath, relative to the schema carrying the rule, is the field the API server names. */
  readonly fieldPath?: string;
  readonly reason?:
    | 'FieldValueInvalid'
    | 'FieldValueForbidden'
    | 'FieldValueRequired'
    | 'FieldValueDuplicate';
}

/** Kubernetes-style string enum: `{type: string, enum: [...]}` (structural schemas have no `const`). */
function StringEnum<T extends string>(values: readonly T[], options: Record<string, unknown>) {
  return Type.Unsafe<T>({ type: 'string', enum: [...values], ...options });
}

/** A CEL rule checking `self.<lo> <= self.<hi>` and naming both values when it fails. */
function orderedPair(owner: string, lo: string, hi: string): CelRule {
  return {
    rule: `self.${lo} <= self.${hi}`,
    message: `${owner}.${lo} must be less than or equal to ${owner}.${hi}`,
    fieldPath: `.${lo}`,
    reason: 'FieldValueInvalid',
  };
}

const DNS_SUBDOMAIN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';

/** Seed defaults of the SLOs (the guide's performance targets). */
export const DEFAULT_SLO = {
  p95LatencyMs: 200,
  errorRatePercent: 0.1,
  cacheHitRatePercent: 85,
  poolUsagePercent: 80,
  requestsPerReplica: 1000,
} as const;

/**
 * Default knob bounds. Pool 5..50 is the range of the seed's own `DynamicConnectionPool`
 * (`max(base // 2, 5)` .. `max_pool_size = 50`); overflow 0..30 tops out at the seed's
 * `DB_MAX_OVERFLOW=30`; maxmemory 128..768 MiB brackets the seed's `maxmemory 512mb` under a 1 GiB
 * container (768, the maxmemory ceiling of 1024: see redis-maxmemory-ceiling.ts); replicas 2..10 are the seed HPA's bounds.
 */
export const DEFAULT_KNOB_BOUNDS = {
  poolSize: { min: 5, max: 50 },
  maxOverflow: { min: 0, max: 30 },
  redisMaxmemory: { minMiB: 128, maxMiB: 768, containerMemoryLimitMiB: 1024 },
  replicas: { floor: 2, ceiling: 10 },
} as const;

/**
 * Default database budget: PostgreSQL's default `max_connections` of 100, of which 10 are kept
 * free: PostgreSQL itself reserves 3 for superusers (`superuser_reserved_connections`), and
 * migrations, backups, an exporter and an administrator's psql need the rest.
 */
export const DEFAULT_DATABASE = { maxConnections: 100, reservedConnections: 10 } as const;

/**
 * Default control-loop timing and safety settings, the ones the tuning engine is tested and
 * benchmarked with (operator/src/sim/README.md): a pool change rolls every pod, so one change per
 * knob per 10 minutes (cooldown), each verified for as long; a reversal waits 30 minutes, six
 * times the HPA's own 5-minute scale-down stabilization, so the operator never fights the HPA;
 * one step moves a knob by at most half its value (the seed's rule doubles and halves the pool in
 * one step); changes under 10 % are not worth a rollout.
 */
export const DEFAULT_POLICY = {
  evaluationIntervalSeconds: 60,
  cooldownSeconds: 600,
  maxStepPercent: 50,
  stabilizationWindowSeconds: 1800,
  verificationWindowSeconds: 600,
  deadbandPercent: 10,
} as const;

/** Default staleness limit of metric samples, in seconds: two evaluations at the default interval. */
export const DEFAULT_STALENESS_SECONDS = 120;

/** Default timeout of one request to Prometheus, in seconds: well inside one evaluation interval. */
export const DEFAULT_PROMETHEUS_TIMEOUT_SECONDS = 5;

/** Label matchers of the API's own series: the target's namespace and its scrape job. */
const API_SERIES = 'namespace="$namespace",job="$deployment"';

/**
 * Default PromQL per signal, on the seed guide's metric names (and, for Redis history and CPU,
 * redis_exporter's, cAdvisor's and kube-state-metrics' standard names). Before a query runs,
 * `$namespace` and `$deployment` are replaced with the target's namespace and Deployment name (the
 * scrape job of the API's Service, which has the Deployment's name), and `$poolCapacity` with the
 * current DB_POOL_SIZE + DB_MAX_OVERFLOW; `spec.metrics.prometheus.queries` overrides any of them.
 * Each query must return one series: an empty result, several series, NaN, ±Inf or a negative
 * value makes the signal unknown, never zero.
 */
export const DEFAULT_PROMQL = {
  requestsPerSecond: `sum(rate(http_request_duration_seconds_count{${API_SERIES}}[2m]))`,
  p95LatencyMs: `1000 * histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{${API_SERIES}}[5m])))`,
  // A 5xx series exists only once a request has failed: no such series is zero errors, as long as
  // the request rate it is divided by exists (no requests measured is still unknown, not zero).
  errorRatePercent: `100 * (sum(rate(http_request_duration_seconds_count{${API_SERIES},status_code=~"5.."}[5m])) or vector(0)) / sum(rate(http_request_duration_seconds_count{${API_SERIES}}[5m]))`,
  cacheHitRatePercent: `100 * sum(rate(cache_hits_total{${API_SERIES}}[5m])) / (sum(rate(cache_hits_total{${API_SERIES}}[5m])) + sum(rate(cache_misses_total{${API_SERIES}}[5m])))`,
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
const SIGNAL_MEANING: Record<keyof typeof DEFAULT_PROMQL, string> = {
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

const queryOverride = (signal: Signal) =>
  Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 4096,
      description: `${signal} overrides the PromQL for ${SIGNAL_MEANING[signal]}. Default: ${DEFAULT_PROMQL[signal]}`,
    }),
  );

/** SIGNALS lists every signal with an overridable query. */
export const SIGNALS = Object.keys(DEFAULT_PROMQL) as Signal[];

/** TargetRef names the API Deployment; its HPA and tuning ConfigMap are found by name. */
export const TargetRef = Type.Object(
  {
    apiVersion: StringEnum(['apps/v1'], {
      default: 'apps/v1',
      description: 'apiVersion of the target. Only apps/v1 is supported.',
    }),
    kind: StringEnum(['Deployment'], {
      default: 'Deployment',
      description: 'kind of the target. Only Deployment is supported.',
    }),
    name: Type.String({
      minLength: 1,
      maxLength: 253,
      pattern: DNS_SUBDOMAIN,
      description: 'name of the API Deployment in the profile’s namespace.',
    }),
    hpaName: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 253,
        pattern: DNS_SUBDOMAIN,
        description:
          'hpaName is the HorizontalPodAutoscaler (autoscaling/v2) whose minReplicas and maxReplicas are tuned. Defaults to the Deployment’s name.',
      }),
    ),
    configMapName: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 253,
        pattern: DNS_SUBDOMAIN,
        description:
          'configMapName is the tuning ConfigMap holding DB_POOL_SIZE and DB_MAX_OVERFLOW. Defaults to "<name>-tuning".',
      }),
    ),
  },
  { description: 'targetRef names the API Deployment whose knobs this profile tunes.' },
);
export type TargetRef = Static<typeof TargetRef>;

/** Slo holds the service level objectives the operator steers towards. */
export const Slo = Type.Object(
  {
    p95LatencyMs: Type.Integer({
      minimum: 1,
      maximum: 60000,
      default: DEFAULT_SLO.p95LatencyMs,
      description: 'p95LatencyMs is the 95th percentile response time objective in milliseconds.',
    }),
    errorRatePercent: Type.Number({
      minimum: 0,
      maximum: 100,
      default: DEFAULT_SLO.errorRatePercent,
      description: 'errorRatePercent is the highest acceptable share of 5xx responses, in percent.',
    }),
    cacheHitRatePercent: Type.Number({
      minimum: 0,
      maximum: 100,
      default: DEFAULT_SLO.cacheHitRatePercent,
      description: 'cacheHitRatePercent is the lowest acceptable cache hit rate, in percent.',
    }),
    poolUsagePercent: Type.Number({
      minimum: 1,
      maximum: 100,
      default: DEFAULT_SLO.poolUsagePercent,
      description:
        'poolUsagePercent is the highest acceptable DB connection pool usage (active / (pool size + overflow)), in percent.',
    }),
    requestsPerReplica: Type.Integer({
      minimum: 1,
      maximum: 1000000,
      default: DEFAULT_SLO.requestsPerReplica,
      description:
        'requestsPerReplica is the request rate one API replica is expected to sustain, per second.',
    }),
  },
  {
    default: {},
    description: 'slo holds the service level objectives. Defaults are the seed guide’s targets.',
  },
);
export type Slo = Static<typeof Slo>;

/** A reference to one key of a Secret in the profile's namespace, its key defaulting to `defaultKey`. */
function secretKeyRef(defaultKey: string, description: string) {
  return Type.Object(
    {
      name: Type.String({
        minLength: 1,
        maxLength: 253,
        pattern: DNS_SUBDOMAIN,
        description: 'name of the Secret in the profile’s namespace.',
      }),
      key: Type.String({
        minLength: 1,
        maxLength: 253,
        pattern: '^[-._a-zA-Z0-9]+$',
        default: defaultKey,
        description: 'key of the Secret holding the value.',
      }),
    },
    { description },
  );
}

/** SecretKeyRef names one key of a Secret in the profile's namespace (a password by default). */
export const SecretKeyRef = secretKeyRef('password', 'A key of a Secret in the profile’s namespace.');
export type SecretKeyRef = Static<typeof SecretKeyRef>;

/** PrometheusSource says where and how request, cache and pool metrics are read. */
export const PrometheusSource = Type.Object(
  {
    url: Type.String({
      minLength: 1,
      maxLength: 2048,
      pattern: '^https?://[^\\s]+$',
      description: 'url of the Prometheus HTTP API, e.g. http://prometheus-operated.monitoring.svc:9090.',
    }),
    stalenessSeconds: Type.Integer({
      minimum: 10,
      maximum: 3600,
      default: DEFAULT_STALENESS_SECONDS,
      description:
        'stalenessSeconds is the age beyond which a sample counts as stale; on stale metrics the operator changes nothing.',
    }),
    timeoutSeconds: Type.Integer({
      minimum: 1,
      maximum: 60,
      default: DEFAULT_PROMETHEUS_TIMEOUT_SECONDS,
      description:
        'timeoutSeconds bounds every request to Prometheus; a query that takes longer makes its signal unknown.',
    }),
    bearerTokenSecretRef: Type.Optional(
      secretKeyRef(
        'token',
        'bearerTokenSecretRef names the Secret key holding a bearer token sent as `Authorization: Bearer`.',
      ),
    ),
    basicAuth: Type.Optional(
      Type.Object(
        {
          username: Type.String({ minLength: 1, maxLength: 253, description: 'username for basic auth.' }),
          passwordSecretRef: secretKeyRef(
            'password',
            'passwordSecretRef names the Secret key holding the password.',
          ),
        },
        {
          description: 'basicAuth sends a username and a password from a Secret (HTTP basic authentication).',
        },
      ),
    ),
    caBundleSecretRef: Type.Optional(
      secretKeyRef(
        'ca.crt',
        'caBundleSecretRef names the Secret key holding the PEM CA bundle that verifies an https url; without it the system CAs do.',
      ),
    ),
    queries: Type.Optional(
      Type.Object(Object.fromEntries(SIGNALS.map((signal) => [signal, queryOverride(signal)])), {
        description:
          'queries override the PromQL per signal; $namespace, $deployment and $poolCapacity (pool size + overflow) are replaced before a query runs. A default query’s samples must also be younger than stalenessSeconds; an overridden one is trusted to Prometheus’s own staleness handling.',
      }),
    ),
  },
  {
    description: 'prometheus is the source of request, latency, error, cache and pool metrics.',
    'x-kubernetes-validations': [
      {
        rule: '!(has(self.bearerTokenSecretRef) && has(self.basicAuth))',
        message: 'prometheus.bearerTokenSecretRef and prometheus.basicAuth are exclusive: choose one',
        fieldPath: '.basicAuth',
        reason: 'FieldValueForbidden',
      },
    ],
  },
);
export type PrometheusSource = Static<typeof PrometheusSource>;

/** RedisSource says which Redis nodes are read (INFO) and tuned (CONFIG SET maxmemory). */
export const RedisSource = Type.Object(
  {
    endpoints: Type.Array(
      Type.String({
        minLength: 3,
        maxLength: 261,
        pattern: '^[a-zA-Z0-9]([-.a-zA-Z0-9]*[a-zA-Z0-9])?:[0-9]{1,5}$',
        description: 'host:port of a Redis node.',
      }),
      {
        minItems: 1,
        maxItems: 64,
        description:
          'endpoints are host:port seeds of the Redis Cluster; the operator discovers every node from them.',
      },
    ),
    passwordSecretRef: Type.Optional(SecretKeyRef),
    tls: Type.Optional(
      Type.Object(
        {
          caBundleSecretRef: Type.Optional(
            secretKeyRef(
              'ca.crt',
              'caBundleSecretRef names the Secret key holding the PEM CA bundle that verifies the nodes; without it the system CAs do.',
            ),
          ),
        },
        { description: 'tls, when present, connects to every Redis node over TLS.' },
      ),
    ),
    configMapName: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 253,
        pattern: DNS_SUBDOMAIN,
        description: `configMapName is the Redis ConfigMap whose "${REDIS_MAXMEMORY_CONFIG_KEY}" key persists maxmemory across restarts; without it a change made with CONFIG SET lasts until a node restarts.`,
      }),
    ),
  },
  {
    description: 'redis is the source of memory, eviction and keyspace metrics, and the maxmemory actuator.',
  },
);
export type RedisSource = Static<typeof RedisSource>;

/** MetricsSpec configures where metrics come from. */
export const MetricsSpec = Type.Object(
  {
    prometheus: Type.Optional(PrometheusSource),
    redis: Type.Optional(RedisSource),
  },
  {
    default: {},
    description:
      'metrics configures the metric sources. Without any source the operator reports MetricsAvailable=Unknown and changes nothing.',
  },
);
export type MetricsSpec = Static<typeof MetricsSpec>;

const intBound = (description: string, def: number, minimum: number, maximum: number) =>
  Type.Integer({ minimum, maximum, default: def, description });

/** IntRange is an inclusive integer range `[min, max]` for a knob. */
function intRange(owner: string, what: string, def: { min: number; max: number }, lo: number, hi: number) {
  return Type.Object(
    {
      min: intBound(`min is the smallest ${what} the operator may set.`, def.min, lo, hi),
      max: intBound(`max is the largest ${what} the operator may set.`, def.max, lo, hi),
    },
    {
      default: {},
      description: `${owner} bounds the ${what}.`,
      'x-kubernetes-validations': [orderedPair(owner, 'min', 'max')],
    },
  );
}

/** KnobBounds: the ranges within which each knob may be moved. */
export const KnobBounds = Type.Object(
  {
    poolSize: intRange(
      'poolSize',
      'DB connection pool size per replica (DB_POOL_SIZE)',
      DEFAULT_KNOB_BOUNDS.poolSize,
      1,
      1000,
    ),
    maxOverflow: intRange(
      'maxOverflow',
      'DB pool overflow per replica (DB_MAX_OVERFLOW)',
      DEFAULT_KNOB_BOUNDS.maxOverflow,
      0,
      1000,
    ),
    redisMaxmemory: Type.Object(
      {
        minMiB: intBound(
          'minMiB is the smallest Redis maxmemory the operator may set, in MiB.',
          DEFAULT_KNOB_BOUNDS.redisMaxmemory.minMiB,
          16,
          1048576,
        ),
        maxMiB: intBound(
          `maxMiB is the largest Redis maxmemory the operator may set, in MiB; at most ${MAXMEMORY_SHARE_PERCENT}% of containerMemoryLimitMiB.`,
          DEFAULT_KNOB_BOUNDS.redisMaxmemory.maxMiB,
          16,
          1048576,
        ),
        containerMemoryLimitMiB: intBound(
          `containerMemoryLimitMiB is the memory limit of the Redis container, in MiB; maxmemory stays at or below ${MAXMEMORY_SHARE_PERCENT}% of it to leave room for fragmentation, replication buffers and forks.`,
          DEFAULT_KNOB_BOUNDS.redisMaxmemory.containerMemoryLimitMiB,
          32,
          2097152,
        ),
      },
      {
        default: {},
        description: 'redisMaxmemory bounds the Redis maxmemory setting of every node.',
        'x-kubernetes-validations': [
          orderedPair('redisMaxmemory', 'minMiB', 'maxMiB'),
          {
            rule: MAXMEMORY_CEILING_CEL_RULE,
            message: `redisMaxmemory.maxMiB must be at most ${MAXMEMORY_SHARE_PERCENT}% of redisMaxmemory.containerMemoryLimitMiB, to leave room for fragmentation, replication buffers and forks`,
            fieldPath: '.maxMiB',
            reason: 'FieldValueInvalid',
          },
        ],
      },
    ),
    replicas: Type.Object(
      {
        floor: intBound(
          'floor is the lowest HPA minReplicas the operator may set; at least 2 so a disruption never takes the API down.',
          DEFAULT_KNOB_BOUNDS.replicas.floor,
          2,
          1000,
        ),
        ceiling: intBound(
          'ceiling is the highest HPA maxReplicas the operator may set.',
          DEFAULT_KNOB_BOUNDS.replicas.ceiling,
          2,
          1000,
        ),
      },
      {
        default: {},
        description: 'replicas bounds the HPA’s minReplicas and maxReplicas.',
        'x-kubernetes-validations': [orderedPair('replicas', 'floor', 'ceiling')],
      },
    ),
  },
  { default: {}, description: 'knobs bounds every knob the operator tunes.' },
);
export type KnobBounds = Static<typeof KnobBounds>;

/** DatabaseBudget is the connection budget the pool knobs must fit in. */
export const DatabaseBudget = Type.Object(
  {
    maxConnections: intBound(
      'maxConnections is the database’s max_connections.',
      DEFAULT_DATABASE.maxConnections,
      1,
      100000,
    ),
    reservedConnections: intBound(
      'reservedConnections are kept free for administrators, migrations and other clients; the API may use maxConnections - reservedConnections.',
      DEFAULT_DATABASE.reservedConnections,
      0,
      100000,
    ),
  },
  {
    default: {},
    description:
      'database is the connection budget: maxReplicas x (poolSize + maxOverflow) <= maxConnections - reservedConnections.',
    'x-kubernetes-validations': [
      {
        rule: 'self.reservedConnections < self.maxConnections',
        message: 'database.reservedConnections must be less than database.maxConnections',
        fieldPath: '.reservedConnections',
        reason: 'FieldValueInvalid',
      },
    ],
  },
);
export type DatabaseBudget = Static<typeof DatabaseBudget>;

/** Policy holds the control loop's timing and safety settings. */
export const Policy = Type.Object(
  {
    evaluationIntervalSeconds: intBound(
      'evaluationIntervalSeconds is how often the profile is evaluated.',
      DEFAULT_POLICY.evaluationIntervalSeconds,
      10,
      3600,
    ),
    cooldownSeconds: intBound(
      'cooldownSeconds is the least time between two changes of the same knob.',
      DEFAULT_POLICY.cooldownSeconds,
      0,
      86400,
    ),
    maxStepPercent: intBound(
      'maxStepPercent caps one change of a knob, in percent of its current value (at least one unit).',
      DEFAULT_POLICY.maxStepPercent,
      1,
      100,
    ),
    stabilizationWindowSeconds: intBound(
      'stabilizationWindowSeconds is how long a knob must wait before changing direction.',
      DEFAULT_POLICY.stabilizationWindowSeconds,
      0,
      86400,
    ),
    verificationWindowSeconds: intBound(
      'verificationWindowSeconds is how long after a change the SLOs are watched; a worse SLO in that window rolls the change back.',
      DEFAULT_POLICY.verificationWindowSeconds,
      10,
      86400,
    ),
    deadbandPercent: intBound(
      'deadbandPercent: proposals changing a knob by less than this share of its value are ignored, to avoid flapping.',
      DEFAULT_POLICY.deadbandPercent,
      0,
      50,
    ),
  },
  {
    default: {},
    description: 'policy holds the control loop’s timing and safety settings.',
    'x-kubernetes-validations': [
      {
        rule: 'self.evaluationIntervalSeconds <= self.verificationWindowSeconds',
        message:
          'policy.evaluationIntervalSeconds must be less than or equal to policy.verificationWindowSeconds, so a change is evaluated at least once before it is judged',
        fieldPath: '.evaluationIntervalSeconds',
        reason: 'FieldValueInvalid',
      },
      {
        rule: 'self.verificationWindowSeconds <= self.cooldownSeconds || self.cooldownSeconds == 0',
        message:
          'policy.verificationWindowSeconds must be less than or equal to policy.cooldownSeconds (unless the cooldown is 0), so a change is verified before the next one',
        fieldPath: '.verificationWindowSeconds',
        reason: 'FieldValueInvalid',
      },
    ],
  },
);
export type Policy = Static<typeof Policy>;

/** PerformanceProfileSpec is the desired state: target, SLOs, metric sources, bounds and policy. */
export const PerformanceProfileSpec = Type.Object(
  {
    targetRef: TargetRef,
    mode: StringEnum<Mode>(MODES, {
      default: DEFAULT_MODE,
      description:
        'mode says what the operator does with a recommendation: Observe (measure and report only), Recommend (write recommendations to status and Events) or Auto (apply those that pass the safety gate).',
    }),
    slo: Slo,
    metrics: MetricsSpec,
    knobs: KnobBounds,
    database: DatabaseBudget,
    policy: Policy,
  },
  {
    description: 'spec is the desired state of a PerformanceProfile.',
    'x-kubernetes-validations': [
      {
        rule: 'self.knobs.replicas.floor * (self.knobs.poolSize.min + self.knobs.maxOverflow.min) <= self.database.maxConnections - self.database.reservedConnections',
        message:
          'knobs allow no configuration within the connection budget: knobs.replicas.floor x (knobs.poolSize.min + knobs.maxOverflow.min) must be at most database.maxConnections - database.reservedConnections',
        fieldPath: '.knobs',
        reason: 'FieldValueInvalid',
      },
    ],
  },
);
export type PerformanceProfileSpec = Static<typeof PerformanceProfileSpec>;

const time = (description: string) => Type.String({ format: 'date-time', description });

/** Condition is a standard Kubernetes condition (metav1.Condition). */
export const Condition = Type.Object(
  {
    type: Type.String({
      minLength: 1,
      maxLength: 316,
      pattern:
        '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$',
      description: `type of the condition: ${CONDITION_TYPES.join(', ')}.`,
    }),
    status: StringEnum(['True', 'False', 'Unknown'] as const, {
      description: 'status of the condition: True, False or Unknown.',
    }),
    observedGeneration: Type.Optional(
      Type.Integer({
        minimum: 0,
        format: 'int64',
        description: 'observedGeneration is the metadata.generation the condition was set for.',
      }),
    ),
    lastTransitionTime: time('lastTransitionTime is when the status last changed.'),
    reason: Type.String({
      minLength: 1,
      maxLength: 1024,
      pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$',
      description: 'reason is a CamelCase, machine-readable cause of the last transition.',
    }),
    message: Type.String({ maxLength: 32768, description: 'message explains the transition for humans.' }),
  },
  { description: 'A standard Kubernetes condition.' },
);
export type Condition = Static<typeof Condition>;

const knobValue = (description: string) => Type.Optional(Type.Integer({ minimum: 0, description }));

/** KnobValues holds one value per knob; a missing field means unknown. */
export const KnobValues = Type.Object(
  {
    poolSize: knobValue('poolSize is DB_POOL_SIZE.'),
    maxOverflow: knobValue('maxOverflow is DB_MAX_OVERFLOW.'),
    redisMaxmemoryMiB: knobValue('redisMaxmemoryMiB is the Redis maxmemory in MiB.'),
    minReplicas: knobValue('minReplicas is the HPA’s minReplicas.'),
    maxReplicas: knobValue('maxReplicas is the HPA’s maxReplicas.'),
  },
  { description: 'Values of the tuned knobs; a missing field is unknown.' },
);
export type KnobValues = Static<typeof KnobValues>;

const measured = (description: string) => Type.Optional(Type.Number({ description }));

/** MetricSnapshotStatus is the last metric snapshot, as reported in status. */
export const MetricSnapshotStatus = Type.Object(
  {
    time: time('time the snapshot was taken.'),
    stale: Type.Boolean({ description: 'stale is true when a sample was older than the staleness limit.' }),
    requestsPerSecond: measured('requestsPerSecond is the API’s total request rate.'),
    p95LatencyMs: measured('p95LatencyMs is the 95th percentile latency in milliseconds.'),
    errorRatePercent: measured('errorRatePercent is the share of 5xx responses in percent.'),
    cacheHitRatePercent: measured('cacheHitRatePercent is the cache hit rate in percent.'),
    poolUsagePercent: measured('poolUsagePercent is the DB pool usage in percent.'),
    poolWaitSecondsP95: measured('poolWaitSecondsP95 is the 95th percentile wait for a DB connection.'),
    readyReplicas: measured('readyReplicas is the number of ready API pods.'),
    redisUsedMemoryMiB: measured('redisUsedMemoryMiB is the largest used_memory across Redis nodes, in MiB.'),
    redisEvictedKeysPerSecond: measured('redisEvictedKeysPerSecond is the eviction rate across Redis nodes.'),
  },
  { description: 'lastSnapshot is the last metric snapshot; a missing field was not measured.' },
);
export type MetricSnapshotStatus = Static<typeof MetricSnapshotStatus>;

/** Decision is one entry of the decision history. */
export const Decision = Type.Object(
  {
    time: time('time of the decision.'),
    knob: StringEnum<Knob>(KNOBS, { description: `knob decided on: ${KNOBS.join(', ')}.` }),
    from: Type.Integer({ minimum: 0, description: 'from is the value before.' }),
    to: Type.Integer({ minimum: 0, description: 'to is the proposed or applied value.' }),
    outcome: StringEnum(Object.values(DecisionOutcome), {
      description: `outcome: ${Object.values(DecisionOutcome).join(', ')}.`,
    }),
    reason: Type.String({ maxLength: 1024, description: 'reason explains the decision for humans.' }),
    sloMetBefore: Type.Optional(
      Type.Boolean({
        description:
          'sloMetBefore tells whether the p95 and error-rate SLOs held in the snapshot the change was based on; a worse SLO after it, within the verification window, rolls it back.',
      }),
    ),
    snapshot: Type.Optional(
      Type.Object(MetricSnapshotStatus.properties, {
        description: 'snapshot is the metric snapshot the decision was based on.',
      }),
    ),
  },
  { description: 'A decision on one knob, with its reason and the snapshot it was based on.' },
);
export type Decision = Static<typeof Decision>;

/** PerformanceProfileStatus is the observed state, written by the operator only. */
export const PerformanceProfileStatus = Type.Object(
  {
    observedGeneration: Type.Optional(
      Type.Integer({
        minimum: 0,
        format: 'int64',
        description: 'observedGeneration is the metadata.generation last reconciled.',
      }),
    ),
    conditions: Type.Optional(
      Type.Array(Condition, {
        maxItems: 16,
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['type'],
        description: `conditions: ${CONDITION_TYPES.join(', ')}.`,
      }),
    ),
    sloState: Type.Optional(
      StringEnum(Object.values(SloState), {
        description: 'sloState summarizes SLOMet: Met, Violated or Unknown.',
      }),
    ),
    knobsSummary: Type.Optional(
      Type.String({
        maxLength: 256,
        description: 'knobsSummary shows the current knob values in one line, for kubectl get.',
      }),
    ),
    lastDecision: Type.Optional(
      Type.String({
        maxLength: 256,
        description: 'lastDecision summarizes the newest history entry in one line, for kubectl get.',
      }),
    ),
    current: Type.Optional(
      Type.Object(KnobValues.properties, {
        description:
          'current holds the knob values as last read from the target; a missing field is unknown.',
      }),
    ),
    recommended: Type.Optional(
      Type.Object(KnobValues.properties, {
        description:
          'recommended holds the values the tuning engine proposes, after the safety gate; equal to current when nothing should change.',
      }),
    ),
    lastSnapshot: Type.Optional(MetricSnapshotStatus),
    history: Type.Optional(
      Type.Array(Decision, {
        maxItems: MAX_HISTORY,
        description: `history holds the newest ${MAX_HISTORY} decisions, oldest first.`,
      }),
    ),
  },
  { description: 'status is the observed state of a PerformanceProfile, written by the operator.' },
);
export type PerformanceProfileStatus = Static<typeof PerformanceProfileStatus>;

/** ObjectMeta: the parts of metadata this API relies on (the API server owns the rest). */
export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  deletionTimestamp?: string;
  creationTimestamp?: string;
}

/** PerformanceProfile as read from the API server (after defaulting). */
export interface PerformanceProfile {
  apiVersion: typeof API_VERSION;
  kind: typeof KIND;
  metadata: ObjectMeta;
  spec: PerformanceProfileSpec;
  status?: PerformanceProfileStatus;
}

/** PerformanceProfileList is what a list or a watch's initial list returns. */
export interface PerformanceProfileList {
  apiVersion: typeof API_VERSION;
  kind: typeof LIST_KIND;
  metadata: { resourceVersion?: string; continue?: string };
  items: PerformanceProfile[];
}

/** isPaused: the profile carries `perfpilot.dev/paused: "true"`; nothing may change while it does. */
export function isPaused(metadata: Pick<ObjectMeta, 'annotations'>): boolean {
  return metadata.annotations?.[PAUSED_ANNOTATION] === 'true';
}

/** The schemas by name, for generators and validators. */
export const schemas: Record<string, TSchema> = {
  PerformanceProfileSpec,
  PerformanceProfileStatus,
};

/** hpaNameOf is the HPA a profile tunes: spec.targetRef.hpaName, else the Deployment's name. */
export function hpaNameOf(targetRef: TargetRef): string {
  return targetRef.hpaName ?? targetRef.name;
}

/** configMapNameOf is the tuning ConfigMap: spec.targetRef.configMapName, else `<name>-tuning`. */
export function configMapNameOf(targetRef: TargetRef): string {
  return targetRef.configMapName ?? `${targetRef.name}-tuning`;
}
