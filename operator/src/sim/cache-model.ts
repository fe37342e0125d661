/**
 * Steady-state model of a Redis cache under `allkeys-lru` with a TTL set at insertion, for keys
 * whose popularity follows a Zipf law. Che's approximation (Che, Tung, Wang 2002; justified by
 * Fricker, Robert, Roberts 2012) gives LRU a characteristic time T: a key stays cached while it
 * is requested at least once every T. With a TTL τ a cached key also leaves τ after insertion.
 * For a key requested at Poisson rate λ, each insertion is followed by E = min(λτ, e^{λT} − 1)
 * hits on average (gaps shorter than T, until the TTL), so its hit probability is E / (1 + E);
 * by PASTA this is also the share of time it is resident, which gives memory use. T solves
 * Σ keys · size · h(T) = maxmemory, or is infinite when everything fits.
 */

/** What the cache serves at a request rate and memory size. */
export interface CacheState {
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
  /** bytesPerKey: memory one cached key takes, value plus Redis overhead. */
  readonly bytesPerKey: number;
  /** ttlSeconds: TTL set at insertion; 0 means none. */
  readonly ttlSeconds: number;
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

function hitsPerInsertion(rate: number, characteristicSeconds: number, ttlSeconds: number): number {
  const byTtl = ttlSeconds > 0 ? rate * ttlSeconds : Number.POSITIVE_INFINITY;
  const byLru =
    characteristicSeconds === Number.POSITIVE_INFINITY
      ? Number.POSITIVE_INFINITY
      : Math.expm1(rate * characteristicSeconds);
  return Math.min(byTtl, byLru);
}

function hitProbability(hits: number): number {
  return hits === Number.POSITIVE_INFINITY ? 1 : hits / (1 + hits);
}

/** A cache model for one key population, memoizing states by (request rate, memory). */
export class CacheModel {
  readonly #population: KeyPopulation;
  readonly #bins: PopularityBin[];
  readonly #memo = new Map<string, CacheState>();

  /** Builds the popularity bins once; states are computed lazily. */
  constructor(population: KeyPopulation) {
    this.#population = population;
    this.#bins = popularityBins(population);
  }

  #usedBytes(rps: number, characteristicSeconds: number): number {
    let resident = 0;
    for (const bin of this.#bins) {
      resident +=
        bin.count *
        hitProbability(
          hitsPerInsertion(rps * bin.sharePerKey, characteristicSeconds, this.#population.ttlSeconds),
        );
    }
    return resident * this.#population.bytesPerKey;
  }

  /**
   * The steady state at `requestsPerSecond` lookups and `maxMemoryBytes`. Rates are rounded to
   * 0.5 % steps for memoization, far below the noise of any scenario.
   */
  state(requestsPerSecond: number, maxMemoryBytes: number): CacheState {
    if (requestsPerSecond <= 0) {
      return { hitRate: 1, usedMemoryBytes: 0, evictedKeysPerSecond: 0, expiredKeysPerSecond: 0 };
    }
    const step = Math.round(Math.log(requestsPerSecond) / Math.log(1.005));
    const key = `${step}:${maxMemoryBytes}`;
    const known = this.#memo.get(key);
    if (known) return known;
    const rps = 1.005 ** step;
    let characteristic = Number.POSITIVE_INFINITY;
    if (this.#usedBytes(rps, characteristic) > maxMemoryBytes) {
      let lo = Math.log(1e-6);
      let hi = Math.log(1e9);
      for (let i = 0; i < 60; i++) {
        const mid = (lo + hi) / 2;
        if (this.#usedBytes(rps, Math.exp(mid)) > maxMemoryBytes) hi = mid;
        else lo = mid;
      }
      characteristic = Math.exp(lo);
    }
    let hits = 0;
    let evicted = 0;
    let expired = 0;
    let used = 0;
    const ttl = this.#population.ttlSeconds;
    for (const bin of this.#bins) {
      const rate = rps * bin.sharePerKey;
      const perInsertion = hitsPerInsertion(rate, characteristic, ttl);
      const h = hitProbability(perInsertion);
      hits += bin.count * rate * h;
      used += bin.count * h;
      const leaving = bin.count * rate * (1 - h);
      const byTtl = ttl > 0 ? rate * ttl : Number.POSITIVE_INFINITY;
      if (byTtl <= perInsertion) expired += leaving;
      else evicted += leaving;
    }
    const state: CacheState = {
      hitRate: hits / rps,
      usedMemoryBytes: used * this.#population.bytesPerKey,
      evictedKeysPerSecond: evicted,
      expiredKeysPerSecond: expired,
    };
    this.#memo.set(key, state);
    return state;
  }
}
