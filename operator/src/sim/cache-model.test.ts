import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { CacheModel } from './cache-model.ts';

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
