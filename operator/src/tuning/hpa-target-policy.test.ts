import { describe, expect, it } from 'vitest';
import { EMPTY_HISTORY, evaluate } from './evaluate.ts';
import {
  hpaActsFrom,
  loadGrowth,
  rateTargetScale,
  recommendHpaTarget,
  recommendRateTarget,
  safeLevel,
  safeUtilization,
} from './hpa-target-policy.ts';
import { recommendReplicaBounds } from './replica-policy.ts';
import { cpuTargets, healthySnapshot, SAFE_KNOBS, specWith, TEST_SPEC } from './test-fixtures.ts';
import { DEFAULT_HPA_TOLERANCE, hpaDesiredReplicas } from './tuning-spec.ts';
import { hpaUsageRatio, type MetricSnapshot, perPodRpsAtTargets } from './types.ts';

// TEST_SPEC: p95 SLO 200 ms (the margin puts the bar at 180 ms), errors 0.1 %, lead 135 s
// (60 s start-up + 15 s HPA sync + 60 s evaluation), the target's bounds 50..85 %.
const spec = TEST_SPEC;

/** A history of one snapshot a minute: CPU and p95 from a function of the minute, rps growing by `growth` a minute. */
function history(
  minutes: number,
  cpuAt: (i: number) => number,
  p95At: (i: number) => number = () => 80,
  growthPerMinute = 1,
): MetricSnapshot[] {
  return Array.from({ length: minutes }, (_, i) =>
    healthySnapshot(60 * (i + 1), {
      requestsPerSecond: 2000 * growthPerMinute ** (i % 10),
      cpuUtilization: cpuAt(i),
      p95LatencyMs: p95At(i),
    }),
  );
}

/** CPU cycling 40 %..89 % in 1-point steps, so every 5-point bin from 40 to 85 holds 5 samples per 50 minutes. */
const sweep = (i: number) => 0.4 + (i % 50) / 100;
/** CPU cycling 40 %..69 %: an HPA at 70 % never lets the pods run hotter. */
const cool = (i: number) => 0.4 + (i % 30) / 100;

describe('recommendHpaTarget', () => {
  it.each<[string, MetricSnapshot[], number | undefined, RegExp]>([
    [
      'too little history: says how many pairs are missing',
      history(20, sweep),
      undefined,
      /needs 30 pairs of snapshots 135 s apart, 17 so far/,
    ],
    [
      'no CPU band sampled enough: says so',
      history(40, (i) => 0.4 + i / 40),
      undefined,
      /no 5-point CPU band has 5 snapshots yet/,
    ],
    [
      'p95 met up to 89 % CPU on a flat load: the hottest target within the bounds',
      history(100, sweep),
      85,
      /HPA target 70 % → 85 % \(bounds 50-85 %\): pods met p95 within 90 % of 200 ms up to 89 % CPU/,
    ],
    [
      'p95 missed from 75 % CPU: the target stays below it',
      history(100, sweep, (i) => (sweep(i) >= 0.75 ? 260 : 80)),
      74,
      /up to 74 % CPU; pods at 75-80 % CPU missed it \(p95 260 ms/,
    ],
    [
      'pods at the target already miss p95: a cooler target',
      history(100, sweep, (i) => (sweep(i) >= 0.6 ? 260 : 80)),
      59,
      /HPA target 70 % → 59 %/,
    ],
    [
      'load growing 10 % a minute and p95 missed from 85 % CPU: headroom for the growth below it',
      history(100, sweep, (i) => (sweep(i) >= 0.85 ? 260 : 80), 1.1),
      67,
      // 135 s is 2¼ minutes: 1.1² and a quarter of the third minute's growth, 1.24×.
      /up to 84 % CPU; pods at 85-90 % CPU missed it.*the load grew up to 1\.24× within the 135 s lead \(95th percentile of 97\), so 84 \/ 1\.24 = 67 %/,
    ],
    [
      'no miss, p95 under half the SLO at the hottest CPU seen: one bin beyond it',
      history(100, cool),
      74,
      /HPA target 70 % → 74 %: pods met p95 within 90 % of 200 ms up to 69 % CPU \(p95 80 ms there, within 50 % of the SLO: one 5-point bin more, 74 %\)/,
    ],
    [
      'steady pods at 66-69 % under a 70 % target: the probe goes past the HPA tolerance, or the HPA would ignore it',
      history(100, (i) => 0.66 + (i % 4) / 100),
      77,
      /one 5-point bin more, 74 %\).*so 74 \/ 1\.00 = 74 %; at 69 % CPU the HPA removes a pod only from a 77 % target \(its 10 % scale-down tolerance\), so 77 %/,
    ],
    [
      'pods now far hotter than any judged band: the probe stays one bin past what was measured',
      history(100, (i) => (i === 99 ? 0.8 : 0.66 + (i % 4) / 100)),
      74,
      /so 74 \/ 1\.00 = 74 %$/,
    ],
    [
      'pods at 76-79 % and load growing 3 % a minute: no push past the tolerance that would spend the headroom',
      history(
        100,
        (i) => 0.76 + (i % 4) / 100,
        () => 80,
        1.03,
      ),
      78,
      // The HPA acts from 88 % at 79 % CPU; 88 × 1.07 is past 79 + 10, so the step stays u / g.
      /one 5-point bin more, 84 %\).*the load grew up to 1\.07×.*so 84 \/ 1\.07 = 78 %$/,
    ],
    [
      'no miss, but pods never seen as hot as the target: held, not lowered',
      history(100, cool, () => 150),
      70,
      /HPA target held at 70 %: .*so 69 \/ 1\.00 = 69 %, but no miss was measured where CPU limits p95/,
    ],
    [
      'a miss at cool CPU while hotter pods met the SLO is not blamed on CPU',
      history(100, sweep, (i) => (sweep(i) < 0.45 ? 400 : 80)),
      85,
      /up to 89 % CPU/,
    ],
    [
      'p95 missed at the coolest CPU: CPU is not what limits p95, the target is held',
      history(100, sweep, () => 400),
      undefined,
      /pods missed p95 within 90 % of 200 ms at the coolest measured CPU.*so CPU is not what limits p95/,
    ],
  ])('%s', (_name, snapshots, percent, reason) => {
    const [last, ...before] = [...snapshots].reverse();
    if (!last) throw new Error('empty history');
    const need = recommendHpaTarget(spec, last, before.reverse(), 70);
    expect(need.value).toBe(percent);
    expect(need.reason).toMatch(reason);
  });

  it('a bin with errors above the SLO stops the walk like a slow one', () => {
    const snapshots = history(100, sweep).map((s) =>
      s.cpuUtilization >= 0.7 ? { ...s, errorRate: 0.01 } : s,
    );
    expect(safeUtilization(spec, snapshots)).toMatchObject({
      utilization: 0.69,
      failedBin: { fromPercent: 70, errorRate: 0.01 },
    });
  });

  it('a bin with too few snapshots is passed over, not judged', () => {
    const snapshots = [
      ...history(10, () => 0.5),
      ...history(
        3,
        () => 0.62,
        () => 900,
      ),
      ...history(10, () => 0.71),
    ];
    expect(safeUtilization(spec, snapshots)).toEqual({
      utilization: 0.71,
      judgedBins: 2,
      probe: { p95Ms: 80, allowed: true },
    });
  });

  it.each([0.45, 0.62, 0.69, 0.72, 0.8])(
    'at %s CPU the HPA removes a pod from the hpaActsFrom target, not from one point cooler',
    (utilization) => {
      const acts = hpaActsFrom(utilization, DEFAULT_HPA_TOLERANCE);
      expect(hpaDesiredReplicas(10, utilization, acts / 100, 10)).toBeLessThan(10);
      expect(hpaDesiredReplicas(10, utilization, (acts - 1) / 100, 10)).toBe(10);
    },
  );

  it("with the HPA's own 2 % scale-down tolerance a plain bin's step is enough, and the reason names it", () => {
    const steady = history(100, (i) => 0.66 + (i % 4) / 100);
    const [last, ...before] = [...steady].reverse();
    if (!last) throw new Error('empty history');
    const ownTolerance = specWith({ hpaTolerance: { scaleUp: 0.1, scaleDown: 0.02 } });
    // 0.69 / 0.71 is 2.8 % below 1: the HPA acts from 71 %, under the plain step's 74 %.
    expect(hpaActsFrom(0.69, { scaleUp: 0.1, scaleDown: 0.02 })).toBe(71);
    const need = recommendHpaTarget(ownTolerance, last, before.reverse(), 70);
    expect(need.value).toBe(74);
    expect(need.reason).toMatch(/so 74 \/ 1\.00 = 74 %$/);
    // A scale-down tolerance of 1 means the HPA never removes a pod: nothing to reach.
    expect(hpaActsFrom(0.69, { scaleUp: 0.1, scaleDown: 1 })).toBe(Number.POSITIVE_INFINITY);
  });

  it('a gap in the history is no growth over one lead', () => {
    const snapshots = [healthySnapshot(0), healthySnapshot(10_000, { requestsPerSecond: 20_000 })];
    expect(loadGrowth(snapshots, 135)).toEqual({ pairs: 0 });
  });
});

describe('the HPA target through the engine', () => {
  const knobs = { ...SAFE_KNOBS, minReplicas: 3, maxReplicas: 10 };
  const measured = history(100, sweep).map((s, i) => ({ ...s, takenAtSeconds: 60 * (i + 1) }));
  const now = 60 * 101;
  const snapshot = healthySnapshot(now, { cpuUtilization: 0.7 });

  it('raises the target by at most the step cap, and only where the profile tunes it', () => {
    const tuned = evaluate(spec, snapshot, knobs, { changes: [], snapshots: measured }, now);
    expect(tuned.decisions.find((d) => d.knob === 'hpaTargetCpuPercent')).toMatchObject({
      from: 70,
      to: 85,
      verdict: 'apply',
    });
    const held = evaluate(
      specWith({ untunedKnobs: { hpaTargetCpuPercent: 'spec.knobs.hpaTarget is not set' } }),
      snapshot,
      knobs,
      { changes: [], snapshots: measured },
      now,
    );
    expect(held.proposals.some((p) => p.knob === 'hpaTargetCpuPercent')).toBe(false);
    expect(held.decisions.find((d) => d.knob === 'hpaTargetCpuPercent')).toMatchObject({
      to: 70,
      verdict: 'hold',
      reason: 'not tuned: spec.knobs.hpaTarget is not set',
    });
  });

  it('with too little history, holds the target and says what is missing', () => {
    const decision = evaluate(spec, snapshot, knobs, EMPTY_HISTORY, now).decisions.find(
      (d) => d.knob === 'hpaTargetCpuPercent',
    );
    expect(decision?.verdict).toBe('hold');
    expect(decision?.reason).toMatch(
      /needs 30 pairs of snapshots 135 s apart, 0 so far; gate: already at 70/,
    );
  });

  it('a hotter target in force lowers the replicas the reactive rules ask for', () => {
    // 1,212 rps a replica at full CPU (2,000 rps on 3 pods at 55 %): 6,000 rps needs 8 pods at 70 %, 6 at 85 %.
    const load = healthySnapshot(now, { requestsPerSecond: 6000 });
    const before = [60, 120, 180].map((t) => healthySnapshot(t));
    const at = (target: number) =>
      recommendReplicaBounds(spec, load, before, cpuTargets(target)).peakReplicas;
    expect([at(70), at(85)]).toEqual([8, 6]);
  });
});

describe('the request-rate target', () => {
  // A profile that tunes a request-rate target within 100..1000 rps a pod: 50-rps bins.
  const rateSpec = specWith({
    knobs: { ...TEST_SPEC.knobs, hpaTargetRequestsPerPod: { min: 100, max: 1000 } },
    untunedKnobs: {},
  });
  /** 2,000 rps on as many pods as give 200..690 rps a pod in 10-rps steps, one snapshot a minute. */
  const level = (i: number) => 200 + (i % 50) * 10;
  const rateHistory = (p95At: (perPod: number) => number = () => 80) =>
    Array.from({ length: 100 }, (_, i) =>
      healthySnapshot(60 * (i + 1), { readyReplicas: 2000 / level(i), p95LatencyMs: p95At(level(i)) }),
    );
  const need = (snapshots: MetricSnapshot[], current: number) => {
    const [last, ...before] = [...snapshots].reverse();
    if (!last) throw new Error('empty history');
    return recommendRateTarget(rateSpec, last, before.reverse(), current);
  };

  it('bins by requests per pod, 1/20 of the bounds’ maximum wide', () => {
    expect(rateTargetScale(rateSpec).binWidth).toBe(50);
    expect(safeLevel(rateSpec, rateHistory(), rateTargetScale(rateSpec))).toMatchObject({
      level: 690,
      judgedBins: 10,
      probe: { allowed: true },
    });
  });

  it.each<[string, (perPod: number) => number, number, number, RegExp]>([
    [
      'p95 met at every rate measured: one bin past it, then on to where the HPA acts',
      () => 80,
      400,
      767,
      // 690 rps a pod stay within the 10 % tolerance of targets up to 766.
      /^HPA request-rate target 400 rps a pod → 767 rps a pod: pods met p95 within 90 % of 200 ms up to 690 rps a pod \(p95 80 ms there, within 50 % of the SLO: one 50-rps bin more, 740 rps a pod\).*at 690 rps a pod the HPA removes a pod only from a 767 rps a pod target/,
    ],
    [
      'p95 missed from 600 rps a pod: the target stays below it',
      (perPod) => (perPod >= 600 ? 260 : 80),
      400,
      590,
      /up to 590 rps a pod; pods at 600-650 rps a pod missed it \(p95 260 ms/,
    ],
    [
      'a target above the rate where p95 broke comes down',
      (perPod) => (perPod >= 600 ? 260 : 80),
      800,
      590,
      /^HPA request-rate target 800 rps a pod → 590 rps a pod/,
    ],
    [
      'p95 missed at the coolest rate: the rate is not what limits p95',
      () => 400,
      400,
      400,
      /^HPA request-rate target held at 400 rps a pod: pods missed .* at the coolest measured rate.*so the request rate per pod is not what limits p95/,
    ],
  ])('%s', (_name, p95At, current, expected, reason) => {
    const result = need(rateHistory(p95At), current);
    expect(result.value ?? current).toBe(expected);
    expect(result.reason).toMatch(reason);
  });

  it('through the engine: tuned where the HPA has the target, held where it has none', () => {
    const snapshots = rateHistory();
    const now = 60 * 101;
    const snapshot = healthySnapshot(now, { readyReplicas: 2000 / 690 });
    const knobs = { ...SAFE_KNOBS, minReplicas: 3, maxReplicas: 10 };
    const tuned = evaluate(
      rateSpec,
      snapshot,
      { ...knobs, hpaTargetRequestsPerPod: 400 },
      { changes: [], snapshots },
      now,
    );
    expect(tuned.decisions.find((d) => d.knob === 'hpaTargetRequestsPerPod')).toMatchObject({
      from: 400,
      to: 600, // the step cap: half of 400
      verdict: 'apply',
    });
    const none = evaluate(
      rateSpec,
      snapshot,
      { ...knobs, hpaTargetRequestsPerPod: 0 },
      { changes: [], snapshots },
      now,
    );
    expect(none.decisions.find((d) => d.knob === 'hpaTargetRequestsPerPod')).toMatchObject({
      to: 0,
      verdict: 'hold',
      reason: 'not tuned: the HPA has no request-rate target',
    });
  });
});

describe('the HPA targets in force', () => {
  it.each<[string, number, number, number, number]>([
    // [name, CPU target %, rate target, per-pod rps at the targets (1,000 rps at full CPU), usage at 60 % CPU and 500 rps a pod]
    ['a CPU target alone', 70, 0, 700, 60 / 70],
    ['a request-rate target tighter than the CPU target', 70, 400, 400, 500 / 400],
    ['a request-rate target looser than the CPU target', 70, 900, 700, 60 / 70],
  ])('%s', (_name, cpu, rate, perPod, usage) => {
    const targets = { hpaTargetCpuPercent: cpu, hpaTargetRequestsPerPod: rate };
    expect(perPodRpsAtTargets(targets, 1000)).toBeCloseTo(perPod, 9);
    const snapshot = healthySnapshot(0, { cpuUtilization: 0.6, requestsPerSecond: 2000, readyReplicas: 4 });
    expect(hpaUsageRatio(snapshot, targets)).toBeCloseTo(usage, 9);
  });
});
