import { describe, expect, it } from 'vitest';
import { SEED_STATIC_KNOBS, seedRulePoolSize } from './seed-baselines.ts';

describe('seed baselines', () => {
  it.each<[number, number]>([
    [0, 5],
    [0.29, 5],
    [0.3, 10], // not < 0.3
    [0.5, 10],
    [0.8, 10], // not > 0.8
    [0.81, 20], // min(10 × 2, 50)
    [5, 20],
  ])('DynamicConnectionPool at load %d returns %d, as the guide writes it', (load, size) => {
    expect(seedRulePoolSize(load)).toBe(size);
  });

  it('seed-static carries the guide values: pool 20 + overflow 30, maxmemory 512mb', () => {
    expect(SEED_STATIC_KNOBS).toMatchObject({ poolSize: 20, maxOverflow: 30, redisMaxmemoryMiB: 512 });
  });
});
