import { describe, expect, it } from 'vitest';
import { dailyLosses, historicalVaR, portfolioValue } from './value-at-risk.ts';

/** The textbook definition, written apart from the code: the smallest loss x with P(L ≤ x) ≥ c. */
function varByDefinition(losses: readonly number[], c: number): number {
  const candidates = [...new Set(losses)].sort((a, b) => a - b);
  for (const x of candidates) {
    if (losses.filter((l) => l <= x).length / losses.length >= c - 1e-12) return x;
  }
  return Number.NaN;
}

describe('historicalVaR', () => {
  const hundred = Array.from({ length: 100 }, (_, i) => i - 49); // losses -49 … 50
  it.each([
    { losses: hundred, c: 0.95, horizon: 1, var: 45, es: 47.5 },
    { losses: hundred, c: 0.99, horizon: 1, var: 49, es: 49.5 },
    { losses: hundred, c: 0.95, horizon: 4, var: 90, es: 95 },
    { losses: [5, 1, 3, 2, 4], c: 0.5, horizon: 1, var: 3, es: 4 },
    { losses: [10], c: 0.99, horizon: 1, var: 10, es: 10 },
  ])('at $c over $horizon day(s) is $var, ES $es', ({ losses, c, horizon, var: v, es }) => {
    const result = historicalVaR(losses, 1000, c, horizon);
    expect(result.var).toBe(v);
    expect(result.expected_shortfall).toBe(es);
    expect(result.var_percent).toBe(Math.round(10000 * (v / 1000)) / 100);
  });

  it('agrees with the definition on random losses at many levels', () => {
    let state = 7;
    const next = () => {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      return state / 2 ** 31;
    };
    const losses = Array.from({ length: 517 }, () => (next() - 0.5) * 1000);
    for (const c of [0.5, 0.8, 0.9, 0.95, 0.975, 0.99, 0.999]) {
      expect(historicalVaR(losses, 1e6, c, 1).var, `c=${c}`).toBeCloseTo(varByDefinition(losses, c), 2);
    }
  });

  it.each([0, 1, -0.1, 1.5, Number.NaN])('rejects confidence %s', (c) => {
    expect(() => historicalVaR([1, 2], 1, c, 1)).toThrow('confidenceLevel must be above 0 and below 1');
  });

  it('needs at least one loss', () => {
    expect(() => historicalVaR([], 1, 0.95, 1)).toThrow('at least one daily loss');
  });
});

describe('dailyLosses', () => {
  it('revalues today’s positions with each day’s relative change', () => {
    const prices = new Map([
      ['A', [100, 110, 99]],
      ['B', [50, 50, 55]],
    ]);
    const positions = [
      { symbol: 'A', quantity: 2 },
      { symbol: 'B', quantity: 10 },
    ];
    // Exposures at the last prices: A 2 × 99 = 198, B 10 × 55 = 550.
    // Day 1: A +10 %, B 0 % → loss −19.8. Day 2: A −10 %, B +10 % → loss 19.8 − 55 = −35.2.
    const losses = dailyLosses(positions, prices);
    expect(losses[0]).toBeCloseTo(-19.8, 10);
    expect(losses[1]).toBeCloseTo(-35.2, 10);
    expect(portfolioValue(positions, prices)).toBe(748);
  });

  it('uses the days every symbol has, counted from the end', () => {
    const prices = new Map([
      ['A', [1, 2, 4, 8]],
      ['B', [10, 20]],
    ]);
    expect(
      dailyLosses(
        [
          { symbol: 'A', quantity: 1 },
          { symbol: 'B', quantity: 1 },
        ],
        prices,
      ),
    ).toEqual([-8 - 20]);
  });

  it('is empty without two common days', () => {
    expect(dailyLosses([{ symbol: 'A', quantity: 1 }], new Map([['A', [1]]]))).toEqual([]);
    expect(dailyLosses([{ symbol: 'X', quantity: 1 }], new Map())).toEqual([]);
  });
});
