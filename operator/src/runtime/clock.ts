/**
 * Time for the runtime, injected so that queues, rate limiters, backoff, informers, leader
 * election, the controller loop and Events can be tested with a clock that only moves when a test
 * says so. I/O timeouts (a request that hangs) stay on real time: they bound the network, not the
 * schedule.
 */

/** TimerHandle identifies a timer started by a Clock. */
export type TimerHandle = { readonly id: number } | ReturnType<typeof setTimeout>;

/** Clock reads the time in milliseconds and starts and cancels timers. */
export interface Clock {
  /** now is the current time in milliseconds (only differences matter). */
  now(): number;
  /** date is the wall-clock time, for timestamps written to the API (Events, Lease renewals). */
  date(): Date;
  /** setTimeout runs `callback` once after `delayMs`. */
  setTimeout(callback: () => void, delayMs: number): TimerHandle;
  /** clearTimeout cancels a timer; cancelling a finished timer does nothing. */
  clearTimeout(handle: TimerHandle): void;
}

/**
 * systemClock is the process's monotonic clock and Node's timers. Its timers do not keep the
 * process alive on their own (the operator's HTTP server and watches do), so a forgotten retry
 * never holds up an exit.
 */
export const systemClock: Clock = {
  now: () => performance.now(),
  date: () => new Date(),
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs).unref(),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/**
 * ManualClock is a Clock for tests: time stands still until `advance()` moves it and runs the
 * timers that fall due, in order of their due time.
 */
export class ManualClock implements Clock {
  #now: number;
  #nextId = 1;
  readonly #timers = new Map<number, { dueAt: number; callback: () => void }>();

  /** @param startMs the time the clock shows at first, also as milliseconds since the epoch for date(). @default 0 */
  constructor(startMs = 0) {
    this.#now = startMs;
  }

  /** now is the clock's current time. */
  now(): number {
    return this.#now;
  }

  /** date is now() as a Date. */
  date(): Date {
    return new Date(this.#now);
  }

  /** setTimeout registers a timer that runs when `advance()` reaches its due time. */
  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const id = this.#nextId++;
    this.#timers.set(id, { dueAt: this.#now + Math.max(0, delayMs), callback });
    return { id };
  }

  /** clearTimeout removes a pending timer. */
  clearTimeout(handle: TimerHandle): void {
    if (typeof handle === 'object' && handle !== null && 'id' in handle) this.#timers.delete(handle.id);
  }

  /** pendingTimers is the number of timers not yet run. */
  pendingTimers(): number {
    return this.#timers.size;
  }

  /** advance moves time forward by `ms`, running every timer due on the way at its due time. */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      let next: [number, { dueAt: number; callback: () => void }] | undefined;
      for (const entry of this.#timers) {
        if (entry[1].dueAt <= target && (next === undefined || entry[1].dueAt < next[1].dueAt)) next = entry;
      }
      if (next === undefined) break;
      this.#timers.delete(next[0]);
      this.#now = next[1].dueAt;
      next[1].callback();
    }
    this.#now = target;
  }
}
