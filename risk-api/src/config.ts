/**
 * The risk API's settings: the seed guide's environment variables (DB_POOL_SIZE, DB_MAX_OVERFLOW,
 * CACHE_TTL_DEFAULT, ASYNC_WORKERS, MONITORING_ENABLED, REDIS_HOST, …) plus DATABASE_URL,
 * REDIS_PASSWORD and PORT. Every default is the seed's number and lives here once; the toolkit's
 * values import them, so the ConfigMap and the program agree.
 */

/** How cached values of one data type reach Redis (the seed's CACHE_STRATEGIES names). */
export type CacheStrategyName = 'write-through' | 'write-behind' | 'write-around' | 'cache-aside';

/** The cache strategy names, in the seed's order. */
export const CACHE_STRATEGY_NAMES: readonly CacheStrategyName[] = [
  'write-through',
  'write-behind',
  'write-around',
  'cache-aside',
];

/** TTL and write strategy of one data type. */
export interface CacheStrategy {
  /** ttl in seconds. */
  readonly ttl: number;
  /** strategy: when a computed value is written to the cache (see cache.ts). */
  readonly strategy: CacheStrategyName;
}

/** The data types the API caches, each with its own strategy. */
export type CacheDataType = 'market_data' | 'risk_calculations' | 'user_sessions' | 'static_data';

/** The seed's CACHE_STRATEGIES. */
export const DEFAULT_CACHE_STRATEGIES: Readonly<Record<CacheDataType, CacheStrategy>> = {
  market_data: { ttl: 60, strategy: 'write-through' },
  risk_calculations: { ttl: 300, strategy: 'write-behind' },
  user_sessions: { ttl: 1800, strategy: 'write-around' },
  static_data: { ttl: 3600, strategy: 'cache-aside' },
};

/** The seed's numbers: environment configuration and DATABASE_CONFIG. */
export const RISK_API_DEFAULTS = {
  /** PORT (the seed's EXPOSE 8001). */
  port: 8001,
  host: '0.0.0.0',
  redisHost: 'localhost',
  redisPort: 6379,
  /** DB_POOL_SIZE: base connections kept open. */
  poolSize: 20,
  /** DB_MAX_OVERFLOW: extra connections under load, closed again when returned. */
  maxOverflow: 30,
  /** DB_POOL_TIMEOUT: seconds a request waits for a connection. */
  poolTimeoutSeconds: 30,
  /** DB_POOL_RECYCLE: seconds after which a connection is replaced. */
  poolRecycleSeconds: 3600,
  /** DB_POOL_PRE_PING: verify a connection before handing it out. */
  poolPrePing: true,
  /** CACHE_TTL_DEFAULT: TTL of data types without a strategy (the seed's get_cache_config fallback). */
  cacheTtlDefaultSeconds: 300,
  /** ASYNC_WORKERS: risk calculations of one batch computed at once. */
  asyncWorkers: 4,
  monitoringEnabled: true,
  profilerEnabled: true,
} as const;

/** Where REDIS_HOST points: one node, a cluster node, or find out with INFO (auto). */
export type RedisMode = 'auto' | 'cluster' | 'standalone';

/** Settings of one risk API process. */
export interface RiskApiConfig {
  /** port from PORT. */
  readonly port: number;
  /** host from HOST: the address to listen on. */
  readonly host: string;
  /** databaseUrl from DATABASE_URL (postgres://user:password@host:port/db); never logged. */
  readonly databaseUrl: string;
  readonly redisHost: string;
  readonly redisPort: number;
  /** redisPassword from REDIS_PASSWORD; never logged. */
  readonly redisPassword?: string;
  /** redisMode from REDIS_CLUSTER: "true" cluster, "false" standalone, "auto" (default) asks the node. */
  readonly redisMode: RedisMode;
  readonly pool: PoolTuning & {
    readonly timeoutSeconds: number;
    readonly recycleSeconds: number;
    readonly prePing: boolean;
  };
  readonly cacheTtlDefaultSeconds: number;
  readonly cacheStrategies: Readonly<Record<CacheDataType, CacheStrategy>>;
  readonly asyncWorkers: number;
  /** monitoringEnabled from MONITORING_ENABLED: serve /metrics. */
  readonly monitoringEnabled: boolean;
  /** profilerEnabled from PROFILER_ENABLED: add process metrics (CPU, memory, event loop) to /metrics. */
  readonly profilerEnabled: boolean;
  /** tuningConfigDir from TUNING_CONFIG_DIR: a mounted ConfigMap whose DB_POOL_SIZE and DB_MAX_OVERFLOW files are watched. */
  readonly tuningConfigDir?: string;
  /** corsOrigins from CORS_ALLOWED_ORIGINS (comma-separated); empty allows none. */
  readonly corsOrigins: readonly string[];
  /** logLevel from LOG_LEVEL. */
  readonly logLevel: string;
}

/** The pool's two run-time knobs, the ones the operator tunes. */
export interface PoolTuning {
  readonly size: number;
  readonly maxOverflow: number;
}

/** A setting with a value outside its range; the message names the variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** The environment variables the risk API reads, each with the flag that sets it. */
export const RISK_API_ENVIRONMENT = {
  PORT: '--port',
  HOST: '--host',
  DATABASE_URL: '--database-url',
  REDIS_HOST: '--redis-host',
  REDIS_PORT: '--redis-port',
  REDIS_PASSWORD: '--redis-password',
  REDIS_CLUSTER: '--redis-cluster',
  DB_POOL_SIZE: '--db-pool-size',
  DB_MAX_OVERFLOW: '--db-max-overflow',
  DB_POOL_TIMEOUT: '--db-pool-timeout',
  DB_POOL_RECYCLE: '--db-pool-recycle',
  DB_POOL_PRE_PING: '--db-pool-pre-ping',
  CACHE_TTL_DEFAULT: '--cache-ttl-default',
  CACHE_STRATEGIES: '--cache-strategies',
  ASYNC_WORKERS: '--async-workers',
  MONITORING_ENABLED: '--monitoring-enabled',
  PROFILER_ENABLED: '--profiler-enabled',
  TUNING_CONFIG_DIR: '--tuning-config-dir',
  CORS_ALLOWED_ORIGINS: '--cors-allowed-origins',
  LOG_LEVEL: '--log-level',
} as const;

/** Name of one environment variable the risk API reads. */
export type RiskApiVariable = keyof typeof RISK_API_ENVIRONMENT;

/** The default DATABASE_URL: a local PostgreSQL database named perfpilot. */
export const DEFAULT_DATABASE_URL = 'postgres://localhost:5432/perfpilot';

/** parseInteger reads an integer setting within [min, max], or throws naming the variable. */
export function parseInteger(
  name: string,
  value: string | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined || value.trim() === '') return fallback;
  const n = Number(value.trim());
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name} is "${value}"; it must be an integer from ${min} to ${max}`);
  }
  return n;
}

/** parseBoolean reads true/false (also 1/0, yes/no), or throws naming the variable. */
export function parseBoolean(name: string, value: string | undefined, fallback: boolean): boolean {
  if (value === undefined || value.trim() === '') return fallback;
  const v = value.trim().toLowerCase();
  if (['true', '1', 'yes'].includes(v)) return true;
  if (['false', '0', 'no'].includes(v)) return false;
  throw new ConfigError(`${name} is "${value}"; it must be true or false`);
}

function parseRedisMode(value: string | undefined): RedisMode {
  if (value === undefined || value.trim() === '' || value.trim().toLowerCase() === 'auto') return 'auto';
  return parseBoolean('REDIS_CLUSTER', value, false) ? 'cluster' : 'standalone';
}

/**
 * parseCacheStrategies reads CACHE_STRATEGIES, the JSON the toolkit's ConfigMap carries
 * ({"market_data":{"ttl":60,"strategy":"write-through"},…}); types it leaves out keep the seed's.
 */
export function parseCacheStrategies(value: string | undefined): Record<CacheDataType, CacheStrategy> {
  const strategies: Record<CacheDataType, CacheStrategy> = { ...DEFAULT_CACHE_STRATEGIES };
  if (value === undefined || value.trim() === '') return strategies;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (err) {
    throw new ConfigError(`CACHE_STRATEGIES is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError('CACHE_STRATEGIES must be a JSON object of data type → {ttl, strategy}');
  }
  for (const [type, entry] of Object.entries(parsed)) {
    if (!(type in DEFAULT_CACHE_STRATEGIES)) continue; // a data type this version does not cache
    const e = entry as { ttl?: unknown; strategy?: unknown };
    if (typeof e?.ttl !== 'number' || !Number.isInteger(e.ttl) || e.ttl < 1 || e.ttl > 604800) {
      throw new ConfigError(`CACHE_STRATEGIES.${type}.ttl must be an integer from 1 to 604800 seconds`);
    }
    if (!CACHE_STRATEGY_NAMES.includes(e.strategy as CacheStrategyName)) {
      throw new ConfigError(
        `CACHE_STRATEGIES.${type}.strategy must be one of ${CACHE_STRATEGY_NAMES.join(', ')}, got ${JSON.stringify(e.strategy)}`,
      );
    }
    strategies[type as CacheDataType] = { ttl: e.ttl, strategy: e.strategy as CacheStrategyName };
  }
  return strategies;
}

/** POOL_LIMITS bound DB_POOL_SIZE and DB_MAX_OVERFLOW (the toolkit's values use the same ranges). */
export const POOL_LIMITS = { size: { min: 1, max: 1000 }, maxOverflow: { min: 0, max: 1000 } } as const;

/** parsePoolTuning reads DB_POOL_SIZE and DB_MAX_OVERFLOW from a map of variable → text. */
export function parsePoolTuning(
  values: Readonly<Record<string, string | undefined>>,
  fallback: PoolTuning = { size: RISK_API_DEFAULTS.poolSize, maxOverflow: RISK_API_DEFAULTS.maxOverflow },
): PoolTuning {
  return {
    size: parseInteger(
      'DB_POOL_SIZE',
      values.DB_POOL_SIZE,
      fallback.size,
      POOL_LIMITS.size.min,
      POOL_LIMITS.size.max,
    ),
    maxOverflow: parseInteger(
      'DB_MAX_OVERFLOW',
      values.DB_MAX_OVERFLOW,
      fallback.maxOverflow,
      POOL_LIMITS.maxOverflow.min,
      POOL_LIMITS.maxOverflow.max,
    ),
  };
}

/** configFromEnvironment reads every setting; flags have been copied into `env` before. */
export function configFromEnvironment(env: NodeJS.ProcessEnv = process.env): RiskApiConfig {
  const d = RISK_API_DEFAULTS;
  const databaseUrl = env.DATABASE_URL?.trim() || DEFAULT_DATABASE_URL;
  if (!/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL must start with postgres:// or postgresql://');
  }
  return {
    port: parseInteger('PORT', env.PORT, d.port, 0, 65535),
    host: env.HOST?.trim() || d.host,
    databaseUrl,
    redisHost: env.REDIS_HOST?.trim() || d.redisHost,
    redisPort: parseInteger('REDIS_PORT', env.REDIS_PORT, d.redisPort, 1, 65535),
    ...(env.REDIS_PASSWORD ? { redisPassword: env.REDIS_PASSWORD } : {}),
    redisMode: parseRedisMode(env.REDIS_CLUSTER),
    pool: {
      ...parsePoolTuning(env),
      timeoutSeconds: parseInteger('DB_POOL_TIMEOUT', env.DB_POOL_TIMEOUT, d.poolTimeoutSeconds, 1, 600),
      recycleSeconds: parseInteger('DB_POOL_RECYCLE', env.DB_POOL_RECYCLE, d.poolRecycleSeconds, 1, 86400),
      prePing: parseBoolean('DB_POOL_PRE_PING', env.DB_POOL_PRE_PING, d.poolPrePing),
    },
    cacheTtlDefaultSeconds: parseInteger(
      'CACHE_TTL_DEFAULT',
      env.CACHE_TTL_DEFAULT,
      d.cacheTtlDefaultSeconds,
      1,
      604800,
    ),
    cacheStrategies: parseCacheStrategies(env.CACHE_STRATEGIES),
    asyncWorkers: parseInteger('ASYNC_WORKERS', env.ASYNC_WORKERS, d.asyncWorkers, 1, 64),
    monitoringEnabled: parseBoolean('MONITORING_ENABLED', env.MONITORING_ENABLED, d.monitoringEnabled),
    profilerEnabled: parseBoolean('PROFILER_ENABLED', env.PROFILER_ENABLED, d.profilerEnabled),
    ...(env.TUNING_CONFIG_DIR?.trim() ? { tuningConfigDir: env.TUNING_CONFIG_DIR.trim() } : {}),
    corsOrigins: (env.CORS_ALLOWED_ORIGINS ?? '')
      .split(',')
      .map((o) => o.trim())
      .filter((o) => o.length > 0),
    logLevel: env.LOG_LEVEL?.trim() || 'info',
  };
}
