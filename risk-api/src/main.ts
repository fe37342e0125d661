/**
 * The risk API process: migrations, pool, cache, HTTP server, pool tuning from the mounted
 * ConfigMap, cache warming, and a graceful stop on SIGTERM. Wiring only: the behaviour lives in
 * the modules it starts.
 */
import pg from 'pg';
import { createLogger, type Logger } from '../../operator/src/telemetry/logger.ts';
import { RedisCache } from './cache.ts';
import type { RiskApiConfig } from './config.ts';
import { ConnectionPool, PoolTimeoutError } from './connection-pool.ts';
import { buildHttpServer, READINESS_TIMEOUT_MS } from './http-server.ts';
import { RiskApiMetrics } from './metrics.ts';
import { RiskService } from './risk-service.ts';
import { migrate } from './schema.ts';
import { generateSeedData, SEED_SYMBOL_COUNT, SEED_SYMBOLS, seedDatabase } from './seed-data.ts';
import { watchPoolTuning } from './tuning-watch.ts';

/** How many of the most requested symbols are warmed at start, besides the seed's five. */
export const WARM_POPULAR_SYMBOLS = 20;
/** How often request counts per symbol are added to Redis for the next start's warming. */
export const POPULARITY_FLUSH_MS = 10_000;
/** How long a start waits for Redis before warming is skipped. */
export const WARM_WAIT_MS = 5000;
/** Delay between migration attempts while PostgreSQL is unreachable at start. */
export const MIGRATION_RETRY_MS = 2000;

/** A running risk API. */
export interface RunningRiskApi {
  /** url is where it listens, e.g. http://127.0.0.1:8001. */
  readonly url: string;
  readonly pool: ConnectionPool;
  readonly cache: RedisCache;
  /** warmed resolves with the number of symbols warmed at start (0 when Redis was not there). */
  readonly warmed: Promise<number>;
  /** stop finishes the requests in flight and closes everything. */
  stop(): Promise<void>;
}

async function withClient<T>(databaseUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 5000 });
  client.on('error', () => {});
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/** migrateDatabase applies the schema migrations to DATABASE_URL's database. */
export async function migrateDatabase(databaseUrl: string): Promise<number[]> {
  return await withClient(databaseUrl, migrate);
}

/**
 * seedDemoData migrates, then writes the demo data of `symbolCount` symbols unless it is there
 * (`perfpilot risk-api seed [--symbols N]`).
 */
export async function seedDemoData(
  databaseUrl: string,
  symbolCount: number = SEED_SYMBOL_COUNT,
): Promise<Awaited<ReturnType<typeof seedDatabase>>> {
  const data = generateSeedData(symbolCount);
  return await withClient(databaseUrl, async (client) => {
    await migrate(client);
    return await seedDatabase(client, data);
  });
}

/** startRiskApi starts everything and listens; PostgreSQL and Redis may come later. */
export async function startRiskApi(
  config: RiskApiConfig,
  logger: Logger = createLogger({ name: 'risk-api', level: config.logLevel }),
): Promise<RunningRiskApi> {
  let migrated = false;
  let stopping = false;
  let pool: ConnectionPool | undefined;
  let cache: RedisCache | undefined;
  const metrics: RiskApiMetrics = new RiskApiMetrics(
    {
      poolStats: () => (pool as ConnectionPool).stats(),
      cacheAvailable: () => cache?.available ?? false,
      databaseAvailable: () => migrated && pool?.lastConnectError === undefined,
    },
    { processMetrics: config.profilerEnabled },
  );
  pool = new ConnectionPool({
    connectionString: config.databaseUrl,
    size: config.pool.size,
    maxOverflow: config.pool.maxOverflow,
    timeoutMs: config.pool.timeoutSeconds * 1000,
    recycleMs: config.pool.recycleSeconds * 1000,
    prePing: config.pool.prePing,
    onWait: (s) => metrics.poolWait.observe(s),
    onQuery: (s) => metrics.queryDuration.observe(s),
  });
  cache = new RedisCache({
    host: config.redisHost,
    port: config.redisPort,
    ...(config.redisPassword ? { password: config.redisPassword } : {}),
    mode: config.redisMode,
    strategies: config.cacheStrategies,
    defaultTtlSeconds: config.cacheTtlDefaultSeconds,
    metrics,
    onStateChange: (available, detail) =>
      available ? logger.info({ detail }, 'redis available') : logger.warn({ detail }, 'redis unavailable'),
  });
  const service = new RiskService(pool, cache);
  const activePool = pool;
  const activeCache = cache;

  const databaseReady = async (): Promise<{ ok: boolean; detail: string }> => {
    if (!migrated) return { ok: false, detail: 'down: schema not migrated yet (PostgreSQL unreachable)' };
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), READINESS_TIMEOUT_MS);
    });
    try {
      const outcome = await Promise.race([activePool.query('SELECT 1'), timeout]);
      if (outcome !== 'timeout') return { ok: true, detail: 'up' };
      return activePool.lastConnectError
        ? { ok: false, detail: `down: ${activePool.lastConnectError.message}` }
        : { ok: true, detail: 'up (every pooled connection busy)' };
    } catch (err) {
      if (err instanceof PoolTimeoutError) return { ok: true, detail: 'up (every pooled connection busy)' };
      return { ok: false, detail: `down: ${(err as Error).message}` };
    } finally {
      clearTimeout(timer);
    }
  };

  const app = await buildHttpServer({
    config,
    pool: activePool,
    cache: activeCache,
    service,
    metrics,
    logger,
    schemaReady: () => migrated,
    databaseReady,
  });

  const migration = (async () => {
    while (!stopping) {
      try {
        const applied = await migrateDatabase(config.databaseUrl);
        migrated = true;
        logger.info({ applied }, applied.length ? 'migrated' : 'schema up to date');
        return;
      } catch (err) {
        logger.warn({ err: (err as Error).message }, 'migration failed; retrying');
        await new Promise((r) => setTimeout(r, MIGRATION_RETRY_MS));
      }
    }
  })();

  activeCache.start();
  const warmed = (async () => {
    await migration;
    if (!(await activeCache.whenAvailable(WARM_WAIT_MS)) || stopping) return 0;
    const popular = await activeCache.popularSymbols(WARM_POPULAR_SYMBOLS);
    const symbols = [...new Set([...SEED_SYMBOLS, ...popular])];
    const count = await service.warmMarketData(symbols);
    logger.info({ warmed: count, symbols: symbols.length }, 'cache warmed');
    return count;
  })();
  const popularity = setInterval(() => void activeCache.flushPopularity(), POPULARITY_FLUSH_MS);
  popularity.unref();

  const stopWatching = config.tuningConfigDir
    ? watchPoolTuning({
        dir: config.tuningConfigDir,
        current: () => {
          const s = activePool.stats();
          return { size: s.size, maxOverflow: s.maxOverflow };
        },
        apply: async (tuning) => {
          logger.info({ from: activePool.stats(), to: tuning }, 'resizing the database pool');
          await activePool.resize(tuning);
          logger.info({ pool: activePool.stats() }, 'database pool resized');
        },
        onError: (err) => logger.warn({ err: err.message }, 'tuning files ignored'),
      })
    : () => {};

  await app.listen({ port: config.port, host: config.host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host === '0.0.0.0' ? '127.0.0.1' : config.host;
  logger.info(
    {
      port,
      pool: { size: config.pool.size, maxOverflow: config.pool.maxOverflow },
      redis: `${config.redisHost}:${config.redisPort}`,
      tuningConfigDir: config.tuningConfigDir ?? null,
    },
    'listening',
  );
  return {
    url: `http://${host}:${port}`,
    pool: activePool,
    cache: activeCache,
    warmed,
    stop: async () => {
      stopping = true;
      stopWatching();
      clearInterval(popularity);
      await app.close();
      await activeCache.flushPopularity();
      await Promise.allSettled([activePool.close(), activeCache.stop(), warmed, migration]);
    },
  };
}

/** runRiskApiProcess starts the API and resolves with the exit code once SIGTERM or SIGINT stopped it. */
export async function runRiskApiProcess(config: RiskApiConfig): Promise<number> {
  const logger = createLogger({ name: 'risk-api', level: config.logLevel });
  const api = await startRiskApi(config, logger);
  await new Promise<void>((resolve) => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => resolve());
  });
  logger.info('stopping');
  await api.stop();
  logger.info('stopped');
  return 0;
}
