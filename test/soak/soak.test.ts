/**
 * The short soak of CI: four minutes of the demo's stack under every fault type once, checked by
 * the observer (see docs/operations/soak.md). The seed alternates between two values by the day of
 * the year, so two schedules take turns; the one that ran is printed with the report.
 */
import { describe, expect, it } from 'vitest';
import { FAULT_TYPES, seedOfDay } from './fault-schedule.ts';
import { renderReport } from './observer/soak-report.ts';
import { runSoak } from './run-soak.ts';

/** The two seeds CI alternates between. */
const CI_SEEDS: readonly [number, number] = [1, 2];
/** The short soak's length: every fault type once (MIN_DURATION_SECONDS). */
const CI_DURATION_SECONDS = 240;

describe('the short soak', () => {
  it('holds every invariant through every fault type, and loses or duplicates no change', async () => {
    const seed = seedOfDay(new Date(), CI_SEEDS);
    const result = await runSoak({
      durationSeconds: CI_DURATION_SECONDS,
      seed,
      reportDir: '.testenv/soak-report',
      onLine: () => {},
    });
    console.log(renderReport(result));
    expect(result.notInjected).toEqual([]);
    expect(Object.keys(result.faults.byType).sort()).toEqual([...FAULT_TYPES].sort());
    expect(result.breaches).toEqual([]);
    expect({ lost: result.lost, duplicated: result.duplicated }).toEqual({ lost: 0, duplicated: 0 });
    expect(result.failedRequests.outsideFaultWindows).toBe(0);
    // The observer read the system the whole time, the operator's memory included.
    expect(result.samples).toBeGreaterThan(CI_DURATION_SECONDS / 2);
    expect(result.rss.samples).toBeGreaterThan(CI_DURATION_SECONDS / 2);
  }, 900_000);
});
