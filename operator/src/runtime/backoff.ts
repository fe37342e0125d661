/**
 * Reconnect backoff for watches and lists: exponential with jitter, and forgiven once the
 * connection has been healthy for a while, so one failure a day never waits 30 s.
 */
import { type Clock, systemClock } from './clock.ts';

/** Options of Backoff. */
export interface BackoffOptions {
  /** initialMs is the first delay. @default 800 */
  readonly initialMs?: number;
  /** maxMs caps the delay. @default 30000 */
  readonly maxMs?: number;
  /** factor multiplies the delay after each failure. @default 2 */
  readonly factor?: number;
  /**
   * jitter is the fraction by which a delay may be shortened at random, so that many clients
   * cut off together do not reconnect in lockstep: a delay d becomes a value in (d·(1−jitter), d].
   * @default 0.2
   */
  readonly jitter?: number;
  /** resetAfterMs: a failure this long after the previous one starts again from initialMs. @default 120000 */
  readonly resetAfterMs?: number;
  /** clock reads the time. @default systemClock */
  readonly clock?: Clock;
  /** random returns a number in [0, 1). @default Math.random */
  readonly random?: () => number;
}

/** Backoff computes the delay before the next attempt after a failure. */
export class Backoff {
  readonly #initialMs: number;
  readonly #maxMs: number;
  readonly #factor: number;
  readonly #jitter: number;
  readonly #resetAfterMs: number;
  readonly #clock: Clock;
  readonly #random: () => number;
  #failures = 0;
  #lastFailureAt: number | undefined;

  constructor(options: BackoffOptions = {}) {
    this.#initialMs = options.initialMs ?? 800;
    this.#maxMs = options.maxMs ?? 30_000;
    this.#factor = options.factor ?? 2;
    this.#jitter = options.jitter ?? 0.2;
    this.#resetAfterMs = options.resetAfterMs ?? 120_000;
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
    if (this.#initialMs <= 0 || this.#maxMs < this.#initialMs) {
      throw new Error(`backoff: need 0 < initialMs ≤ maxMs, got ${this.#initialMs} and ${this.#maxMs}`);
    }
    if (this.#jitter < 0 || this.#jitter >= 1)
      throw new Error(`backoff: jitter must be in [0, 1), got ${this.#jitter}`);
  }

  /** nextDelayMs records a failure and returns how long to wait before trying again. */
  nextDelayMs(): number {
    const now = this.#clock.now();
    if (this.#lastFailureAt !== undefined && now - this.#lastFailureAt >= this.#resetAfterMs)
      this.#failures = 0;
    this.#lastFailureAt = now;
    const base = Math.min(this.#maxMs, this.#initialMs * this.#factor ** this.#failures);
    this.#failures++;
    return base * (1 - this.#jitter * this.#random());
  }

  /** reset forgets past failures: the next delay is initialMs again. */
  reset(): void {
    this.#failures = 0;
    this.#lastFailureAt = undefined;
  }
}
