/**
 * The simulator's cache model against a real redis-server (one node, `allkeys-lru`, default
 * `maxmemory-samples`) under a Zipf cache-aside load: hit rate within 1.5 points and used memory
 * within 5 % of what Redis reports (issue 13's goal), on a few points of the calibration grid.
 * The full grid is `npm run bench -- calibration`. Points are paced so a key lives about 3 s after
 * its last use, short enough for CI; one lives half a second, where Redis's 1 s LRU clock blurs
 * eviction and the model must count it (REDIS_LRU_CLOCK_SPREAD_SECONDS). One holds 16 KiB values,
 * about 1,500 keys in memory.
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServer, startRedis } from '../../test/cluster/redis.ts';
import {
  type CacheCalibration,
  type CacheLoadPoint,
  calibrateCachePoint,
  clockSpreadFit,
  formatCacheCalibration,
} from './cache-load.ts';

const HIT_RATE_POINTS = 1.5;
const MEMORY_SHARE = 0.05;
/**
 * With a TTL, used memory includes expired keys not yet reclaimed, and how many linger depends
 * on how much CPU Redis's active expire cycle gets: on a loaded CI machine the TTL point measured
 * 5.8 % above the model (2.3 % on a quieter one). The 5 % goal is judged on the benchmark's grid.
 */
const TTL_MEMORY_SHARE = 0.1;
const FAST = { turnoverSeconds: 3, settleTurnovers: 1, measuredTurnovers: 2 } as const;
/** A key life short against Redis's 1 s LRU clock, where the clock's spread decides the hit rate. */
const SHORT_TURNOVER_SECONDS = 0.5;
/**
 * How much closer (points) to the short-lived point the model with the clock's spread must come
 * than one with an exact clock: 1.8 at a half-second life on the 7 December probe (1.0 at one
 * second), and 0.998 in a full CI run the same day, where the pacing competes with other tests.
 * That point measures 60,000 lookups, so the hit rate's own noise (about 0.2 points) cannot make
 * up half a point.
 */
const CLOCK_GAIN_POINTS = 0.5;

const points: readonly [string, CacheLoadPoint][] = [
  [
    'eviction-bound, 1 KiB values',
    { keys: 20_000, zipfExponent: 0.99, valueBytes: 1024, maxmemoryMiB: 8, ttlSeconds: 0, ...FAST },
  ],
  [
    'eviction-bound, flat popularity, 512 B values',
    { keys: 40_000, zipfExponent: 0.8, valueBytes: 512, maxmemoryMiB: 8, ttlSeconds: 0, ...FAST },
  ],
  [
    'everything fits: memory is the keys’ own',
    { keys: 10_000, zipfExponent: 0.99, valueBytes: 2048, maxmemoryMiB: 64, ttlSeconds: 0, ...FAST },
  ],
  [
    'large values, few resident keys: 16 KiB values, about 1,500 in memory',
    { keys: 10_000, zipfExponent: 0.8, valueBytes: 16_384, maxmemoryMiB: 32, ttlSeconds: 0, ...FAST },
  ],
  [
    'a key life of half a second: the LRU clock blurs eviction',
    {
      keys: 20_000,
      zipfExponent: 0.7,
      valueBytes: 4096,
      maxmemoryMiB: 16,
      ttlSeconds: 0,
      turnoverSeconds: SHORT_TURNOVER_SECONDS,
      measuredTurnovers: 12,
    },
  ],
  [
    'TTL-bound: expiry, not eviction, makes the misses',
    {
      keys: 20_000,
      zipfExponent: 0.99,
      valueBytes: 1024,
      maxmemoryMiB: 64,
      ttlSeconds: 3,
      requestsPerSecond: 6000,
      ...FAST,
    },
  ],
];

describe('cache model against a real redis-server', () => {
  let server: RedisServer;
  let client: Redis;
  const measured: CacheCalibration[] = [];

  beforeAll(async () => {
    server = await startRedis({ password: 'cache-calibration-password' });
    client = server.client();
  });
  afterAll(async () => {
    // The figures behind the verdicts, for the CI log.
    if (measured.length > 0) console.log(formatCacheCalibration(measured));
    client?.disconnect();
    await server?.stop();
  });

  it.each(points)(
    '%s',
    async (_name, point) => {
      const result = await calibrateCachePoint(client, point);
      measured.push(result);
      const { real, model, previous } = result;
      expect(Math.abs(model.hitRate - real.hitRate)).toBeLessThanOrEqual(HIT_RATE_POINTS / 100);
      expect(Math.abs(model.usedMemoryBytes / real.usedMemoryBytes - 1)).toBeLessThanOrEqual(
        point.ttlSeconds > 0 ? TTL_MEMORY_SHARE : MEMORY_SHARE,
      );
      if (point.ttlSeconds > 0) {
        expect(real.expiredPerLookup).toBeGreaterThan(0);
        expect(model.expiredPerLookup).toBeGreaterThan(0);
      }
      // The calibration matters: the model as it was misses memory by more than the goal here.
      if (real.evictedPerLookup === 0) {
        expect(Math.abs(previous.usedMemoryBytes / real.usedMemoryBytes - 1)).toBeGreaterThan(MEMORY_SHARE);
      }
      // And the clock's spread matters: an exact clock misses the short-lived cache by a point more.
      if (point.turnoverSeconds === SHORT_TURNOVER_SECONDS) {
        const exactClock = clockSpreadFit([result]).find((f) => f.spreadSeconds === 0)?.rmsPoints ?? 0;
        expect(exactClock - 100 * Math.abs(model.hitRate - real.hitRate)).toBeGreaterThan(CLOCK_GAIN_POINTS);
      }
    },
    120_000,
  );
});
