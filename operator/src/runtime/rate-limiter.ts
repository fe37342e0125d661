/**
 * Rate limiters for the workqueue's `addRateLimited`: how long a failing key waits before its
 * next attempt. The default is the maximum of a per-key exponential backoff (a poison object
 * backs off alone) and a global token bucket (many failing objects cannot flood the API server).
 */
import { type Clock, systemClock } from './clock.ts';

/** RateLimiter decides the delay of a key's next retry. */
export interface RateLimiter {
  /** whenMs records a retry of `key` and returns how long it must wait. */
  whenMs(key: string): number;
  /** forget clears the key's failure history (after a success). */
  forget(key: string): void;
  /** numRequeues is how many retries of `key` were recorded since it was last forgotten. */
  numRequeues(key: string): number;
}

/** Options of ExponentialFailureRateLimiter. */
export interface ExponentialFailureRateLimiterOptions {
  /** baseDelayMs is the first retry's delay. @default 5 */
  readonly baseDelayMs?: number;
  /** maxDelayMs caps the delay. @default 1000000 (1000 s) */
  readonly maxDelayMs?: number;
}

/** ExponentialFailureRateLimiter doubles a key's delay with each retry: base·2^n, capped. */
export class ExponentialFailureRateLimiter implements RateLimiter {
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #failures = new Map<string, number>();

  constructor(options: ExponentialFailureRateLimiterOptions = {}) {
    this.#baseDelayMs = options.baseDelayMs ?? 5;
    this.#maxDelayMs = options.maxDelayMs ?? 1_000_000;
  }

  whenMs(key: string): number {
    const failures = this.#failures.get(key) ?? 0;
    this.#failures.set(key, failures + 1);
    // 2^failures overflows to Infinity long after the cap is reached; min() keeps it finite.
    return Math.min(this.#maxDelayMs, this.#baseDelayMs * 2 ** failures);
  }

  forget(key: string): void {
    this.#failures.delete(key);
  }

  numRequeues(key: string): number {
    return this.#failures.get(key) ?? 0;
  }
}

/** Options of TokenBucketRateLimiter. */
export interface TokenBucketRateLimiterOptions {
  /** ratePerSecond is how many tokens the bucket regains per second. @default 10 */
  readonly ratePerSecond?: number;
  /** burst is the bucket's size: this many retries may go at once. @default 100 */
  readonly burst?: number;
  /** clock reads the time. @default systemClock */
  readonly clock?: Clock;
}

/**
 * TokenBucketRateLimiter shares one bucket among all keys. Each retry reserves a token; when the
 * bucket is empty the reservation is still taken and the retry waits until its token is due,
 * so the rate holds however many retries arrive together.
 */
export class TokenBucketRateLimiter implements RateLimiter {
  readonly #ratePerMs: number;
  readonly #burst: number;
  readonly #clock: Clock;
  #tokens: number;
  #updatedAt: number;

  constructor(options: TokenBucketRateLimiterOptions = {}) {
    const ratePerSecond = options.ratePerSecond ?? 10;
    if (ratePerSecond <= 0) throw new Error(`token bucket: ratePerSecond must be > 0, got ${ratePerSecond}`);
    this.#ratePerMs = ratePerSecond / 1000;
    this.#burst = options.burst ?? 100;
    this.#clock = options.clock ?? systemClock;
    this.#tokens = this.#burst;
    this.#updatedAt = this.#clock.now();
  }

  whenMs(_key: string): number {
    const now = this.#clock.now();
    this.#tokens = Math.min(this.#burst, this.#tokens + (now - this.#updatedAt) * this.#ratePerMs);
    this.#updatedAt = now;
    this.#tokens -= 1;
    return this.#tokens >= 0 ? 0 : -this.#tokens / this.#ratePerMs;
  }

  forget(_key: string): void {}

  numRequeues(_key: string): number {
    return 0;
  }
}

/** MaxOfRateLimiter asks every limiter and waits for the longest delay. */
export class MaxOfRateLimiter implements RateLimiter {
  readonly #limiters: readonly RateLimiter[];

  constructor(...limiters: RateLimiter[]) {
    if (limiters.length === 0) throw new Error('MaxOfRateLimiter needs at least one limiter');
    this.#limiters = limiters;
  }

  whenMs(key: string): number {
    return Math.max(...this.#limiters.map((limiter) => limiter.whenMs(key)));
  }

  forget(key: string): void {
    for (const limiter of this.#limiters) limiter.forget(key);
  }

  numRequeues(key: string): number {
    return Math.max(...this.#limiters.map((limiter) => limiter.numRequeues(key)));
  }
}

/**
 * defaultControllerRateLimiter is the maximum of a per-key exponential backoff (5 ms → 1000 s)
 * and a global token bucket (10/s, burst 100), as in controller-runtime.
 */
export function defaultControllerRateLimiter(clock: Clock = systemClock): RateLimiter {
  return new MaxOfRateLimiter(new ExponentialFailureRateLimiter(), new TokenBucketRateLimiter({ clock }));
}
