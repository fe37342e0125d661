/**
 * The arbiter of the cache calibration: the risk API's own hit rate (its `cache_hits_total` and
 * `cache_misses_total`, as `perfpilot loadtest` reports them) on a real redis-server under
 * `allkeys-lru`, next to Redis's INFO counters over the same run, the calibration harness
 * (`cache-load.ts`) at the same keys, skew, value size, memory and rate, and the model. The API
 * answers `market-data/:symbol/history` (about 42 KiB of JSON a symbol, cached as static data):
 * large values, few resident keys.
 */
import type { Redis } from 'ioredis';
import { runLoadTest } from '../../risk-api/src/load-test.ts';
import { type CacheCalibration, calibrateCachePoint } from './cache-load.ts';
import { type LatencyStack, startApi, startLatencyStack } from './latency-load.ts';

const MIB = 1024 * 1024;

/** One configuration the API is run at. */
export interface ApiCachePoint {
  /** symbols: seeded symbols, all requested (Zipf over their ranks). */
  readonly symbols: number;
  /** zipfExponent: the load generator's skew. */
  readonly zipfExponent: number;
  /** maxmemoryMiB: Redis `maxmemory`. */
  readonly maxmemoryMiB: number;
  /** requestsPerSecond: offered rate (Poisson arrivals). */
  readonly requestsPerSecond: number;
  /** warmSeconds / measuredSeconds: load before measuring, and the measured run. */
  readonly warmSeconds: number;
  readonly measuredSeconds: number;
}

/** What the API saw, what Redis counted, and the harness and model at the same point. */
export interface ApiCacheResult {
  readonly point: ApiCachePoint;
  readonly achievedRps: number;
  /** apiHitRate: the API's hits / (hits + misses) over the measured run. */
  readonly apiHitRate: number;
  /** infoHitRate: keyspace_hits / (hits + misses) of Redis INFO over the same run. */
  readonly infoHitRate: number;
  /** residentKeys: DBSIZE after the run. */
  readonly residentKeys: number;
  /** meanValueBytes: mean length of the cached answers. */
  readonly meanValueBytes: number;
  /** harness: the calibration harness at the same point (its model beside it). */
  readonly harness: CacheCalibration;
}

const PRICE_HISTORY_ONLY = { 'price-history': 1 } as const;

function infoField(text: string, field: string): number {
  const match = new RegExp(`^${field}:(\\d+)`, 'm').exec(text);
  if (!match) throw new Error(`Redis INFO has no ${field}`);
  return Number(match[1]);
}

/** Mean length of the string values in Redis (the API's cached answers). */
async function meanStringBytes(redis: Redis): Promise<number> {
  let total = 0;
  let count = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'COUNT', 1000, 'TYPE', 'string');
    for (const key of keys) {
      total += await redis.strlen(key);
      count++;
    }
    cursor = next;
  } while (cursor !== '0');
  return count > 0 ? total / count : 0;
}

async function measureApiPoint(stack: LatencyStack, point: ApiCachePoint): Promise<ApiCacheResult> {
  const redis = stack.redis.client();
  try {
    await redis.flushall();
    await redis.config('SET', 'maxmemory-policy', 'allkeys-lru');
    await redis.config('SET', 'maxmemory', String(point.maxmemoryMiB * MIB));
    // The API's own TTLs (an hour for static data) outlast the run: memory, not expiry, binds.
    const api = await startApi(stack, { endpoint: 'data', poolSize: 5, ttlSeconds: 3600 });
    let result: Omit<ApiCacheResult, 'harness'>;
    try {
      const load = (seconds: number, seed: number) =>
        runLoadTest({
          url: api.url,
          phases: [{ durationSeconds: seconds, rate: point.requestsPerSecond }],
          connections: 32,
          mix: PRICE_HISTORY_ONLY,
          zipfExponent: point.zipfExponent,
          symbolCount: point.symbols,
          seed,
        });
      await load(point.warmSeconds, 2);
      const before = await redis.info('stats');
      const report = await load(point.measuredSeconds, 1);
      const after = await redis.info('stats');
      const hits = infoField(after, 'keyspace_hits') - infoField(before, 'keyspace_hits');
      const misses = infoField(after, 'keyspace_misses') - infoField(before, 'keyspace_misses');
      const apiHits = report.api?.cacheHits ?? 0;
      const apiMisses = report.api?.cacheMisses ?? 0;
      result = {
        point,
        achievedRps: report.rps,
        apiHitRate: apiHits / Math.max(1, apiHits + apiMisses),
        infoHitRate: hits / Math.max(1, hits + misses),
        residentKeys: await redis.dbsize(),
        meanValueBytes: await meanStringBytes(redis),
      };
    } finally {
      await api.process.stop();
    }
    const harness = await calibrateCachePoint(redis, {
      keys: point.symbols,
      zipfExponent: point.zipfExponent,
      valueBytes: Math.round(result.meanValueBytes),
      maxmemoryMiB: point.maxmemoryMiB,
      ttlSeconds: 0,
      requestsPerSecond: result.achievedRps,
    });
    return { ...result, harness };
  } finally {
    redis.disconnect();
  }
}

/** Seeds a stack with the most symbols any point asks for, measures each point, and stops it. */
export async function measureApiCache(points: readonly ApiCachePoint[]): Promise<ApiCacheResult[]> {
  const stack = await startLatencyStack(Math.max(...points.map((p) => p.symbols)));
  try {
    const results: ApiCacheResult[] = [];
    for (const point of points) results.push(await measureApiPoint(stack, point));
    return results;
  } finally {
    await stack.stop();
  }
}

/** A markdown table: the API's hit rate, Redis's, the harness's and the model's, per point. */
export function formatApiCache(results: readonly ApiCacheResult[]): string {
  const f = (x: number) => x.toFixed(3);
  const lines = [
    '| symbols × mean answer, Zipf s, maxmemory | lookups/s | resident keys | hit rate: API · Redis INFO · harness · model |',
    '| --- | ---: | ---: | --- |',
  ];
  for (const r of results) {
    lines.push(
      `| ${r.point.symbols} × ${Math.round(r.meanValueBytes)} B, ${r.point.zipfExponent}, ${r.point.maxmemoryMiB} MiB ` +
        `| ${r.achievedRps.toFixed(1)} | ${r.residentKeys} ` +
        `| ${f(r.apiHitRate)} · ${f(r.infoHitRate)} · ${f(r.harness.real.hitRate)} · ${f(r.harness.model.hitRate)} |`,
    );
  }
  return lines.join('\n');
}
