/**
 * Where a profile's metrics come from: Prometheus (request, latency, error, cache and pool
 * signals, with optional credentials) and the Redis nodes read with INFO and tuned with CONFIG SET.
 */
import Type, { type Static } from 'typebox';
import {
  type CelRule,
  PROMETHEUS_ONE_CREDENTIAL,
  REDIS_ONE_DISCOVERY,
  REDIS_ONE_PERSISTENCE,
  REDIS_USERNAME_NEEDS_PASSWORD,
} from './cel-rules.ts';
import { REDIS_MAXMEMORY_CONFIG_KEY } from './constants.ts';
import { DEFAULT_PROMQL, SIGNAL_MEANING, SIGNALS, type Signal } from './default-promql.ts';
import { DEFAULT_PROMETHEUS_TIMEOUT_SECONDS, DEFAULT_STALENESS_SECONDS } from './defaults.ts';
import {
  DEFAULT_METRICS_PRESET,
  DEFAULT_POOL_PRESET,
  DEFAULT_REDIS_METRICS_SOURCE,
  METRICS_PRESETS,
  type MetricsPreset,
  POOL_PRESETS,
  type PoolPreset,
  REDIS_METRICS_SOURCES,
  type RedisMetricsSource,
} from './metric-presets.ts';
import { HOST_PORT, RedisPersist, RedisSentinel } from './redis-forms.ts';
import { DNS_SUBDOMAIN, StringEnum } from './schema-builders.ts';
import { SecretKeyRef, secretKeyRef } from './secret-key-ref.ts';

export { SecretKeyRef };

const queryOverride = (signal: Signal) =>
  Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 4096,
      description: `${signal} overrides the PromQL for ${SIGNAL_MEANING[signal]}. Default (preset PerfPilot): ${DEFAULT_PROMQL[signal]}`,
    }),
  );

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
    preset: Type.Optional(
      StringEnum<MetricsPreset>(METRICS_PRESETS, {
        default: DEFAULT_METRICS_PRESET,
        description:
          'preset picks the default queries of the HTTP, cache and DB query signals by the metric names the service exports: PerfPilot (http_request_duration_seconds, cache_hits_total, database_query_duration_seconds) or OpenTelemetry (the HTTP and database semantic conventions as Prometheus exports them: http_server_request_duration_seconds with http_response_status_code, db_client_operation_duration_seconds; the cache keeps cache_hits_total and cache_misses_total). queries still override any one signal.',
      }),
    ),
    poolPreset: Type.Optional(
      StringEnum<PoolPreset>(POOL_PRESETS, {
        default: DEFAULT_POOL_PRESET,
        description:
          'poolPreset picks the default queries of the connection pool signals: PerfPilot (database_connections_active, database_pool_wait_seconds), HikariCP (Micrometer’s hikaricp_connections_*) or GoDatabaseSQL (client_golang’s DBStatsCollector, go_sql_*). queries still override any one signal.',
      }),
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
    'x-kubernetes-validations': [PROMETHEUS_ONE_CREDENTIAL],
  },
);
export type PrometheusSource = Static<typeof PrometheusSource>;

/** RedisSource says which Redis nodes are read (INFO) and tuned (CONFIG SET maxmemory). */
export const RedisSource = Type.Object(
  {
    endpoints: Type.Optional(
      Type.Array(
        Type.String({
          minLength: 3,
          maxLength: 261,
          pattern: HOST_PORT,
          description: 'host:port of a Redis node.',
        }),
        {
          minItems: 1,
          maxItems: 64,
          description:
            'endpoints are host:port seeds of the Redis Cluster, or every node of a standalone deployment; the operator discovers every cluster node from them. Exclusive with sentinel, and one of the two is required.',
        },
      ),
    ),
    sentinel: Type.Optional(RedisSentinel),
    username: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 253,
        pattern: '^[^\\s]+$',
        description:
          'username is the ACL user the operator authenticates as (AUTH username password), with the password from passwordSecretRef; without it the password is the default user’s (requirepass). The least ACL: +info +role +config|get +config|set, plus +cluster|nodes for a Redis Cluster and +config|rewrite for persist.configRewrite.',
      }),
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
    source: Type.Optional(
      StringEnum<RedisMetricsSource>(REDIS_METRICS_SOURCES, {
        default: DEFAULT_REDIS_METRICS_SOURCE,
        description:
          'source of the Redis memory, hit, miss, eviction and expiry signals: Direct reads INFO on every node; Exporter reads redis_exporter’s series from spec.metrics.prometheus (redis_memory_used_bytes, redis_keyspace_hits_total, …, matched by namespace), for clusters where the operator may not read Redis. The maxmemory actuator still connects to the endpoints.',
      }),
    ),
    configMapName: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 253,
        pattern: DNS_SUBDOMAIN,
        description: `configMapName is the Redis ConfigMap whose "${REDIS_MAXMEMORY_CONFIG_KEY}" key persists maxmemory across restarts; the same as persist.configMap with that name and format Value. Exclusive with persist; without either a change made with CONFIG SET lasts until a node restarts.`,
      }),
    ),
    persist: Type.Optional(RedisPersist),
  },
  {
    description: 'redis is the source of memory, eviction and keyspace metrics, and the maxmemory actuator.',
    'x-kubernetes-validations': [REDIS_ONE_DISCOVERY, REDIS_USERNAME_NEEDS_PASSWORD, REDIS_ONE_PERSISTENCE],
  },
);
export type RedisSource = Static<typeof RedisSource>;

/** Redis signals read through redis_exporter come from the profile's Prometheus, which must be set. */
const REDIS_EXPORTER_NEEDS_PROMETHEUS: CelRule = {
  rule: "!has(self.redis) || !has(self.redis.source) || self.redis.source != 'Exporter' || has(self.prometheus)",
  message: 'metrics.redis.source Exporter reads redis_exporter’s series from metrics.prometheus: set it',
  fieldPath: '.prometheus',
  reason: 'FieldValueRequired',
};

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
    'x-kubernetes-validations': [REDIS_EXPORTER_NEEDS_PROMETHEUS],
  },
);
export type MetricsSpec = Static<typeof MetricsSpec>;
