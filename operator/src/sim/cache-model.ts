/**
 * Steady-state model of a Redis cache under `allkeys-lru` with a TTL set at insertion, for keys
 * whose popularity follows a Zipf law. Che's approximation (Che, Tung, Wang 2002; justified by
 * Fricker, Robert, Roberts 2012) gives LRU a characteristic time T: a key stays cached while it
 * is requested at least once every T. With a TTL τ a cached key also leaves τ after insertion.
 * For a key requested at Poisson rate λ, each insertion is followed by E = min(λτ, e^{λT} − 1)
 * hits on average (gaps shorter than T, until the TTL), so its hit probability is E / (1 + E);
 * by PASTA this is also the share of time it is resident, which gives memory use. T solves
 * Σ keys · size · h(T) = maxmemory, or is infinite when everything fits. Redis's sampled LRU and
 * its whole-second LRU clock blur the eviction age around T (evictionShape, lruClockSpreadSeconds).
 */

/** What the cache serves at a request rate and memory size. */
export interface CacheState {
  /** residentKeys: keys in the cache on average (what DBSIZE counts, expired ones included). */
  readonly residentKeys: number;
  /** hitRate: share of lookups that hit. */
  readonly hitRate: number;
  /** usedMemoryBytes: memory the resident keys take. */
  readonly usedMemoryBytes: number;
  /** evictedKeysPerSecond: keys leaving by LRU eviction. */
  readonly evictedKeysPerSecond: number;
  /** expiredKeysPerSecond: keys leaving by TTL expiry. */
  readonly expiredKeysPerSecond: number;
}

/** The key population of a scenario. */
export interface KeyPopulation {
  /** keys: distinct keys requested. */
  readonly keys: number;
  /** zipfExponent: popularity skew s, rank k is requested ∝ k^-s. */
  readonly zipfExponent: number;
  /** bytesPerKey: memory one cached key takes besides its hash-table slots (see redisBytesPerKey). */
  readonly bytesPerKey: number;
  /** ttlSeconds: TTL set at insertion; 0 means none. */
  readonly ttlSeconds: number;
  /** fixedBytes: used_memory of the empty server, which counts against maxmemory too. @default 0 */
  readonly fixedBytes?: number;
  /**
   * hashTables: tables that hold an 8-byte slot per key (the keyspace, and `expires` when keys
   * have a TTL); Redis sizes each to the next power of two of its keys.
   * @default 2 with a TTL, else 1
   */
  readonly hashTables?: number;
  /**
   * evictionShape: how sharply eviction follows recency. Redis evicts the idlest of a few sampled
   * keys, not the idlest key, so a key's time to eviction is modelled as Gamma-distributed with
   * this shape around Che's T: 1 is random eviction, ∞ exact LRU.
   * @default REDIS_SAMPLED_LRU_SHAPE
   */
  readonly evictionShape?: number;
  /**
   * lruClockSpreadSeconds: how far Redis's whole-second LRU clock blurs the age at which keys are
   * evicted (see effectiveEvictionShape); 0 for an exact clock.
   * @default REDIS_LRU_CLOCK_SPREAD_SECONDS
   */
  readonly lruClockSpreadSeconds?: number;
  /**
   * expiredResidentShare: share of resident keys that have expired and are not yet deleted
   * (only with a TTL). @default REDIS_EXPIRED_RESIDENT_SHARE
   */
  readonly expiredResidentShare?: number;
}

/**
 * Shape of the eviction-age law that stands for Redis's sampled LRU (`maxmemory-samples 5`, an
 * eviction pool of 16, a 1 s LRU clock). Fitted to a real redis-server: see
 * `docs/simulator.md#cache-redis-server`, for the command and the table.
 */
export const REDIS_SAMPLED_LRU_SHAPE = 8;

/**
 * Spread in seconds that Redis's LRU clock adds to a key's age at eviction. Redis stamps a key's
 * last use in whole seconds, so keys used within the same second look equally idle and the
 * sampled candidates' idle times are off by up to a second each way. Against a key life of
 * minutes that is nothing; against a life of half a second eviction is close to random.
 * Fitted to a real redis-server: see `docs/simulator.md#cache-redis-server`.
 */
export const REDIS_LRU_CLOCK_SPREAD_SECONDS = 0.75;

/**
 * The eviction shape once the LRU clock's spread is added, for a cache whose keys live
 * `characteristicSeconds` after their last use. The shape k gives the eviction age a squared
 * coefficient of variation of 1/k; the clock adds (spread / T)² to it, saturating at 1 (random
 * eviction, k = 1: no worse than picking a key at random):
 * 1/k' = 1/k + (1 − 1/k) · x / (1 + x), x = (spread / T)².
 */
export function effectiveEvictionShape(
  shape: number,
  characteristicSeconds: number,
  spreadSeconds: number,
): number {
  if (spreadSeconds <= 0 || characteristicSeconds === Number.POSITIVE_INFINITY) return shape;
  const x = (spreadSeconds / characteristicSeconds) ** 2;
  const intrinsic = 1 / shape;
  return 1 / (intrinsic + ((1 - intrinsic) * x) / (1 + x));
}

/**
 * Share of the resident keys with a TTL that have expired but are still in memory: Redis deletes
 * an expired key when it is next read or when its active expire cycle samples it, and that cycle
 * stops once about a tenth of a sample is stale, so cold expired keys linger. Measured on a real
 * redis-server: see `docs/simulator.md#cache-redis-server`.
 */
export const REDIS_EXPIRED_RESIDENT_SHARE = 0.14;

/**
 * The size jemalloc (Redis's allocator) really hands out for a request of `bytes`: 8, then
 * multiples of 16 up to 128, then four classes per doubling (160, 192, 224, 256, 320, …).
 */
export function jemallocSizeClass(bytes: number): number {
  if (bytes <= 8) return 8;
  if (bytes <= 128) return Math.ceil(bytes / 16) * 16;
  const step = 2 ** (Math.ceil(Math.log2(bytes)) - 3);
  return Math.ceil(bytes / step) * step;
}

/** A typical risk API key name's length (`market_data:AAPL`, `static_data:portfolio:42`). */
export const REDIS_KEY_BYTES = 24;

/** The shape of one cached string key, for redisBytesPerKey. */
export interface RedisKeyShape {
  /** keyBytes: length of the key name. @default REDIS_KEY_BYTES */
  readonly keyBytes?: number;
  /** valueBytes: length of the string value. */
  readonly valueBytes: number;
  /** withTtl: the key has an expiry, so it also has an entry in the `expires` table. */
  readonly withTtl: boolean;
}

/** Header of an sds string of `length` bytes: sdshdr5/8/16/32 by the length it must hold. */
function sdsHeaderBytes(length: number, allowType5: boolean): number {
  if (length < 32 && allowType5) return 1;
  if (length < 256) return 3;
  if (length < 65_536) return 5;
  return 9;
}

const ROBJ_BYTES = 16;
const DICT_ENTRY_BYTES = 24;
/** Strings up to this length are stored "embstr": object and sds in one allocation. */
const EMBSTR_MAX_BYTES = 44;

/**
 * Memory one string key takes in Redis 7 besides its hash-table slots, from the allocations it
 * makes, each rounded to jemalloc's size class: the keyspace's dict entry, the key's sds (type 5
 * below 32 bytes), the value's object and sds (one "embstr" allocation up to 44 bytes), and with a
 * TTL a dict entry in `expires`. A 1 KiB value under a short key: 32 + 16 + 16 + 1,280 = 1,344 B.
 */
export function redisBytesPerKey(shape: RedisKeyShape): number {
  const entry = jemallocSizeClass(DICT_ENTRY_BYTES);
  const keyBytes = shape.keyBytes ?? REDIS_KEY_BYTES;
  const key = jemallocSizeClass(sdsHeaderBytes(keyBytes, true) + keyBytes + 1);
  const v = shape.valueBytes;
  const value =
    v <= EMBSTR_MAX_BYTES
      ? jemallocSizeClass(ROBJ_BYTES + 3 + v + 1)
      : jemallocSizeClass(ROBJ_BYTES) + jemallocSizeClass(sdsHeaderBytes(v, false) + v + 1);
  return entry + key + value + (shape.withTtl ? entry : 0);
}

interface PopularityBin {
  /** keys in this rank range. */
  readonly count: number;
  /** share of all requests that go to one key of the bin. */
  readonly sharePerKey: number;
}

const BINS = 160;

function popularityBins(population: KeyPopulation): PopularityBin[] {
  const { keys, zipfExponent: s } = population;
  const bins: { count: number; weight: number }[] = [];
  let start = 1;
  const growth = keys ** (1 / BINS);
  while (start <= keys) {
    const end = Math.min(keys, Math.max(start, Math.floor(start * growth)));
    const count = end - start + 1;
    // Integral of x^-s over [start − ½, end + ½] approximates the sum of the ranks' weights.
    const a = start - 0.5;
    const b = end + 0.5;
    const weight = Math.abs(s - 1) < 1e-9 ? Math.log(b / a) : (b ** (1 - s) - a ** (1 - s)) / (1 - s);
    bins.push({ count, weight });
    start = end + 1;
  }
  const total = bins.reduce((sum, bin) => sum + bin.weight, 0);
  return bins.map((bin) => ({ count: bin.count, sharePerKey: bin.weight / total / bin.count }));
}

/**
 * Hits that follow one insertion: the run of request gaps shorter than the time to eviction
 * (each gap survives with q = 1 − E[e^{−λ·Θ}], Θ ~ Gamma(k, T/k), so the run is q / (1 − q) =
 * (1 + λT/k)^k − 1, which is e^{λT} − 1 for exact LRU), cut at the TTL's λτ.
 */
function hitsPerInsertion(
  rate: number,
  characteristicSeconds: number,
  ttlSeconds: number,
  shape: number,
): number {
  const byTtl = ttlSeconds > 0 ? rate * ttlSeconds : Number.POSITIVE_INFINITY;
  let byLru = Number.POSITIVE_INFINITY;
  if (characteristicSeconds !== Number.POSITIVE_INFINITY) {
    const x = rate * characteristicSeconds;
    byLru = shape === Number.POSITIVE_INFINITY ? Math.expm1(x) : Math.expm1(shape * Math.log1p(x / shape));
  }
  return Math.min(byTtl, byLru);
}

function hitProbability(hits: number): number {
  return hits === Number.POSITIVE_INFINITY ? 1 : hits / (1 + hits);
}

/** Bytes of one hash table holding `keys` slots: 8 bytes a slot, sized to the next power of two. */
function hashTableBytes(keys: number): number {
  return keys < 1 ? 0 : 8 * 2 ** Math.ceil(Math.log2(Math.max(4, keys)));
}

/** A cache model for one key population, memoizing states by (request rate, memory). */
export class CacheModel {
  readonly #population: KeyPopulation;
  readonly #bins: PopularityBin[];
  readonly #shape: number;
  readonly #clockSpread: number;
  readonly #hashTables: number;
  /** Resident keys per live key: expired keys that linger take memory too. */
  readonly #residentPerLive: number;
  readonly #memo = new Map<string, CacheState>();

  /** Builds the popularity bins once; states are computed lazily. */
  constructor(population: KeyPopulation) {
    this.#population = population;
    this.#bins = popularityBins(population);
    this.#shape = population.evictionShape ?? REDIS_SAMPLED_LRU_SHAPE;
    this.#clockSpread = population.lruClockSpreadSeconds ?? REDIS_LRU_CLOCK_SPREAD_SECONDS;
    this.#hashTables = population.hashTables ?? (population.ttlSeconds > 0 ? 2 : 1);
    const stale =
      population.ttlSeconds > 0 ? (population.expiredResidentShare ?? REDIS_EXPIRED_RESIDENT_SHARE) : 0;
    this.#residentPerLive = 1 / (1 - stale);
  }

  /** The eviction shape at a characteristic time, the LRU clock's spread included. */
  #shapeAt(characteristicSeconds: number): number {
    return effectiveEvictionShape(this.#shape, characteristicSeconds, this.#clockSpread);
  }

  #liveKeys(rps: number, characteristicSeconds: number): number {
    const shape = this.#shapeAt(characteristicSeconds);
    let resident = 0;
    for (const bin of this.#bins) {
      resident +=
        bin.count *
        hitProbability(
          hitsPerInsertion(rps * bin.sharePerKey, characteristicSeconds, this.#population.ttlSeconds, shape),
        );
    }
    return resident;
  }

  #usedBytes(liveKeys: number): number {
    const resident = liveKeys * this.#residentPerLive;
    return (
      (this.#population.fixedBytes ?? 0) +
      resident * this.#population.bytesPerKey +
      this.#hashTables * hashTableBytes(resident)
    );
  }

  /**
   * The steady state at `requestsPerSecond` lookups and `maxMemoryBytes`. Rates are rounded to
   * 0.5 % steps for memoization, far below the noise of any scenario.
   */
  state(requestsPerSecond: number, maxMemoryBytes: number): CacheState {
    if (requestsPerSecond <= 0) {
      return {
        hitRate: 1,
        residentKeys: 0,
        usedMemoryBytes: this.#population.fixedBytes ?? 0,
        evictedKeysPerSecond: 0,
        expiredKeysPerSecond: 0,
      };
    }
    const step = Math.round(Math.log(requestsPerSecond) / Math.log(1.005));
    const key = `${step}:${maxMemoryBytes}`;
    const known = this.#memo.get(key);
    if (known) return known;
    const rps = 1.005 ** step;
    let characteristic = Number.POSITIVE_INFINITY;
    if (this.#usedBytes(this.#liveKeys(rps, characteristic)) > maxMemoryBytes) {
      let lo = Math.log(1e-6);
      let hi = Math.log(1e9);
      for (let i = 0; i < 60; i++) {
        const mid = (lo + hi) / 2;
        if (this.#usedBytes(this.#liveKeys(rps, Math.exp(mid))) > maxMemoryBytes) hi = mid;
        else lo = mid;
      }
      characteristic = Math.exp(lo);
    }
    let hits = 0;
    let evicted = 0;
    let expired = 0;
    let resident = 0;
    const ttl = this.#population.ttlSeconds;
    const shape = this.#shapeAt(characteristic);
    for (const bin of this.#bins) {
      const rate = rps * bin.sharePerKey;
      const perInsertion = hitsPerInsertion(rate, characteristic, ttl, shape);
      const h = hitProbability(perInsertion);
      hits += bin.count * rate * h;
      resident += bin.count * h;
      const leaving = bin.count * rate * (1 - h);
      const byTtl = ttl > 0 ? rate * ttl : Number.POSITIVE_INFINITY;
      if (byTtl <= perInsertion) expired += leaving;
      else evicted += leaving;
    }
    const state: CacheState = {
      hitRate: hits / rps,
      residentKeys: resident * this.#residentPerLive,
      usedMemoryBytes: this.#usedBytes(resident),
      evictedKeysPerSecond: evicted,
      expiredKeysPerSecond: expired,
    };
    this.#memo.set(key, state);
    return state;
  }
}
