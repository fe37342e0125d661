import { describe, expect, it } from 'vitest';
import { connectionBudget } from '../tuning/tuning-spec.ts';
import { judgeGoal, type PolicySummary } from './benchmark.ts';
import { parseScenario } from './scenario.ts';
import { engineController, SEED_RULES, SEED_STATIC, simulate, tuningSpecFor } from './simulate.ts';

const scenario = parseScenario({
  name: 'short-swell',
  durationMinutes: 120,
  seed: 3,
  load: {
    noise: 0.1,
    points: [
      { minute: 0, rps: 500 },
      { minute: 60, rps: 2500 },
      { minute: 120, rps: 500 },
    ],
  },
  metricGaps: [{ fromMinute: 30, toMinute: 45 }],
});

describe('simulate', () => {
  it('is reproducible: the same seed gives the same run', () => {
    expect(simulate(scenario, engineController(scenario)).totals).toEqual(
      simulate(scenario, engineController(scenario)).totals,
    );
    expect(simulate(scenario, SEED_STATIC, { seed: 4 }).totals).not.toEqual(
      simulate(scenario, SEED_STATIC).totals,
    );
  });

  it('seed-rules only ever sets the guide’s three pool sizes, and oscillates between them', () => {
    const run = simulate(scenario, SEED_RULES);
    const sizes = new Set(run.changes.map((c) => c.to));
    expect([...sizes].every((s) => [5, 10, 20].includes(s))).toBe(true);
    expect(run.totals.reversals).toBeGreaterThan(10);
  });

  it('the engine keeps every invariant after every change and changes nothing during a metric outage', () => {
    const spec = tuningSpecFor(scenario);
    const run = simulate(scenario, engineController(scenario));
    const knobs = { poolSize: 20, maxOverflow: 30, redisMaxmemoryMiB: 512, minReplicas: 2, maxReplicas: 10 };
    const byTime = new Map<number, typeof knobs>();
    for (const c of run.changes) {
      Object.assign(knobs, { [c.knob]: c.to });
      byTime.set(c.atSeconds, { ...knobs });
      expect(c.reason.length).toBeGreaterThan(10);
    }
    for (const v of byTime.values()) {
      expect(v.maxReplicas * (v.poolSize + v.maxOverflow)).toBeLessThanOrEqual(connectionBudget(spec));
      expect(v.minReplicas).toBeGreaterThanOrEqual(2);
    }
    expect(run.changes.filter((c) => c.atSeconds > 30 * 60 && c.atSeconds <= 45 * 60)).toEqual([]);
    expect(run.totals.reversalsInWindow).toBe(0);
  });

  it('reports costs for every policy', () => {
    const run = simulate(scenario, SEED_STATIC);
    expect(run.totals.podHours).toBeGreaterThan(2 * 2 - 1e-9);
    expect(run.totals.redisGbHours).toBeCloseTo(0.5 * 2);
    expect(run.series).toHaveLength(120);
  });
});

describe('judgeGoal', () => {
  const totals = (violations: number, pods: number) => ({
    sloViolationMinutes: violations,
    failedRequests: 0,
    requests: 1,
    podHours: pods,
    redisGbHours: 1,
    dbConnectionHours: 1,
    knobChanges: 0,
    reversals: 0,
    reversalsInWindow: 0,
    peakDbConnections: 1,
  });
  const summaries = (ours: number, oursPods: number): PolicySummary[] => [
    { policy: 'ours', totals: totals(ours, oursPods), runs: [] },
    { policy: 'seed-static', totals: totals(10, 10), runs: [] },
    { policy: 'seed-rules', totals: totals(12, 10), runs: [] },
    { policy: 'best-static', totals: totals(1.9, 10), runs: [] },
  ];

  it.each<[string, number, number, boolean]>([
    ['met: 2 min ≤ 20 % of 10 and within 10 % of best-static', 2, 10, true],
    ['missed: too many violations', 2.5, 10, false],
    ['missed: more pod-hours than seed-static', 2, 10.5, false],
  ])('%s', (_name, violations, pods, met) => {
    expect(judgeGoal(summaries(violations, pods))?.met).toBe(met);
  });
});
