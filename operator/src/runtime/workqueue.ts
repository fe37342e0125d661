/**
 * A per-key deduplicating workqueue, as in client-go: a key waits at most once, is handed to one
 * worker at a time, and a key added again while a worker holds it is queued once more when the
 * worker calls `done()`. Delayed and rate-limited adds sit in timers until they are due.
 */
import type { RuntimeMetrics } from '../telemetry/metrics.ts';
import { type Clock, systemClock, type TimerHandle } from './clock.ts';
import { defaultControllerRateLimiter, type RateLimiter } from './rate-limiter.ts';

/** Options of WorkQueue. */
export interface WorkQueueOptions {
  /** name labels the queue's metrics. @default "perfpilot" */
  readonly name?: string;
  /** clock reads the time and runs the timers of delayed adds. @default systemClock */
  readonly clock?: Clock;
  /** rateLimiter chooses the delay of `addRateLimited`. @default defaultControllerRateLimiter(clock) */
  readonly rateLimiter?: RateLimiter;
  /** metrics receive depth, adds, queue latency and retries. @default none */
  readonly metrics?: RuntimeMetrics;
}

/** WorkQueue holds keys (`namespace/name`) waiting to be reconciled. */
export class WorkQueue {
  readonly #name: string;
  readonly #clock: Clock;
  readonly #rateLimiter: RateLimiter;
  readonly #metrics: RuntimeMetrics | undefined;
  /** Keys ready for a worker, in order. */
  readonly #ready: string[] = [];
  /** Keys that need processing (ready, or re-added while processing), with the time they were added. */
  readonly #dirty = new Map<string, number>();
  /** Keys a worker holds. */
  readonly #processing = new Set<string>();
  /** Delayed adds: the earliest due time per key and its timer. */
  readonly #waiting = new Map<string, { dueAt: number; timer: TimerHandle }>();
  /** Workers blocked in get(). */
  readonly #getters: Array<(key: string | undefined) => void> = [];
  #shuttingDown = false;

  constructor(options: WorkQueueOptions = {}) {
    this.#name = options.name ?? 'perfpilot';
    this.#clock = options.clock ?? systemClock;
    this.#rateLimiter = options.rateLimiter ?? defaultControllerRateLimiter(this.#clock);
    this.#metrics = options.metrics;
  }

  /** add queues `key` unless it is already waiting; ignored after shutDown. */
  add(key: string): void {
    if (this.#shuttingDown || this.#dirty.has(key)) return;
    this.#dirty.set(key, this.#clock.now());
    this.#metrics?.workqueueAdds.inc({ name: this.#name });
    // A key being processed is queued again by done(), never handed to a second worker.
    if (this.#processing.has(key)) return;
    this.#ready.push(key);
    this.#updateDepth();
    this.#handOut();
  }

  /** addAfter queues `key` once `delayMs` has passed; of several pending delays the earliest wins. */
  addAfter(key: string, delayMs: number): void {
    if (this.#shuttingDown) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const dueAt = this.#clock.now() + delayMs;
    const pending = this.#waiting.get(key);
    if (pending !== undefined) {
      if (pending.dueAt <= dueAt) return;
      this.#clock.clearTimeout(pending.timer);
    }
    const timer = this.#clock.setTimeout(() => {
      this.#waiting.delete(key);
      this.add(key);
    }, delayMs);
    this.#waiting.set(key, { dueAt, timer });
  }

  /** addRateLimited queues `key` after the rate limiter's delay and counts a retry. */
  addRateLimited(key: string): void {
    if (this.#shuttingDown) return;
    this.#metrics?.workqueueRetries.inc({ name: this.#name });
    this.addAfter(key, this.#rateLimiter.whenMs(key));
  }

  /** forget clears the key's retry history, so its next failure backs off from the start. */
  forget(key: string): void {
    this.#rateLimiter.forget(key);
  }

  /** numRequeues is how many rate-limited retries `key` had since it was last forgotten. */
  numRequeues(key: string): number {
    return this.#rateLimiter.numRequeues(key);
  }

  /**
   * get waits for the next key and marks it as processing; the caller must call `done(key)`.
   * Resolves to undefined once the queue is shut down.
   */
  get(): Promise<string | undefined> {
    if (this.#shuttingDown) return Promise.resolve(undefined);
    const key = this.#take();
    if (key !== undefined) return Promise.resolve(key);
    return new Promise((resolve) => this.#getters.push(resolve));
  }

  /** done releases `key`; if it was added again meanwhile, it is queued now. */
  done(key: string): void {
    this.#processing.delete(key);
    if (this.#dirty.has(key) && !this.#shuttingDown) {
      this.#ready.push(key);
      this.#updateDepth();
      this.#handOut();
    }
  }

  /** len is the number of keys ready for a worker (not counting delayed or processing keys). */
  len(): number {
    return this.#ready.length;
  }

  /** isShuttingDown tells whether shutDown was called. */
  isShuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /**
   * shutDown stops the queue: adds are ignored, delayed adds are cancelled, waiting keys are
   * dropped and every pending and future get() resolves to undefined.
   */
  shutDown(): void {
    if (this.#shuttingDown) return;
    this.#shuttingDown = true;
    for (const { timer } of this.#waiting.values()) this.#clock.clearTimeout(timer);
    this.#waiting.clear();
    this.#ready.length = 0;
    this.#updateDepth();
    for (const resolve of this.#getters.splice(0)) resolve(undefined);
  }

  #take(): string | undefined {
    const key = this.#ready.shift();
    if (key === undefined) return undefined;
    const addedAt = this.#dirty.get(key) ?? this.#clock.now();
    this.#dirty.delete(key);
    this.#processing.add(key);
    this.#updateDepth();
    this.#metrics?.workqueueQueueLatency.observe({ name: this.#name }, (this.#clock.now() - addedAt) / 1000);
    return key;
  }

  #handOut(): void {
    while (this.#getters.length > 0 && this.#ready.length > 0) {
      const resolve = this.#getters.shift();
      resolve?.(this.#take());
    }
  }

  #updateDepth(): void {
    this.#metrics?.workqueueDepth.set({ name: this.#name }, this.#ready.length);
  }
}
