import { describe, expect, it } from 'vitest';
import { ManualClock } from './clock.ts';
import {
  defaultControllerRateLimiter,
  ExponentialFailureRateLimiter,
  TokenBucketRateLimiter,
} from './rate-limiter.ts';

describe('ExponentialFailureRateLimiter', () => {
  it('doubles per key from 5 ms and caps at 1000 s', () => {
    const limiter = new ExponentialFailureRateLimiter();
    const delays = Array.from({ length: 30 }, () => limiter.whenMs('a'));
    expect(delays.slice(0, 5)).toEqual([5, 10, 20, 40, 80]);
    expect(delays[17]).toBe(5 * 2 ** 17);
    expect(delays[18]).toBe(1_000_000);
    expect(delays.at(-1)).toBe(1_000_000);
    expect(limiter.numRequeues('a')).toBe(30);
  });

  it('keeps keys apart and forgets a key on request', () => {
    const limiter = new ExponentialFailureRateLimiter();
    limiter.whenMs('poison');
    limiter.whenMs('poison');
    expect(limiter.whenMs('other')).toBe(5);
    limiter.forget('poison');
    expect(limiter.numRequeues('poison')).toBe(0);
    expect(limiter.whenMs('poison')).toBe(5);
  });

  it('stays finite after thousands of failures', () => {
    const limiter = new ExponentialFailureRateLimiter();
    for (let i = 0; i < 5000; i++) limiter.whenMs('a');
    expect(limiter.whenMs('a')).toBe(1_000_000);
  });
});

describe('TokenBucketRateLimiter', () => {
  it('lets a burst of 100 through at once, then spaces retries 100 ms apart', () => {
    const clock = new ManualClock();
    const limiter = new TokenBucketRateLimiter({ clock });
    const burst = Array.from({ length: 100 }, (_, i) => limiter.whenMs(`k${i}`));
    expect(burst.every((delay) => delay === 0)).toBe(true);
    expect(limiter.whenMs('k100')).toBeCloseTo(100, 6);
    expect(limiter.whenMs('k101')).toBeCloseTo(200, 6);
  });

  it('refills at 10 tokens per second up to the burst', () => {
    const clock = new ManualClock();
    const limiter = new TokenBucketRateLimiter({ clock, burst: 2 });
    limiter.whenMs('a');
    limiter.whenMs('a');
    expect(limiter.whenMs('a')).toBeCloseTo(100, 6);
    clock.advance(60_000);
    expect([limiter.whenMs('a'), limiter.whenMs('a'), limiter.whenMs('a')]).toEqual([0, 0, 100]);
  });
});

describe('defaultControllerRateLimiter', () => {
  it('is the larger of the per-key backoff and the global bucket', () => {
    const clock = new ManualClock();
    const limiter = defaultControllerRateLimiter(clock);
    // 100 distinct keys drain the bucket; each key's own backoff is only 5 ms.
    for (let i = 0; i < 100; i++) expect(limiter.whenMs(`k${i}`)).toBe(5);
    expect(limiter.whenMs('k100')).toBeCloseTo(100, 6);
    clock.advance(1_000_000);
    // The bucket is full again; one key failing repeatedly is held back by its own backoff.
    const delays = Array.from({ length: 6 }, () => limiter.whenMs('poison'));
    expect(delays).toEqual([5, 10, 20, 40, 80, 160]);
    expect(limiter.numRequeues('poison')).toBe(6);
  });
});
