import { describe, expect, it } from 'vitest';
import {
  configFromEnvironment,
  DEFAULT_CACHE_STRATEGIES,
  parseCacheStrategies,
  parsePoolTuning,
  RISK_API_DEFAULTS,
} from './config.ts';

describe('configFromEnvironment', () => {
  it('has the seed’s numbers when nothing is set', () => {
    const c = configFromEnvironment({});
    expect(c).toMatchObject({
      port: 8001,
      redisHost: 'localhost',
      redisPort: 6379,
      redisMode: 'auto',
      pool: { size: 20, maxOverflow: 30, timeoutSeconds: 30, recycleSeconds: 3600, prePing: true },
      cacheTtlDefaultSeconds: 300,
      asyncWorkers: 4,
      monitoringEnabled: true,
      cacheStrategies: DEFAULT_CACHE_STRATEGIES,
    });
    expect(c.redisPassword).toBeUndefined();
    expect(c.tuningConfigDir).toBeUndefined();
  });

  it('reads every variable', () => {
    const c = configFromEnvironment({
      PORT: '9000',
      HOST: '127.0.0.1',
      DATABASE_URL: 'postgresql://u:p@db:5432/x',
      REDIS_HOST: 'redis',
      REDIS_PORT: '7000',
      REDIS_PASSWORD: 's3cret',
      REDIS_CLUSTER: 'true',
      DB_POOL_SIZE: '5',
      DB_MAX_OVERFLOW: '0',
      DB_POOL_TIMEOUT: '3',
      DB_POOL_RECYCLE: '60',
      DB_POOL_PRE_PING: 'false',
      CACHE_TTL_DEFAULT: '42',
      CACHE_STRATEGIES: '{"market_data":{"ttl":5,"strategy":"cache-aside"}}',
      ASYNC_WORKERS: '8',
      MONITORING_ENABLED: 'no',
      PROFILER_ENABLED: '0',
      TUNING_CONFIG_DIR: '/etc/tuning',
      CORS_ALLOWED_ORIGINS: 'https://a.example, https://b.example',
      LOG_LEVEL: 'warn',
    });
    expect(c).toEqual({
      port: 9000,
      host: '127.0.0.1',
      databaseUrl: 'postgresql://u:p@db:5432/x',
      redisHost: 'redis',
      redisPort: 7000,
      redisPassword: 's3cret',
      redisMode: 'cluster',
      pool: { size: 5, maxOverflow: 0, timeoutSeconds: 3, recycleSeconds: 60, prePing: false },
      cacheTtlDefaultSeconds: 42,
      cacheStrategies: { ...DEFAULT_CACHE_STRATEGIES, market_data: { ttl: 5, strategy: 'cache-aside' } },
      asyncWorkers: 8,
      monitoringEnabled: false,
      profilerEnabled: false,
      tuningConfigDir: '/etc/tuning',
      corsOrigins: ['https://a.example', 'https://b.example'],
      logLevel: 'warn',
    });
  });

  it.each([
    [{ REDIS_CLUSTER: 'false' }, 'standalone'],
    [{ REDIS_CLUSTER: 'auto' }, 'auto'],
    [{ REDIS_CLUSTER: '1' }, 'cluster'],
  ])('REDIS_CLUSTER %j is %s', (env, mode) => {
    expect(configFromEnvironment(env).redisMode).toBe(mode);
  });

  it.each([
    [{ PORT: '70000' }, 'PORT is "70000"; it must be an integer from 0 to 65535'],
    [{ DB_POOL_SIZE: '0' }, 'DB_POOL_SIZE is "0"; it must be an integer from 1 to 1000'],
    [{ DB_POOL_SIZE: '2.5' }, 'DB_POOL_SIZE is "2.5"; it must be an integer from 1 to 1000'],
    [{ DB_MAX_OVERFLOW: '-1' }, 'DB_MAX_OVERFLOW is "-1"; it must be an integer from 0 to 1000'],
    [{ DB_POOL_TIMEOUT: 'soon' }, 'DB_POOL_TIMEOUT is "soon"; it must be an integer from 1 to 600'],
    [{ DB_POOL_PRE_PING: 'maybe' }, 'DB_POOL_PRE_PING is "maybe"; it must be true or false'],
    [{ CACHE_TTL_DEFAULT: '0' }, 'CACHE_TTL_DEFAULT is "0"; it must be an integer from 1 to 604800'],
    [{ ASYNC_WORKERS: '65' }, 'ASYNC_WORKERS is "65"; it must be an integer from 1 to 64'],
    [{ REDIS_PORT: '0' }, 'REDIS_PORT is "0"; it must be an integer from 1 to 65535'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL must start with postgres:// or postgresql://'],
    [{ CACHE_STRATEGIES: '{' }, 'CACHE_STRATEGIES is not valid JSON'],
    [{ CACHE_STRATEGIES: '[]' }, 'CACHE_STRATEGIES must be a JSON object'],
    [
      { CACHE_STRATEGIES: '{"market_data":{"ttl":0,"strategy":"cache-aside"}}' },
      'CACHE_STRATEGIES.market_data.ttl must be an integer from 1 to 604800 seconds',
    ],
    [
      { CACHE_STRATEGIES: '{"static_data":{"ttl":5,"strategy":"lazy"}}' },
      'CACHE_STRATEGIES.static_data.strategy must be one of write-through, write-behind, write-around, cache-aside, got "lazy"',
    ],
  ])('rejects %j: %s', (env, message) => {
    expect(() => configFromEnvironment(env)).toThrow(message);
  });
});

describe('parseCacheStrategies', () => {
  it('reads the toolkit ConfigMap’s CACHE_STRATEGIES back to the seed’s strategies', () => {
    const fromConfigMap =
      '{"market_data":{"ttl":60,"strategy":"write-through"},"risk_calculations":{"ttl":300,"strategy":"write-behind"},"static_data":{"ttl":3600,"strategy":"cache-aside"},"user_sessions":{"ttl":1800,"strategy":"write-around"}}';
    expect(parseCacheStrategies(fromConfigMap)).toEqual(DEFAULT_CACHE_STRATEGIES);
  });

  it('ignores data types it does not cache', () => {
    expect(parseCacheStrategies('{"quotes":{"ttl":1,"strategy":"x"}}')).toEqual(DEFAULT_CACHE_STRATEGIES);
  });
});

describe('parsePoolTuning', () => {
  it.each([
    [{}, { size: 20, maxOverflow: 30 }],
    [{ DB_POOL_SIZE: '8' }, { size: 8, maxOverflow: 30 }],
    [
      { DB_POOL_SIZE: ' 8\n', DB_MAX_OVERFLOW: '2' },
      { size: 8, maxOverflow: 2 },
    ],
  ])('%j → %j', (values, tuning) => {
    expect(parsePoolTuning(values)).toEqual(tuning);
  });

  it('keeps the given fallback for a missing value', () => {
    expect(parsePoolTuning({ DB_MAX_OVERFLOW: '1' }, { size: 3, maxOverflow: 9 })).toEqual({
      size: 3,
      maxOverflow: 1,
    });
    expect(RISK_API_DEFAULTS.poolSize).toBe(20);
  });
});
