import { describe, expect, it } from 'vitest';
import type { RunTotals } from '../../operator/src/sim/run-result.ts';
import { isBetterStatic } from './best-static.ts';

const totals = (violations: number, cost: number, podHours = 10): RunTotals => ({
  sloViolationMinutes: violations,
  hitRateViolationMinutes: 0,
  underAccuracy: 0,
  overAccuracy: 0,
  underTimeshare: 0,
  overTimeshare: 0,
  p95OrErrorViolationMinutes: violations,
  failedRequests: 0,
  requests: 1,
  podHours,
  redisGbHours: 0,
  dbConnectionHours: 0,
  pricedCost: cost,
  knobChanges: 0,
  reversals: 0,
  reversalsInWindow: 0,
  peakDbConnections: 0,
});
const reference = totals(0, 10);

describe('isBetterStatic', () => {
  it.each<[string, RunTotals, RunTotals, boolean]>([
    ['fewer whole violation minutes win whatever they cost', totals(0.25, 20), totals(2, 1), true],
    ['violations within the same whole minute fall through to cost', totals(0.4, 9), totals(0, 10), true],
    ['the cheaper wins at the same violations', totals(0, 9), totals(0, 10), true],
    [
      'a cost difference within 0.5 % of seed-static falls through to pod-hours',
      totals(0, 10.04, 9),
      totals(0, 10, 10),
      true,
    ],
    ['and is not better with more pod-hours', totals(0, 9.97, 11), totals(0, 10, 10), false],
    [
      'where every minute misses the hit rate, fewer p95 or error minutes win over a lower cost',
      { ...totals(720, 2.5), hitRateViolationMinutes: 720, p95OrErrorViolationMinutes: 1 },
      { ...totals(720, 1.2), hitRateViolationMinutes: 720, p95OrErrorViolationMinutes: 300 },
      true,
    ],
  ])('%s', (_name, a, b, better) => {
    expect(isBetterStatic(a, b, reference)).toBe(better);
  });
});
