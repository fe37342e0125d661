import { describe, expect, it } from 'vitest';
import { connectionBudget } from '../tuning/tuning-spec.ts';
import { engineController, SEED_RULES, SEED_STATIC, tuningSpecFor } from './controllers.ts';
import { pricedCost } from './run-result.ts';
import { parseScenario } from './scenario.ts';
import { simulate } from './simulate.ts';

const scenarioSource = {
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
};
const scenario = parseScenario(scenarioSource);

describe('simulate', () => {
  it('a database short of CPU for the peak’s misses fails requests that one with CPU to spare serves', () => {
    // At 2,500 rps and about 13 % misses the DB gets ~330 queries/s of 10 ms CPU: 3.3 cores.
    const withDb = (cores: number) =>
      simulate(parseScenario({ ...scenarioSource, db: { cores, cpuMsPerQuery: 10 } }), SEED_STATIC).totals;
    const unbound = simulate(scenario, SEED_STATIC).totals;
    // With CPU to spare the DB changes nothing (up to rounding: its queue is solved differently).
    const ample = withDb(64);
    for (const [field, value] of Object.entries(unbound)) {
      expect(ample[field as keyof typeof ample], field).toBeCloseTo(value, 6);
    }
    expect(withDb(2).failedRequests).toBeGreaterThan(unbound.failedRequests);
    expect(withDb(2).sloViolationMinutes).toBeGreaterThan(unbound.sloViolationMinutes);
  });

  it('starts steady: under a flat load the HPA keeps the fleet it starts with', () => {
    // 3,000 rps: the fleet starts with the 4 pods the HPA's target asks for, and its first sync
    // reads their utilization (a first reading of 0 % scaled them to 2, then up to 6 and back).
    const flat = parseScenario({
      name: 'flat',
      durationMinutes: 20,
      seed: 1,
      load: { noise: 0, points: [{ minute: 0, rps: 3000 }] },
    });
    const replicas = simulate(flat, SEED_STATIC).series.map((p) => p.replicas);
    expect(replicas[0]).toBeGreaterThan(2);
    expect(new Set(replicas)).toEqual(new Set([replicas[0]]));
  });

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
    // An engine that never acted would keep every invariant: the swell must move the pool, the
    // overflow, the replica ceiling and Redis memory, so the checks below see each kind of change.
    expect(new Set(run.changes.map((c) => c.knob))).toEqual(
      new Set(['poolSize', 'maxOverflow', 'maxReplicas', 'redisMaxmemoryMiB']),
    );
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

  it('prices a run at the scenario’s prices: pods per vCPU, Redis per GiB-hour, connections per hour', () => {
    const run = simulate(scenario, SEED_STATIC);
    const { podHours, redisGbHours, dbConnectionHours } = run.totals;
    expect(run.totals.pricedCost).toBeCloseTo(
      podHours * 0.048 + redisGbHours * 0.006 + dbConnectionHours * 0.0001,
      9,
    );
  });
});

describe('pricedCost', () => {
  const usage = { podHours: 10, redisGbHours: 100, dbConnectionHours: 1000 };
  it.each<[string, Record<string, unknown>, number]>([
    ['default prices', {}, 10 * 0.048 + 100 * 0.006 + 1000 * 0.0001],
    ['2-vCPU pods cost twice per pod-hour', { app: { cpuCores: 2 } }, 20 * 0.048 + 0.6 + 0.1],
    [
      'a scenario’s own prices',
      { prices: { podHourPerVcpu: 0.1, redisGbHour: 0, dbConnectionHour: 0.001 } },
      1 + 1,
    ],
  ])('%s', (_name, fields, dollars) => {
    const priced = parseScenario({
      name: 'p',
      durationMinutes: 1,
      load: { points: [{ minute: 0, rps: 1 }] },
      ...fields,
    });
    expect(pricedCost(priced, usage)).toBeCloseTo(dollars, 9);
  });
});

describe('the burst response in a run', () => {
  it('raises minReplicas within the evaluation after a 10× step, and says it skipped the cooldown', () => {
    const step = parseScenario({
      name: 'ten-times',
      durationMinutes: 40,
      load: {
        points: [
          { minute: 0, rps: 800 },
          { minute: 20, rps: 800 },
          { minute: 20.01, rps: 8000 },
        ],
      },
    });
    const run = simulate(step, engineController(step));
    const burst = run.changes.find((c) => c.knob === 'minReplicas' && c.reason.startsWith('burst'));
    expect(burst?.atSeconds).toBeLessThanOrEqual(22 * 60);
    expect(burst?.to).toBeGreaterThanOrEqual(8);
    expect(burst?.reason).toMatch(/the only one that skips the cooldown/);
  });
});

describe('history days', () => {
  const daily = {
    name: 'a-day-again',
    durationMinutes: 60,
    forecast: 'Auto',
    load: { points: [{ minute: 0, rps: 1000 }] },
  };

  it('are lived through by the engine but not counted', () => {
    const withHistory = parseScenario({ ...daily, history: { days: 1 } });
    const run = simulate(withHistory, engineController(withHistory));
    expect(run.series[0]?.minute).toBe(0);
    expect(run.series).toHaveLength(60);
    expect(run.changes.every((c) => c.atSeconds >= 0)).toBe(true);
  });

  it('run the profile the scenario names: its forecast mode, and a lead of start-up + HPA sync + evaluation', () => {
    const s = parseScenario({ ...daily, app: { podStartupSeconds: 90 } });
    expect(tuningSpecFor(s).forecast).toEqual({ mode: 'Auto', leadSeconds: 90 + 15 + 60 });
    expect(tuningSpecFor(parseScenario({ ...daily, forecast: undefined })).forecast.mode).toBe('Recommend');
  });
});

describe("the HPA's own tolerance", () => {
  const steady = { name: 'tolerant', durationMinutes: 60, load: { points: [{ minute: 0, rps: 1000 }] } };

  it('reaches the engine as the operator reads it from the HPA, where the behavior sets one', () => {
    expect(tuningSpecFor(parseScenario(steady)).hpaTolerance).toBeUndefined();
    const own = parseScenario({ ...steady, hpaBehavior: { scaleUpTolerance: 0.02 } });
    expect(tuningSpecFor(own).hpaTolerance).toEqual({ scaleUp: 0.02, scaleDown: 0.1 });
  });
});
