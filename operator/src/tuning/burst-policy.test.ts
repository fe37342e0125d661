import { describe, expect, it } from 'vitest';
import { recommendBurstFloor } from './burst-policy.ts';
import { EMPTY_HISTORY, evaluate, recordEvaluation } from './evaluate.ts';
import { healthySnapshot, SAFE_KNOBS, specWith, TEST_SPEC } from './test-fixtures.ts';
import type { KnobValues, TuningHistory } from './types.ts';

// Three minutes of 2,000 rps on 3 replicas at 55 % CPU: a measured 1,212 rps a replica at full
// CPU, 848 at the 70 % target, so 3 ready pods serve 2,545 rps and 2× of that is 5,091 rps.
const measured = [60, 120, 180].map((t) => healthySnapshot(t));
const at = (rps: number, ready = 3) =>
  healthySnapshot(240, {
    requestsPerSecond: rps,
    readyReplicas: ready,
    cpuUtilization: 1,
    p95LatencyMs: 900,
  });

describe('recommendBurstFloor', () => {
  it.each<[string, number, Partial<KnobValues>, number, number | undefined, RegExp | undefined]>([
    ['1.6× is no burst: the HPA keeps up', 4000, {}, 2, undefined, undefined],
    ['2.4× raises the floor to what the rate needs', 6000, {}, 2, 8, /minReplicas 2 → 8 at once/],
    ['2.4× under a 3× setting is no burst', 6000, {}, 3, undefined, undefined],
    [
      'the replica ceiling bounds it',
      20_000,
      { poolSize: 4 },
      2,
      20,
      /the rate needs 24; the replica ceiling is 20/,
    ],
    [
      'the DB budget bounds it',
      20_000,
      { poolSize: 8 },
      2,
      12,
      /the DB budget of 97 connections holds 12 pods of 8/,
    ],
    [
      'a floor already high enough is left alone',
      6000,
      { minReplicas: 8, maxReplicas: 10 },
      2,
      undefined,
      undefined,
    ],
  ])('%s', (_name, rps, knobs, ratio, floor, reason) => {
    const burst = recommendBurstFloor(specWith({ burst: { ratio } }), at(rps), measured, {
      ...SAFE_KNOBS,
      ...knobs,
    });
    expect(burst?.minReplicas).toBe(floor);
    if (reason) expect(burst?.reason).toMatch(reason);
  });

  it('says it is the only rule that skips the cooldown', () => {
    expect(recommendBurstFloor(TEST_SPEC, at(6000), measured, SAFE_KNOBS)?.reason).toMatch(
      /the only one that skips the cooldown and the step cap/,
    );
  });
});

describe('the burst through the safety gate', () => {
  const spec = TEST_SPEC; // cooldown 600 s, step 50 %, stabilization window 1,800 s
  // A minReplicas change 120 s ago: any other rule would wait out the cooldown.
  const recent: TuningHistory = {
    snapshots: measured,
    changes: [
      {
        knob: 'minReplicas',
        from: 3,
        to: 2,
        atSeconds: -1900,
        sloMetBefore: true,
        requestsPerSecondBefore: 2000,
        rollback: false,
      },
      {
        knob: 'minReplicas',
        from: 2,
        to: 3,
        atSeconds: 120,
        sloMetBefore: true,
        requestsPerSecondBefore: 2000,
        rollback: false,
      },
    ],
  };
  const knobs = { ...SAFE_KNOBS, minReplicas: 3, maxReplicas: 6 };

  it('raises minReplicas and the ceiling at once, inside the cooldown and past the step cap', () => {
    const { next, decisions } = evaluate(spec, at(6000), knobs, recent, 240);
    expect(next.minReplicas).toBe(8);
    expect(next.maxReplicas).toBeGreaterThanOrEqual(8);
    expect(decisions.find((d) => d.knob === 'minReplicas')?.verdict).toBe('apply');
  });

  it('holds the raised floor for the stabilization window, then lets the reactive rule lower it', () => {
    const burst = evaluate(spec, at(6000), knobs, recent, 240);
    const history = recordEvaluation(spec, recent, at(6000), burst, 240, true);
    // The burst is over: 2,000 rps again on the 8 pods it asked for.
    const calm = (t: number) => healthySnapshot(t, { readyReplicas: 8, cpuUtilization: 0.2 });
    const during = evaluate(spec, calm(240 + 1200), burst.next, history, 240 + 1200);
    expect(during.next.minReplicas).toBe(8);
    expect(during.decisions.find((d) => d.knob === 'minReplicas')?.reason).toMatch(/stabilization window/);
    const after = evaluate(spec, calm(240 + 1860), burst.next, history, 240 + 1860);
    expect(after.next.minReplicas).toBeLessThan(8);
  });

  it('leaves a calm minute to the other rules', () => {
    const { decisions } = evaluate(
      spec,
      healthySnapshot(240),
      knobs,
      { ...EMPTY_HISTORY, snapshots: measured },
      240,
    );
    expect(decisions.find((d) => d.knob === 'minReplicas')?.reason).not.toMatch(/burst/);
  });
});
