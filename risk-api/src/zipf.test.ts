import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../operator/src/sim/seeded-random.ts';
import { zipfSampler } from './zipf.ts';

describe('zipfSampler', () => {
  it.each([
    { n: 10, s: 1, ratio: 2 },
    { n: 300, s: 1.1, ratio: 2 ** 1.1 },
    { n: 5, s: 0, ratio: 1 },
  ])('n=$n s=$s: probabilities sum to 1 and p(1)/p(2) = 2^s', ({ n, s, ratio }) => {
    const z = zipfSampler(n, s);
    let total = 0;
    for (let k = 0; k < n; k++) total += z.probability(k);
    expect(total).toBeCloseTo(1, 12);
    expect(z.probability(0) / z.probability(1)).toBeCloseTo(ratio, 10);
    expect(z.probability(n)).toBe(0);
  });

  it('draws ranks with their probabilities', () => {
    const z = zipfSampler(50, 1.1, seededRandom(42).uniform);
    const counts = new Array<number>(50).fill(0);
    const draws = 100_000;
    for (let i = 0; i < draws; i++) {
      const k = z.next();
      counts[k] = (counts[k] ?? 0) + 1;
    }
    for (const k of [0, 1, 5, 49]) {
      const expected = draws * z.probability(k);
      // Within five standard deviations of a binomial count.
      expect(Math.abs((counts[k] ?? 0) - expected), `rank ${k}`).toBeLessThan(5 * Math.sqrt(expected) + 1);
    }
  });

  it.each([
    [0, 1, 'n must be a positive integer'],
    [2.5, 1, 'n must be a positive integer'],
    [10, -1, 'exponent must be 0 or more'],
  ])('rejects n=%s exponent=%s', (n, s, message) => {
    expect(() => zipfSampler(n, s)).toThrow(message);
  });
});
