import { describe, expect, it } from 'vitest';
import type { RunTotals } from '../../operator/src/sim/run-result.ts';
import { parseScenario } from '../../operator/src/sim/scenario.ts';
import type { PolicySummary } from './benchmark.ts';
import { judgeGoal, loadChanges } from './goal.ts';

const scenario = (points: number[]) =>
  parseScenario({
    name: 'goal',
    durationMinutes: 60,
    load: { points: points.map((rps, i) => ({ minute: i * 10, rps })) },
  });
const swell = scenario([500, 2000, 500]);

interface Figures {
  violations?: number;
  failed?: number;
  cost?: number;
  reversalsInWindow?: number;
}
const totals = ({ violations = 0, failed = 0, cost = 10, reversalsInWindow = 0 }: Figures): RunTotals => ({
  sloViolationMinutes: violations,
  hitRateViolationMinutes: 0,
  underAccuracy: 0,
  overAccuracy: 0,
  underTimeshare: 0,
  overTimeshare: 0,
  p95OrErrorViolationMinutes: violations,
  failedRequests: failed,
  requests: 1e6,
  podHours: cost / 0.048,
  redisGbHours: 0,
  dbConnectionHours: 0,
  pricedCost: cost,
  knobChanges: 0,
  reversals: reversalsInWindow,
  reversalsInWindow,
  peakDbConnections: 1,
});
const summaries = (ours: Figures, best: Figures = { violations: 0, cost: 9 }): PolicySummary[] => [
  { policy: 'ours', totals: totals(ours), runs: [] },
  { policy: 'seed-static', totals: totals({ violations: 10, failed: 100, cost: 12 }), runs: [] },
  { policy: 'seed-rules', totals: totals({ violations: 12, failed: 120, cost: 12 }), runs: [] },
  { policy: 'best-static', totals: totals(best), runs: [] },
];

describe('judgeGoal', () => {
  it.each<[string, Figures, Figures | undefined, string[]]>([
    ['met: cheaper than best-static, as few violations', { cost: 8.9 }, undefined, []],
    ['violations within best-static + 0.5 min', { violations: 3.5, cost: 8 }, { violations: 3, cost: 9 }, []],
    [
      'violations above best-static + 0.5 min',
      { violations: 3.75, cost: 8 },
      { violations: 3, cost: 9 },
      ['violations ≤ best-static + 0.5 min'],
    ],
    [
      'failed requests above the better seed baseline’s',
      { failed: 101, cost: 8 },
      undefined,
      ['failed requests ≤ the better seed baseline'],
    ],
    [
      'a reversal inside the window',
      { cost: 8, reversalsInWindow: 1 },
      undefined,
      ['no reversal inside the window'],
    ],
    ['cost above best-static', { cost: 9.5 }, undefined, ['cost ≤ best-static']],
  ])('%s', (_name, ours, best, failing) => {
    const verdict = judgeGoal(swell, summaries(ours, best));
    expect(verdict?.checks.filter((c) => !c.held).map((c) => c.name)).toEqual(failing);
    expect(verdict?.met).toBe(failing.length === 0);
  });

  it('does not hold a flat load to best-static’s cost', () => {
    const verdict = judgeGoal(scenario([1000, 1100]), summaries({ cost: 9.5 }));
    expect(verdict?.met).toBe(true);
    expect(verdict?.checks.map((c) => c.name)).not.toContain('cost ≤ best-static');
  });
});

describe('loadChanges', () => {
  it.each<[number[], boolean]>([
    [[1000], false],
    [[1000, 1400], false],
    [[1000, 1500], true],
    [[400, 4000, 600], true],
    [[0, 10], true],
  ])('%j → %s', (points, changes) => {
    expect(loadChanges(scenario(points))).toBe(changes);
  });
});
