import { describe, expect, it } from 'vitest';
import {
  bisectingRate,
  type FittedReplica,
  fitReplica,
  formatAllAnswersFit,
  formatLatencyCalibration,
  formatRepeatability,
  givenDemands,
  measuredSaturation,
  modelFor,
  modelPathP95,
  modelSaturation,
  queryShareFit,
  repeatedPoints,
  saturationDemandRun,
  saturationHitRate,
} from './latency-fit.ts';
import type { ApiSetup, LatencyRun } from './latency-run.ts';

const truth: FittedReplica = {
  cpuMsPerHit: 0.5,
  cpuMsPerMiss: 3,
  cpuCores: 1,
  workers: 1,
  queryMs: 4,
  queryFixedShare: 0.5,
  dbCpuMsPerQuery: 3,
  hitLatencyMs: 2,
  missLatencyMs: 6,
  idleCpuMsPerSecond: 0,
};

/** The CPU PostgreSQL has in these runs: enough that it stays under 30 % busy. */
const DB_CORES = 2;

/** A run as the model itself would measure it: what fitReplica must give back. */
function modelRun(setup: ApiSetup, rps: number, hitRate: number): LatencyRun {
  const o = modelFor(truth, { achievedRps: rps, hitRate, setup, dbCores: DB_CORES });
  return {
    setup,
    offeredRps: rps,
    sentRps: rps,
    achievedRps: rps,
    hitRate,
    p50Ms: truth.hitLatencyMs,
    p95Ms: o.p95Ms,
    errorShare: o.failedShare,
    meanPoolWaitMs: o.meanPoolWaitMs,
    cpuMsPerRequest: hitRate * truth.cpuMsPerHit + (1 - hitRate) * truth.cpuMsPerMiss,
    queryMsPerMiss: truth.queryMs,
    dbCpuMsPerMiss: truth.dbCpuMsPerQuery,
    dbCores: DB_CORES,
  };
}

describe('fitting the replica model to runs', () => {
  const cold: ApiSetup = { endpoint: 'data', poolSize: 2, ttlSeconds: 1 };
  const hot: ApiSetup = { endpoint: 'data', poolSize: 2, ttlSeconds: 3600 };
  const runs = [
    modelRun(cold, 20, 0.3),
    modelRun(cold, 150, 0.3),
    modelRun(hot, 20, 0.98),
    modelRun(hot, 400, 0.98),
  ];

  it('gives back the parameters of runs the model made itself', () => {
    const fitted = fitReplica(runs, truth.queryFixedShare);
    expect(fitted.cpuMsPerHit).toBeCloseTo(truth.cpuMsPerHit, 6);
    expect(fitted.cpuMsPerMiss).toBeCloseTo(truth.cpuMsPerMiss, 6);
    expect(fitted.queryMs).toBeCloseTo(truth.queryMs, 6);
    expect(fitted.dbCpuMsPerQuery).toBeCloseTo(truth.dbCpuMsPerQuery, 6);
    expect(fitted.missLatencyMs).toBeCloseTo(truth.missLatencyMs, 2);
    expect(fitted.hitLatencyMs).toBeCloseTo(truth.hitLatencyMs, 2);
  });

  it("does not charge the event loop's own CPU (a constant a second) to the requests", () => {
    const idle = runs.map((r) => ({ ...r, cpuMsPerRequest: r.cpuMsPerRequest + 25 / r.achievedRps }));
    const fitted = fitReplica(idle);
    expect(fitted.cpuMsPerHit).toBeCloseTo(truth.cpuMsPerHit, 6);
    expect(fitted.cpuMsPerMiss).toBeCloseTo(truth.cpuMsPerMiss, 6);
    expect(fitted.idleCpuMsPerSecond).toBeCloseTo(25, 6);
  });

  /** A model-made run with the p95 of its hits and of its misses, `answers` of each. */
  const withPaths = (run: LatencyRun, answers: number): LatencyRun => ({
    ...run,
    byCache: {
      hit: { answers, p95Ms: modelPathP95(truth, run, 'hit') ?? 0 },
      miss: { answers, p95Ms: modelPathP95(truth, run, 'miss') ?? 0 },
    },
  });

  it("fits each path's fixed latency to the p95 of that path's answers where runs measured them", () => {
    // The p95 of all answers 40 % off (as if the mix's tail were not the model's): the joint fit
    // would follow it, the paths' own p95s give the truth back.
    const skewed = runs.map((r) => ({ ...withPaths(r, 100), p95Ms: 1.4 * r.p95Ms }));
    const fitted = fitReplica(skewed, truth.queryFixedShare);
    expect(fitted.hitLatencyMs).toBeCloseTo(truth.hitLatencyMs, 2);
    expect(fitted.missLatencyMs).toBeCloseTo(truth.missLatencyMs, 2);
    const joint = fitReplica(
      skewed.map(({ byCache: _, ...r }) => r),
      truth.queryFixedShare,
    );
    expect(
      Math.abs(joint.hitLatencyMs - truth.hitLatencyMs) + Math.abs(joint.missLatencyMs - truth.missLatencyMs),
    ).toBeGreaterThan(1);
  });

  it('prints the fit to all answers beside, where runs measured each path, and nothing where none did', () => {
    const skewed = runs.map((r) => ({ ...withPaths(r, 100), p95Ms: 1.4 * r.p95Ms }));
    const joint = fitReplica(skewed, undefined, 'all answers');
    const line = formatAllAnswersFit(skewed);
    expect(line).toContain(
      `${joint.hitLatencyMs.toFixed(1)} ms a hit, ${joint.missLatencyMs.toFixed(1)} ms a miss`,
    );
    expect(line).toMatch(/p95 within 15 % on \d of 4/);
    expect(formatAllAnswersFit(runs)).toBeUndefined();
  });

  it(`fits both at once on the p95 of all answers where fewer than three runs measured a path over enough answers`, () => {
    const few = runs.map((r, i) => withPaths(r, i < 2 ? 100 : 19));
    const fitted = fitReplica(few, truth.queryFixedShare);
    expect(fitted.hitLatencyMs).toBeCloseTo(truth.hitLatencyMs, 2);
    expect(fitted.missLatencyMs).toBeCloseTo(truth.missLatencyMs, 2);
    const table = formatLatencyCalibration(few, fitted);
    expect(table).toContain('| not measured | not measured |');
    expect(table).toContain('The p95 of the hits alone within 15 %: 2 of 2, of the misses: 2 of 2');
  });

  it('needs two setups to separate hits from misses', () => {
    expect(() => fitReplica([modelRun(cold, 20, 0.3)])).toThrow(/two setups/);
  });

  it.each<[string, [number, number, number][], ReturnType<typeof measuredSaturation>]>([
    [
      'between the last rate that held and the first that broke',
      [
        [10, 50, 10],
        [20, 150, 20],
        [40, 900, 40],
      ],
      30,
    ],
    [
      'an unserved rate counts as broken',
      [
        [10, 50, 10],
        [20, 150, 12],
      ],
      15,
    ],
    [
      'never broken: not reached',
      [
        [10, 50, 10],
        [20, 150, 20],
      ],
      'not reached',
    ],
    [
      'a bisecting run measured after the grid narrows the step',
      [
        [10, 50, 10],
        [20, 150, 20],
        [40, 900, 40],
        [30, 180, 30],
      ],
      35,
    ],
    ['broken from the first rate', [[10, 500, 10]], 'below the lowest rate'],
  ])('saturation: %s', (_name, points, expected) => {
    const setupRuns = points.map(([offered, p95, served]) => ({
      ...modelRun(cold, offered, 0.3),
      achievedRps: served,
      p95Ms: p95,
      errorShare: 0,
    }));
    expect(measuredSaturation(setupRuns)).toBe(expected);
  });

  it.each<[string, [number, number, number][], number]>([
    // [offered rps, p95 ms, hit rate] per run → the hit rate the model's saturation is taken at
    [
      'the runs around the step, not the grid: a TTL’s hit rate rises with the rate',
      [
        [10, 40, 0.1],
        [80, 50, 0.38],
        [170, 150, 0.48],
        [175, 220, 0.46],
        [240, 2600, 0.44],
      ],
      0.47,
    ],
    [
      'none broke: the highest rate, where the break is compared',
      [
        [80, 50, 0.4],
        [10, 40, 0.2],
      ],
      0.4,
    ],
    ['broken from the first rate: every run', [[10, 500, 0.5]], 0.5],
  ])('saturation hit rate: %s', (_name, points, expected) => {
    const setupRuns = points.map(([offered, p95, hitRate]) => ({
      ...modelRun(cold, offered, hitRate),
      p95Ms: p95,
      errorShare: 0,
    }));
    expect(saturationHitRate(setupRuns)).toBeCloseTo(expected, 9);
  });

  it.each<[string, [number, number][], number, number | undefined]>([
    // [offered rps, p95 ms] per run, resolution → the next rate to measure
    [
      'the midpoint of the step',
      [
        [120, 80],
        [160, 90],
        [200, 900],
      ],
      0.05,
      180,
    ],
    [
      'a broken midpoint narrows from above',
      [
        [120, 80],
        [160, 90],
        [180, 400],
        [200, 900],
      ],
      0.05,
      170,
    ],
    [
      'within the resolution: done',
      [
        [170, 90],
        [175, 400],
      ],
      0.05,
      undefined,
    ],
    [
      'no whole rate between: done',
      [
        [5, 90],
        [6, 400],
      ],
      0.05,
      undefined,
    ],
    [
      'never broken: nothing to narrow',
      [
        [120, 80],
        [160, 90],
      ],
      0.05,
      undefined,
    ],
    [
      'resolution 0: no bisection',
      [
        [120, 80],
        [200, 900],
      ],
      0,
      undefined,
    ],
  ])('bisection: %s', (_name, points, resolution, expected) => {
    const setupRuns = points.map(([offered, p95]) => ({
      ...modelRun(cold, offered, 0.3),
      achievedRps: offered,
      p95Ms: p95,
      errorShare: 0,
    }));
    expect(bisectingRate(setupRuns, resolution)).toBe(expected);
  });

  it('reads the query time from runs where the DB was not busy: its wait is the model’s to add', () => {
    // At 500 rps and a 30 % hit rate the DB is 350 × 3 ms / 2 cores = 53 % busy.
    const busy = { ...modelRun(cold, 500, 0.3), queryMsPerMiss: 40 };
    expect(fitReplica([...runs, busy]).queryMs).toBeCloseTo(truth.queryMs, 6);
  });

  it('the fixed share that made the runs fits them best', () => {
    const fit = queryShareFit(runs, [0, 0.5, 0.9]);
    const best = fit.reduce((a, b) => (b.medianPercent < a.medianPercent ? b : a));
    expect(best.share).toBe(0.5);
    expect(best.medianPercent).toBeLessThan(1);
  });

  it('the model saturates earlier with a smaller pool, a lower hit rate and less DB CPU', () => {
    expect(modelSaturation(truth, 1, 0.3, DB_CORES)).toBeLessThan(modelSaturation(truth, 4, 0.3, DB_CORES));
    expect(modelSaturation(truth, 4, 0.3, DB_CORES)).toBeLessThan(modelSaturation(truth, 4, 0.9, DB_CORES));
    expect(modelSaturation(truth, 4, 0.3, 0.5)).toBeLessThan(modelSaturation(truth, 4, 0.3, DB_CORES));
  });
});

describe("givenDemands: the model with a run's own measured CPU", () => {
  const setup: ApiSetup = { endpoint: 'risk-analysis', poolSize: 5, ttlSeconds: 2 };
  const fitted: FittedReplica = { ...truth, idleCpuMsPerSecond: 20 };
  // A run that costs what the fit says: 0.5 · 0.5 + 0.5 · 3 = 1.75 ms a request, plus 20 ms a second idle at 40 rps.
  const asFitted: LatencyRun = {
    ...modelRun(setup, 40, 0.5),
    cpuMsPerRequest: 1.75 + 20 / 40,
  };

  it.each<[string, Partial<LatencyRun>, Partial<FittedReplica>]>([
    ['a run that cost what the fit says changes nothing', {}, {}],
    [
      'a machine twice as slow: twice the API CPU a request, and the DB CPU a miss it measured',
      { cpuMsPerRequest: 2 * 1.75 + 20 / 40, dbCpuMsPerMiss: 6 },
      { cpuMsPerHit: 1, cpuMsPerMiss: 6, dbCpuMsPerQuery: 6, queryMs: 1 + 6 },
    ],
    [
      'every answer a hit: no miss measured the DB, so its CPU stays the fit’s',
      { hitRate: 1, dbCpuMsPerMiss: 0 },
      { cpuMsPerHit: 0.5 * (1.75 / 0.5), cpuMsPerMiss: 3 * (1.75 / 0.5) },
    ],
    ['a run lighter than the idle CPU alone keeps the fit’s API costs', { cpuMsPerRequest: 0.2 }, {}],
  ])('%s', (_name, run, changed) => {
    const given = givenDemands(fitted, { ...asFitted, ...run });
    const expected = { ...fitted, ...changed };
    for (const key of Object.keys(expected) as (keyof FittedReplica)[]) {
      expect(given[key], key).toBeCloseTo(expected[key] as number, 9);
    }
  });

  it('models a slower machine’s run as slower', () => {
    const real = modelFor(
      givenDemands(fitted, { ...asFitted, cpuMsPerRequest: 2 * 1.75 + 0.5, dbCpuMsPerMiss: 6 }),
      asFitted,
    );
    expect(real.p95Ms).toBeGreaterThan(modelFor(fitted, asFitted).p95Ms);
  });

  it.each<[string, [number, number][], number | undefined]>([
    // [offered rps, p95 ms] per run → the rate whose demands model the saturation
    [
      'the highest rate that held below the step',
      [
        [80, 50],
        [160, 90],
        [200, 900],
        [240, 120],
      ],
      160,
    ],
    [
      'none broke: the highest rate',
      [
        [240, 60],
        [80, 50],
      ],
      240,
    ],
    ['the lowest rate broke: none', [[10, 500]], undefined],
  ])('saturation demands: %s', (_name, points, expected) => {
    const runs = points.map(([offered, p95]) => ({
      ...modelRun(setup, offered, 0.4),
      p95Ms: p95,
      errorShare: 0,
    }));
    expect(saturationDemandRun(runs)?.offeredRps).toBe(expected);
  });

  it('prints both models for every run and counts each against the goal', () => {
    const other: ApiSetup = { endpoint: 'risk-analysis', poolSize: 2, ttlSeconds: 2 };
    const runs = [asFitted, { ...modelRun(other, 20, 0.2), cpuMsPerRequest: 3 * 1.75 }];
    const table = formatLatencyCalibration(runs, fitted);
    expect(table).toContain("model given the run's CPU (Δ)");
    expect(table).toMatch(/Given each run's own CPU \(.*\): \d+ of 2\./);
    expect(table).toContain('model given the CPU at the step (Δ)');
  });
});

describe('repeatedPoints: one grid point across calibrations', () => {
  const setup: ApiSetup = { endpoint: 'risk-analysis', poolSize: 5, ttlSeconds: 2 };
  const point = (offeredRps: number, p95Ms: number, over: Partial<LatencyRun> = {}): LatencyRun => ({
    ...modelRun(setup, offeredRps, 0.3),
    offeredRps,
    p95Ms,
    ...over,
  });

  it('pairs the points that held in this run and in others, with the spread of their p95', () => {
    const mine = [point(5, 30), point(10, 40), point(20, 35), point(200, 900)];
    const earlier = [point(5, 42), point(10, 41), point(200, 800)];
    const later = [point(5, 36), point(20, 700), point(40, 50)];
    const points = repeatedPoints(mine, [earlier, later]);
    expect(points.map((p) => [p.run.offeredRps, p.p95Ms])).toEqual([
      [5, [30, 42, 36]],
      [10, [40, 41]],
    ]);
    expect(points[0]?.spread).toBeCloseTo(0.4, 9);
    expect(points[1]?.spread).toBeCloseTo(0.025, 9);
  });

  it('tells setups apart: another pool at the same rate is another point', () => {
    const other = { ...point(5, 60), setup: { ...setup, poolSize: 2 } };
    expect(repeatedPoints([point(5, 30)], [[other]])).toEqual([]);
  });

  it('prints the median spread and how many points are further apart than twice the goal', () => {
    const table = formatRepeatability(
      repeatedPoints([point(5, 30), point(10, 40)], [[point(5, 42), point(10, 41)]]),
    );
    expect(table).toMatch(/\| risk-analysis, pool 5, TTL 2 s \| 5 \| 40 \| 30\.0 · 42\.0 \| 40 % \|/);
    expect(table).toMatch(/median 40 % over 2 points; 1 of them more than 30 % apart/);
    expect(formatRepeatability([])).toMatch(/No point/);
  });
});
