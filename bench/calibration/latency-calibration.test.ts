/**
 * The simulator's replica model against the real risk API (one core) on PostgreSQL and Redis,
 * under `perfpilot loadtest`'s Poisson arrivals, on a few light points of the calibration grid:
 * the measurements are sound (what was sent was answered, the API's counters and PostgreSQL's CPU
 * agree with the load), and the fitted model's p95 is within a factor of the real one. The 15 %
 * goal and the saturation rates are judged on the benchmark's grid (`npm run bench -- calibration
 * --latency`, docs/simulator.md): a p95 of tens of milliseconds on a CI machine running
 * other tests beside this one moves by more than that.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fitReplica, formatLatencyCalibration, modelFor, saturated } from './latency-fit.ts';
import { type LatencyStack, measureSetup, startLatencyStack } from './latency-load.ts';
import type { LatencyRun } from './latency-run.ts';

/**
 * How far the model's p95 may be from the real one in CI, on every point and at the median of
 * |model / real − 1|. Run alone on the development machine the median was 20 % on these 4-second
 * points. A CI run with an integration test beside it (PostgreSQL had 0.9 of a core instead of
 * 1.7) saw one point at 0.33 × and a median of 35 %: this file now runs alone (vitest.config.ts).
 * Under the burst load autocannon's rate limit sent, the test failed both by far (the model, fitted
 * to a queue it does not have, broke at every point).
 */
const P95_FACTOR = 3;
const P95_MEDIAN_SHARE = 0.5;
const RATES = [10, 40] as const;

describe('latency calibration: the replica model against the real risk API', () => {
  let stack: LatencyStack;
  const runs: LatencyRun[] = [];

  beforeAll(async () => {
    stack = await startLatencyStack();
    // Two pools, and two TTLs so that hits and misses can be told apart in the CPU a request costs.
    for (const [poolSize, ttlSeconds] of [
      [5, 2],
      [2, 2],
      [5, 300],
    ] as const) {
      runs.push(
        ...(await measureSetup(stack, { endpoint: 'risk-analysis', poolSize, ttlSeconds }, RATES, {
          seconds: 4,
        })),
      );
    }
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('serves the light points: what was sent is answered, without errors', () => {
    expect(runs).toHaveLength(6);
    for (const run of runs) {
      expect(run.errorShare).toBe(0);
      expect(run.achievedRps).toBeGreaterThan(0.9 * run.sentRps);
      // A Poisson count over 4 s: 40 expected at 10 rps (sd 6), 160 at 40 (sd 13).
      expect(run.sentRps).toBeGreaterThan(0.6 * run.offeredRps);
      expect(run.sentRps).toBeLessThan(1.4 * run.offeredRps);
    }
  });

  it('measures a miss as a query that PostgreSQL spends CPU on, and part of the answers as hits', () => {
    for (const run of runs) {
      expect(run.hitRate).toBeGreaterThan(0);
      expect(run.hitRate).toBeLessThan(0.9);
      expect(run.queryMsPerMiss).toBeGreaterThan(0);
      expect(run.dbCpuMsPerMiss).toBeGreaterThan(0);
      // PostgreSQL's CPU is part of the query's time, give or take the CPU a miss costs elsewhere.
      expect(run.dbCpuMsPerMiss).toBeLessThan(1.5 * run.queryMsPerMiss + 1);
      expect(run.dbCores).toBeGreaterThan(0);
    }
  });

  it(`fits a model whose p95 is within ${P95_FACTOR} × of every light point's, and ${100 * P95_MEDIAN_SHARE} % at the median`, () => {
    const params = fitReplica(runs);
    const table = formatLatencyCalibration(runs, params);
    const errors: number[] = [];
    for (const run of runs.filter((r) => !saturated(r))) {
      const ratio = modelFor(params, run).p95Ms / run.p95Ms;
      expect(ratio, table).toBeGreaterThan(1 / P95_FACTOR);
      expect(ratio, table).toBeLessThan(P95_FACTOR);
      errors.push(Math.abs(ratio - 1));
    }
    errors.sort((a, b) => a - b);
    expect(errors[Math.floor(errors.length / 2)], table).toBeLessThan(P95_MEDIAN_SHARE);
    // A miss is one query on price_series (a fraction of a millisecond of PostgreSQL's CPU since
    // the one-row-per-symbol layout): the fit must still find it, not fold it into the API's CPU.
    expect(params.dbCpuMsPerQuery, table).toBeGreaterThan(0);
  });
});
