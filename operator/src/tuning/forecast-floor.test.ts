import { describe, expect, it } from 'vitest';
import { DAY_SECONDS, rateHistoryOf } from './forecast.ts';
import { recommendForecastFloor } from './forecast-floor.ts';
import { healthySnapshot, SAFE_KNOBS, specWith, TEST_SPEC } from './test-fixtures.ts';
import type { ForecastMode, TuningHistory } from './types.ts';

// Three days at 2,000 rps on 3 replicas at 55 % CPU (848 rps a pod at the 70 % target), with a
// 6,000 rps hour at 09:00 each day. Now is 08:58: the lead (135 s) reaches into the peak.
const now = 3 * DAY_SECONDS + 8 * 3600 + 58 * 60;
const rate = (t: number) => (Math.floor((t % DAY_SECONDS) / 3600) === 9 ? 6000 : 2000);
const minutes = Array.from({ length: (3 * DAY_SECONDS) / 60 + 538 }, (_, i) => i * 60);
const history: TuningHistory = {
  changes: [],
  snapshots: minutes.slice(-30).map((t) => healthySnapshot(t)),
  rates: rateHistoryOf(minutes.map((t) => ({ takenAtSeconds: t, requestsPerSecond: rate(t) }))),
};
const spec = (mode: ForecastMode) => specWith({ forecast: { mode, leadSeconds: 135 } });

describe('recommendForecastFloor', () => {
  it.each<[string, ForecastMode, number, number | undefined, boolean, RegExp]>([
    [
      'Auto raises the floor ahead of the peak',
      'Auto',
      2,
      8,
      true,
      /raises minReplicas to 8, above the reactive 2/,
    ],
    ['Recommend only reports it', 'Recommend', 2, 8, false, /spec.policy.forecast is Recommend: not applied/],
    ['never below the reactive rule', 'Auto', 9, 8, false, /not above the reactive 9/],
  ])('%s', (_name, mode, reactive, floor, applied, reason) => {
    const f = recommendForecastFloor(spec(mode), healthySnapshot(now), history, SAFE_KNOBS, reactive);
    expect(f?.minReplicas).toBe(floor);
    expect(f?.applied).toBe(applied);
    expect(f?.reason).toMatch(reason);
  });

  it('only ahead of a rise: not where the ready pods already serve the forecast', () => {
    const onThePlateau = healthySnapshot(now, { readyReplicas: 8, cpuUtilization: 0.2 });
    const f = recommendForecastFloor(spec('Auto'), onThePlateau, history, SAFE_KNOBS, 2);
    expect(f?.applied).toBe(false);
    expect(f?.reason).toMatch(/which the 8 ready pods already cover/);
  });

  it('says where the last hour ran above any level its hour has shown, and keeps the level within it', () => {
    // Today the 6,000 rps hour came at 08:00: 3× the usual 2,000, which 09:00 × 3 would make 18,000.
    const early = (t: number) => (t >= now - 3480 ? 6000 : rate(t));
    const shifted = {
      ...history,
      rates: rateHistoryOf(minutes.map((t) => ({ takenAtSeconds: t, requestsPerSecond: early(t) }))),
    };
    const f = recommendForecastFloor(spec('Auto'), healthySnapshot(now), shifted, SAFE_KNOBS, 2);
    expect(f?.reason).toMatch(
      /× level 1.00 \(the last hour ran 3.00×; the same hour ran at most 1.00× in 2 past seasons\).*: 6000 rps within/,
    );
    expect(f?.minReplicas).toBe(8);
  });

  it('says where the last quarter hour ran below the hour, and follows it down', () => {
    // At 09:58 on day 3 the 6,000 rps hour ended early, at 09:40. The hour ran as the 09:00 hours
    // before it (1×) but for its last three buckets, a third of the usual: the level is the bound
    // 0.5, and the floor asks for 3,000 rps (4 pods at 848), not the usual 6,000 (8 pods).
    const at = now + 3600;
    const fellEarly = (t: number) => (t >= at - 1080 ? 2000 : rate(t));
    const fallen = {
      ...history,
      rates: rateHistoryOf(
        Array.from({ length: at / 60 }, (_, i) => i * 60).map((t) => ({
          takenAtSeconds: t,
          requestsPerSecond: fellEarly(t),
        })),
      ),
    };
    const f = recommendForecastFloor(spec('Auto'), healthySnapshot(at), fallen, SAFE_KNOBS, 2);
    expect(f?.reason).toMatch(
      /× level 0.50 \(the last hour ran 1.00×, the last 15 minutes 0.33×\).*: 3000 rps within/,
    );
    expect(f?.minReplicas).toBe(4);
  });

  it('names the last 15 minutes where they ran below the hour but still above the hour ever ran', () => {
    // The 6,000 rps hour came at 08:00 (3× the usual 2,000) and fell to 4,000 (2×) at 08:40.
    const early = (t: number) => (t >= now - 1080 ? 4000 : t >= now - 3480 ? 6000 : rate(t));
    const shifted = {
      ...history,
      rates: rateHistoryOf(minutes.map((t) => ({ takenAtSeconds: t, requestsPerSecond: early(t) }))),
    };
    const f = recommendForecastFloor(spec('Auto'), healthySnapshot(now), shifted, SAFE_KNOBS, 2);
    expect(f?.reason).toMatch(
      /× level 1.00 \(the last 15 minutes ran 2.00×; the same hour ran at most 1.00× in 2 past seasons\)/,
    );
  });

  it('is not computed when Off', () => {
    expect(recommendForecastFloor(spec('Off'), healthySnapshot(now), history, SAFE_KNOBS, 2)).toBeUndefined();
  });

  it('is off, with the reason, before a full day of history', () => {
    const short = {
      ...history,
      rates: rateHistoryOf([{ takenAtSeconds: now - 60, requestsPerSecond: 2000 }]),
    };
    const f = recommendForecastFloor(spec('Auto'), healthySnapshot(now), short, SAFE_KNOBS, 2);
    expect(f).toMatchObject({ applied: false, forecast: { on: false } });
    expect(f?.reason).toMatch(/forecast off: .* the forecast needs one full day/);
  });

  it('stays within the DB budget', () => {
    // Pools of 20: 97 connections hold 4 pods.
    const f = recommendForecastFloor(
      spec('Auto'),
      healthySnapshot(now),
      history,
      { ...SAFE_KNOBS, poolSize: 20 },
      2,
    );
    expect(f?.minReplicas).toBe(4);
  });

  it('asks for no floor on the prior capacity', () => {
    const f = recommendForecastFloor(
      spec('Auto'),
      healthySnapshot(now),
      { ...history, snapshots: [] },
      SAFE_KNOBS,
      2,
    );
    expect(f?.minReplicas).toBeUndefined();
    expect(f?.reason).toMatch(/no floor until the capacity per replica is measured/);
  });
});

describe('the default profile', () => {
  it('computes the forecast but does not apply it', () => {
    expect(TEST_SPEC.forecast.mode).toBe('Recommend');
  });
});
