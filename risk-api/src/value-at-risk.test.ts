import { describe, expect, it } from 'vitest';
import {
  commonDays,
  dailyLosses,
  historicalVaR,
  type PositionSeries,
  portfolioValue,
  sortLosses,
} from './value-at-risk.ts';

/** A position whose closes start at calendar slot `start`; null is a day without a close. */
const held = (quantity: number, start: number, closes: (number | null)[]): PositionSeries => ({
  quantity,
  start,
  closes: Float64Array.from(closes, (c) => c ?? Number.NaN),
});

const sorted = (losses: readonly number[]) => sortLosses(Float64Array.from(losses));

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
    const result = historicalVaR(sorted(losses), 1000, c, horizon);
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
      expect(historicalVaR(sorted(losses), 1e6, c, 1).var, `c=${c}`).toBeCloseTo(
        varByDefinition(losses, c),
        2,
      );
    }
  });

  it.each([0, 1, -0.1, 1.5, Number.NaN])('rejects confidence %s', (c) => {
    expect(() => historicalVaR(sorted([1, 2]), 1, c, 1)).toThrow(
      'confidenceLevel must be above 0 and below 1',
    );
  });

  it('needs at least one loss', () => {
    expect(() => historicalVaR(sorted([]), 1, 0.95, 1)).toThrow('at least one daily loss');
  });
});

describe('dailyLosses', () => {
  it('revalues today’s positions with each day’s relative change', () => {
    const positions = [held(2, 0, [100, 110, 99]), held(10, 0, [50, 50, 55])];
    // Exposures at the last prices: A 2 × 99 = 198, B 10 × 55 = 550.
    // Day 1: A +10 %, B 0 % → loss −19.8. Day 2: A −10 %, B +10 % → loss 19.8 − 55 = −35.2.
    const days = commonDays(positions);
    expect([...days]).toEqual([0, 1, 2]);
    const losses = dailyLosses(positions, days);
    expect(losses[0]).toBeCloseTo(-19.8, 10);
    expect(losses[1]).toBeCloseTo(-35.2, 10);
    expect(portfolioValue(positions, 2)).toBe(748);
  });

  it('uses the days every symbol has: later starts, earlier ends and gaps left out', () => {
    // Slots 0..5: A closes on 0, 1, 2, 4, 5; B starts at slot 1, misses 4 and ends at 5.
    const a = held(1, 0, [1, 2, 4, null, 8, 16]);
    const b = held(1, 1, [10, 20, 40, null, 80]);
    const days = commonDays([a, b]);
    expect([...days]).toEqual([1, 2, 5]);
    // A: exposure 16, changes 4/2 and 16/4; B: exposure 80, changes 20/10 and 80/20.
    expect([...dailyLosses([a, b], days)]).toEqual([-16 * 1 - 80 * 1, -16 * 3 - 80 * 3]);
  });

  it('is empty without two common days', () => {
    expect(dailyLosses([held(1, 0, [1])], commonDays([held(1, 0, [1])]))).toHaveLength(0);
    expect(commonDays([held(1, 0, [1, 2]), held(1, 2, [3, 4])])).toHaveLength(0);
    expect(commonDays([held(1, 0, [1, 2]), held(1, 0, [])])).toHaveLength(0);
    expect(commonDays([])).toHaveLength(0);
  });
});
