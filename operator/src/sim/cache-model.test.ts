import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import {
  CacheModel,
  effectiveEvictionShape,
  jemallocSizeClass,
  REDIS_EXPIRED_RESIDENT_SHARE,
  REDIS_LRU_CLOCK_SPREAD_SECONDS,
  REDIS_SAMPLED_LRU_SHAPE,
  type RedisKeyShape,
  redisBytesPerKey,
} from './cache-model.ts';

const MIB = 1024 * 1024;

describe('cache model (Che approximation with TTL)', () => {
  const lru = new CacheModel({ keys: 1_000_000, zipfExponent: 0.9, bytesPerKey: 1000, ttlSeconds: 0 });

  test.prop([fc.integer({ min: 16, max: 2048 }), fc.integer({ min: 1, max: 512 })])(
    'more memory never lowers the hit rate, and used memory stays within maxmemory',
    (mib, extra) => {
      const small = lru.state(2000, mib * MIB);
      const big = lru.state(2000, (mib + extra) * MIB);
      expect(big.hitRate).toBeGreaterThanOrEqual(small.hitRate - 1e-9);
      expect(small.usedMemoryBytes).toBeLessThanOrEqual(mib * MIB * (1 + 1e-6));
    },
  );

  it('holds every key without evictions when everything fits and nothing expires', () => {
    const state = lru.state(2000, 2000 * MIB);
    expect(state.hitRate).toBeCloseTo(1, 6);
    expect(state.evictedKeysPerSecond).toBe(0);
  });

  it('a short TTL caps the hit rate whatever the memory, and its misses show as expirations', () => {
    const ttl = new CacheModel({ keys: 1_000_000, zipfExponent: 0.9, bytesPerKey: 1000, ttlSeconds: 60 });
    const a = ttl.state(2000, 512 * MIB);
    const b = ttl.state(2000, 4096 * MIB);
    expect(b.hitRate).toBeCloseTo(a.hitRate, 6);
    expect(a.hitRate).toBeLessThan(0.85);
    expect(a.evictedKeysPerSecond).toBe(0);
    expect(a.expiredKeysPerSecond).toBeGreaterThan(0);
  });

  it('a hot single key under pure LRU is always a hit', () => {
    const one = new CacheModel({ keys: 1, zipfExponent: 1, bytesPerKey: 100, ttlSeconds: 0 });
    expect(one.state(100, MIB).hitRate).toBeCloseTo(1);
  });
});

describe('Redis memory per key (jemalloc size classes)', () => {
  it.each([
    [1, 8],
    [8, 8],
    [9, 16],
    [24, 32],
    [128, 128],
    [129, 160],
    [518, 640],
    [1030, 1280],
    [2054, 2560],
    [4102, 5120],
    [16_385, 20_480],
  ])('a request of %i B takes %i B', (bytes, size) => {
    expect(jemallocSizeClass(bytes)).toBe(size);
  });

  // Bytes a key takes beside its hash-table slots; measured on redis-server 7.0 (jemalloc 5.3) as
  // (used_memory − empty server) / keys − table slots: see `npm run bench -- calibration`.
  it.each<[string, RedisKeyShape, number]>([
    ['1 KiB value, short key', { keyBytes: 10, valueBytes: 1024, withTtl: false }, 32 + 16 + 16 + 1280],
    ['512 B value', { keyBytes: 10, valueBytes: 512, withTtl: false }, 32 + 16 + 16 + 640],
    ['2 KiB value', { keyBytes: 10, valueBytes: 2048, withTtl: false }, 32 + 16 + 16 + 2560],
    ['32 B value, stored embstr', { keyBytes: 10, valueBytes: 32, withTtl: false }, 32 + 16 + 64],
    [
      '1 KiB value with a TTL: an entry in expires too',
      { keyBytes: 10, valueBytes: 1024, withTtl: true },
      1376,
    ],
    [
      'a 40-byte key needs an sdshdr8',
      { keyBytes: 40, valueBytes: 1024, withTtl: false },
      32 + 48 + 16 + 1280,
    ],
  ])('%s', (_name, shape, bytes) => {
    expect(redisBytesPerKey(shape)).toBe(bytes);
  });

  it('used memory counts the empty server and a power-of-two hash table beside the keys', () => {
    const fits = new CacheModel({
      keys: 5000,
      zipfExponent: 0.9,
      bytesPerKey: 1344,
      ttlSeconds: 0,
      fixedBytes: 1_000_000,
    });
    const state = fits.state(1000, 64 * MIB);
    expect(state.residentKeys).toBeCloseTo(5000, 6);
    expect(state.usedMemoryBytes).toBeCloseTo(1_000_000 + 5000 * 1344 + 8 * 8192, 3);
  });
});

describe('sampled LRU (eviction age Gamma-distributed around Che’s T)', () => {
  const population = { keys: 200_000, zipfExponent: 0.9, bytesPerKey: 1344, ttlSeconds: 0 };
  const hitRate = (evictionShape: number) =>
    new CacheModel({ ...population, evictionShape }).state(5000, 64 * MIB).hitRate;

  it('sits between random eviction and exact LRU, closer to LRU as the shape grows', () => {
    const rates = [1, 2, REDIS_SAMPLED_LRU_SHAPE, 50, Number.POSITIVE_INFINITY].map(hitRate);
    expect(rates).toEqual([...rates].sort((a, b) => a - b));
    expect(hitRate(Number.POSITIVE_INFINITY) - hitRate(1)).toBeGreaterThan(0.03);
  });

  it('changes nothing when every key fits', () => {
    const big = (evictionShape: number) =>
      new CacheModel({ ...population, evictionShape }).state(5000, 4096 * MIB).hitRate;
    expect(big(REDIS_SAMPLED_LRU_SHAPE)).toBe(big(Number.POSITIVE_INFINITY));
  });
});

describe('expired keys that linger', () => {
  it('take memory beside the live keys, and DBSIZE counts them', () => {
    const base = { keys: 5000, zipfExponent: 0.9, bytesPerKey: 1376, ttlSeconds: 5 };
    const none = new CacheModel({ ...base, expiredResidentShare: 0 }).state(2000, 64 * MIB);
    const some = new CacheModel(base).state(2000, 64 * MIB);
    expect(some.hitRate).toBeCloseTo(none.hitRate, 9);
    expect(some.residentKeys).toBeCloseTo(none.residentKeys / (1 - REDIS_EXPIRED_RESIDENT_SHARE), 6);
    expect(some.usedMemoryBytes).toBeGreaterThan(none.usedMemoryBytes);
  });

  it('leave less room for live keys when memory binds, so the hit rate drops', () => {
    const base = { keys: 50_000, zipfExponent: 0.99, bytesPerKey: 1376, ttlSeconds: 10 };
    const none = new CacheModel({ ...base, expiredResidentShare: 0 }).state(8000, 16 * MIB);
    const some = new CacheModel(base).state(8000, 16 * MIB);
    expect(some.hitRate).toBeLessThan(none.hitRate);
  });
});

describe('the LRU clock (idle times in whole seconds)', () => {
  it('leaves the shape as it is for long key lives and tends to random eviction for short ones', () => {
    const spread = REDIS_LRU_CLOCK_SPREAD_SECONDS;
    expect(effectiveEvictionShape(8, 600, spread)).toBeCloseTo(8, 1);
    expect(effectiveEvictionShape(8, 0.01, spread)).toBeCloseTo(1, 2);
    const shapes = [0.25, 0.5, 1, 2, 4, 8, 60].map((t) => effectiveEvictionShape(8, t, spread));
    expect(shapes).toEqual([...shapes].sort((a, b) => a - b));
    expect(effectiveEvictionShape(8, 1, 0)).toBe(8);
  });

  // 20,000 keys of 4 KiB in 16 MiB hold about 3,000: at 60 lookups/s a key lives about a
  // minute after its last use, at 10,000 a fraction of a second.
  const population = { keys: 20_000, zipfExponent: 0.7, bytesPerKey: 5_200, ttlSeconds: 0 };

  it('lowers the hit rate of a cache whose keys live about a second, not of one whose keys live minutes', () => {
    const clocked = new CacheModel(population);
    const exact = new CacheModel({ ...population, lruClockSpreadSeconds: 0 });
    const slow = clocked.state(60, 16 * MIB).hitRate;
    const fast = clocked.state(10_000, 16 * MIB).hitRate;
    expect(Math.abs(slow - exact.state(60, 16 * MIB).hitRate)).toBeLessThan(0.001);
    expect(exact.state(10_000, 16 * MIB).hitRate - fast).toBeGreaterThan(0.01);
  });

  it('is the only thing that makes the hit rate depend on the rate when nothing expires', () => {
    const exact = new CacheModel({ ...population, lruClockSpreadSeconds: 0 });
    expect(exact.state(10_000, 16 * MIB).hitRate).toBeCloseTo(exact.state(60, 16 * MIB).hitRate, 3);
  });
});
