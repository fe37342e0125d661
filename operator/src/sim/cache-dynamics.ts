/**
 * The cache over a run, around the steady-state {@link CacheModel}: a key universe that grows
 * with load (one model per key count, in 2 % steps) and the warm-up after the universe is
 * replaced. After a replacement every cached key is dead; each miss inserts a live key and, while
 * memory is full, LRU evicts a dead one (they are never requested again, so they are the least
 * recently used). A cache holding U bytes of live keys serves like a cache of size U (the keys
 * requested first, the popular ones, are the ones it holds), so the hit rate is the model's at
 * memory U, and U grows by the misses' insertions less the live keys' TTL expiries until it
 * reaches the steady state's use. Redis sees evictions (of dead keys) throughout.
 */
import { CacheModel, type CacheState } from './cache-model.ts';
import { loadAt, type Scenario } from './scenario.ts';

/** Key counts are rounded to steps of this ratio from the scenario's `keys`, so a growing universe reuses models. */
const KEY_COUNT_STEP = 1.02;
/** Live-key memory is rounded to steps of this ratio while warming, for the model's memo. */
const WARM_MEMORY_STEP = 1.01;
/** Warm-up ends when live keys fill this share of what the steady state uses. */
const WARM_ENOUGH = 0.99;

/** Memory of dead and live keys while the cache warms after a replacement. */
interface WarmUp {
  liveBytes: number;
  deadBytes: number;
}

/** The cache of one run: ask it for each tick's state, in time order. */
export class CacheDynamics {
  readonly #scenario: Scenario;
  readonly #bytesPerKey: number;
  readonly #models = new Map<number, CacheModel>();
  readonly #replacements: number[];
  #warmUp: WarmUp | undefined;
  #lastUsedBytes = 0;

  /** `bytesPerKey`: the memory one cached key takes, value and Redis's overhead. */
  constructor(scenario: Scenario, bytesPerKey: number) {
    this.#scenario = scenario;
    this.#bytesPerKey = bytesPerKey;
    this.#replacements = [...scenario.redis.universeReplacedAtMinutes];
  }

  /** The steady-state model for the key universe at a minute (it grows with the load curve). */
  #modelAt(minute: number): CacheModel {
    const { redis, load } = this.#scenario;
    let step = 0;
    if (redis.keysLoadExponent > 0) {
      const first = Math.max(loadAt(load.points, 0), 1e-9);
      const keys = redis.keys * (loadAt(load.points, minute) / first) ** redis.keysLoadExponent;
      step = Math.round(Math.log(Math.max(1, keys) / redis.keys) / Math.log(KEY_COUNT_STEP));
    }
    let model = this.#models.get(step);
    if (!model) {
      model = new CacheModel({
        keys: Math.max(1, Math.round(redis.keys * KEY_COUNT_STEP ** step)),
        zipfExponent: redis.zipfExponent,
        bytesPerKey: this.#bytesPerKey,
        ttlSeconds: redis.ttlSeconds,
      });
      this.#models.set(step, model);
    }
    return model;
  }

  /** The steady state at a minute, without warm-up (for the run's starting point). */
  steadyState(minute: number, requestsPerSecond: number, maxMemoryBytes: number): CacheState {
    return this.#modelAt(minute).state(requestsPerSecond, maxMemoryBytes);
  }

  /** The cache during the tick that starts at `minute` and lasts `seconds`. */
  tick(minute: number, seconds: number, requestsPerSecond: number, maxMemoryBytes: number): CacheState {
    const model = this.#modelAt(minute);
    const steady = model.state(requestsPerSecond, maxMemoryBytes);
    if (this.#replacements.length > 0 && minute >= (this.#replacements[0] as number)) {
      this.#replacements.shift();
      this.#warmUp = { liveBytes: 0, deadBytes: Math.min(this.#lastUsedBytes, maxMemoryBytes) };
    }
    const warm = this.#warmUp;
    if (!warm) {
      this.#lastUsedBytes = steady.usedMemoryBytes;
      return steady;
    }
    // A smaller maxmemory evicts dead keys first, then live ones.
    warm.deadBytes = Math.min(warm.deadBytes, maxMemoryBytes);
    warm.liveBytes = Math.min(warm.liveBytes, maxMemoryBytes - warm.deadBytes);
    if (warm.liveBytes >= WARM_ENOUGH * steady.usedMemoryBytes) {
      this.#warmUp = undefined;
      this.#lastUsedBytes = steady.usedMemoryBytes;
      return steady;
    }
    const step = Math.round(
      Math.log(Math.max(warm.liveBytes, this.#bytesPerKey)) / Math.log(WARM_MEMORY_STEP),
    );
    const asIfThisSmall = model.state(requestsPerSecond, WARM_MEMORY_STEP ** step);
    const insertedKeys = requestsPerSecond * (1 - asIfThisSmall.hitRate);
    const insertedBytes = insertedKeys * this.#bytesPerKey * seconds;
    const expiredBytes = asIfThisSmall.expiredKeysPerSecond * this.#bytesPerKey * seconds;
    const free = Math.max(0, maxMemoryBytes - warm.deadBytes - warm.liveBytes);
    const evictedBytes = Math.min(warm.deadBytes, Math.max(0, insertedBytes - expiredBytes - free));
    warm.deadBytes -= evictedBytes;
    warm.liveBytes = Math.min(
      Math.max(0, warm.liveBytes + insertedBytes - expiredBytes),
      maxMemoryBytes - warm.deadBytes,
    );
    const used = warm.liveBytes + warm.deadBytes;
    this.#lastUsedBytes = used;
    return {
      residentKeys: used / this.#bytesPerKey,
      hitRate: asIfThisSmall.hitRate,
      usedMemoryBytes: used,
      evictedKeysPerSecond: evictedBytes / this.#bytesPerKey / seconds,
      expiredKeysPerSecond: asIfThisSmall.expiredKeysPerSecond,
    };
  }
}
