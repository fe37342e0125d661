/**
 * Zipf-distributed choice: rank k (0-based) of n is drawn with probability ∝ 1/(k+1)^s, the
 * popularity curve of symbols and portfolios in real traffic (a few are asked for most of the time).
 */

/** A sampler of ranks 0..n-1. */
export interface ZipfSampler {
  /** next draws one rank. */
  next(): number;
  /** probability of rank k. */
  probability(k: number): number;
}

/** zipfSampler builds the cumulative distribution once; each draw is a binary search. */
export function zipfSampler(n: number, exponent: number, uniform: () => number = Math.random): ZipfSampler {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`n must be a positive integer, got ${n}`);
  if (!(exponent >= 0)) throw new RangeError(`exponent must be 0 or more, got ${exponent}`);
  const cdf = new Float64Array(n);
  let total = 0;
  for (let k = 0; k < n; k++) {
    total += 1 / (k + 1) ** exponent;
    cdf[k] = total;
  }
  for (let k = 0; k < n; k++) cdf[k] = (cdf[k] as number) / total;
  return {
    next() {
      const u = uniform();
      let lo = 0;
      let hi = n - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if ((cdf[mid] as number) > u) hi = mid;
        else lo = mid + 1;
      }
      return lo;
    },
    probability(k) {
      if (k < 0 || k >= n) return 0;
      return (cdf[k] as number) - (k === 0 ? 0 : (cdf[k - 1] as number));
    },
  };
}
