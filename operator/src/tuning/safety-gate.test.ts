import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { EMPTY_HISTORY, evaluate } from './evaluate.ts';
import { enforceInvariants, gateProposals, snapshotProblem } from './safety-gate.ts';
import { healthySnapshot, SAFE_KNOBS, specWith, TEST_SPEC } from './test-fixtures.ts';
import { connectionBudget, maxMemoryCeilingMiB } from './tuning-spec.ts';
import type {
  AppliedChange,
  KnobValues,
  MetricSnapshot,
  Proposal,
  TuningHistory,
  TuningSpec,
} from './types.ts';
import { KNOB_NAMES } from './types.ts';

const spec = TEST_SPEC;
const now = 10_000;

function change(
  partial: Partial<AppliedChange> & Pick<AppliedChange, 'knob' | 'from' | 'to' | 'atSeconds'>,
): AppliedChange {
  return { sloMetBefore: true, rollback: false, requestsPerSecondBefore: 2000, ...partial };
}

function gateOne(
  proposal: Proposal,
  history: TuningHistory = EMPTY_HISTORY,
  snapshot = healthySnapshot(now),
) {
  const { decisions } = gateProposals(spec, snapshot, SAFE_KNOBS, [proposal], history, now);
  const decision = decisions.find((d) => d.knob === proposal.knob);
  if (!decision) throw new Error('no decision');
  return decision;
}

function satisfiesInvariants(s: TuningSpec, v: KnobValues): boolean {
  return (
    v.maxReplicas * (v.poolSize + v.maxOverflow) <= connectionBudget(s) &&
    v.minReplicas >= 2 &&
    v.minReplicas >= s.pdbMinAvailable &&
    v.minReplicas <= v.maxReplicas &&
    v.redisMaxmemoryMiB <= 0.75 * s.redisMemoryLimitMiB &&
    v.poolSize >= 1 &&
    KNOB_NAMES.every((k) => Number.isInteger(v[k]))
  );
}

describe('snapshotProblem (fail static)', () => {
  it.each<[string, MetricSnapshot | undefined, RegExp]>([
    ['missing', undefined, /missing/],
    ['stale', healthySnapshot(now - 600), /stale: 600 s old, limit 180 s/],
    ['from the future', healthySnapshot(now + 60), /future/],
    ['NaN latency', healthySnapshot(now, { p95LatencyMs: Number.NaN }), /p95LatencyMs is not a number/],
    ['negative rate', healthySnapshot(now, { requestsPerSecond: -1 }), /requestsPerSecond is negative/],
    [
      'infinite redis',
      healthySnapshot(now, { redis: { hitsPerSecond: Number.POSITIVE_INFINITY } }),
      /redis.hitsPerSecond is infinite/,
    ],
    ['error rate above 1', healthySnapshot(now, { errorRate: 2 }), /errorRate is above 1/],
    ['no replicas under load', healthySnapshot(now, { readyReplicas: 0 }), /readyReplicas is 0/],
  ])('rejects a %s snapshot', (_name, snapshot, reason) => {
    expect(snapshotProblem(spec, snapshot, now)).toMatch(reason);
    const { decisions, next } = gateProposals(
      spec,
      snapshot,
      SAFE_KNOBS,
      [{ knob: 'poolSize', value: 20, reason: 'wanted' }],
      EMPTY_HISTORY,
      now,
    );
    expect(next).toEqual(SAFE_KNOBS);
    // Every knob is held: the tuned ones fail static; TEST_SPEC tunes no request-rate target.
    const tuned = decisions.filter((d) => d.knob !== 'hpaTargetRequestsPerPod');
    expect(tuned.every((d) => d.verdict === 'hold' && d.reason.startsWith('fail static'))).toBe(true);
    expect(decisions.find((d) => d.knob === 'hpaTargetRequestsPerPod')).toMatchObject({
      verdict: 'hold',
      reason: expect.stringMatching(/^not tuned: spec.knobs.hpaTarget.requestRate is not set/),
    });
  });

  it('accepts a fresh, complete snapshot', () => {
    expect(snapshotProblem(spec, healthySnapshot(now - 60), now)).toBeUndefined();
  });
});

describe('gate rules per knob', () => {
  it.each<[string, Proposal, TuningHistory, number, RegExp]>([
    ['applies a modest change', { knob: 'poolSize', value: 10, reason: 'r' }, EMPTY_HISTORY, 10, /8 → 10/],
    [
      'holds inside the deadband',
      { knob: 'redisMaxmemoryMiB', value: 540, reason: 'r' },
      EMPTY_HISTORY,
      512,
      /deadband/,
    ],
    [
      'caps the step at 50 %',
      { knob: 'redisMaxmemoryMiB', value: 4000, reason: 'r' },
      EMPTY_HISTORY,
      768,
      /step capped at 256/,
    ],
    ['moves at least one unit', { knob: 'minReplicas', value: 3, reason: 'r' }, EMPTY_HISTORY, 3, /2 → 3/],
    [
      'holds during the cooldown',
      { knob: 'poolSize', value: 10, reason: 'r' },
      { changes: [change({ knob: 'poolSize', from: 6, to: 8, atSeconds: now - 300 })], snapshots: [] },
      8,
      /cooldown, last change 300 s ago/,
    ],
    [
      'holds a reversal inside the stabilization window',
      { knob: 'poolSize', value: 6, reason: 'r' },
      { changes: [change({ knob: 'poolSize', from: 6, to: 8, atSeconds: now - 1000 })], snapshots: [] },
      8,
      /stabilization window/,
    ],
    [
      'allows a reversal after the stabilization window',
      { knob: 'poolSize', value: 10, reason: 'r' },
      { changes: [change({ knob: 'poolSize', from: 10, to: 8, atSeconds: now - 2000 })], snapshots: [] },
      10,
      /8 → 10/,
    ],
    [
      'allows the same direction after the cooldown',
      { knob: 'poolSize', value: 6, reason: 'r' },
      { changes: [change({ knob: 'poolSize', from: 10, to: 8, atSeconds: now - 700 })], snapshots: [] },
      6,
      /8 → 6/,
    ],
    [
      'clamps to the knob bounds',
      { knob: 'poolSize', value: 500, reason: 'r' },
      EMPTY_HISTORY,
      12,
      /step capped at 4/,
    ],
  ])('%s', (_name, proposal, history, expected, reason) => {
    const decision = gateOne(proposal, history);
    expect(decision.to).toBe(expected);
    expect(decision.reason).toMatch(reason);
  });

  it.each<[string, Proposal, RegExp]>([
    ['a cache shrink', { knob: 'redisMaxmemoryMiB', value: 300, reason: 'r' }, /removes capacity/],
    ['a lower replica floor', { knob: 'minReplicas', value: 2, reason: 'r' }, /removes capacity|already at/],
    ['a pool change, which rolls the pods', { knob: 'poolSize', value: 10, reason: 'r' }, /rolls the pods/],
  ])('holds %s while the SLO is broken', (_name, proposal, reason) => {
    const decision = gateOne(proposal, EMPTY_HISTORY, healthySnapshot(now, { p95LatencyMs: 450 }));
    expect(decision.verdict).toBe('hold');
    expect(decision.reason).toMatch(reason);
  });

  it.each<[string, number, number]>([
    // maxmemory 2,900 MiB, the ceiling 3,072 (0.75 × 4 GiB): +6 %, inside the 10 % deadband
    ['takes the last step onto the limit', 3072, 3072],
    ['holds a small step the policy wants inside the limit', 3000, 2900],
  ])('%s', (_name, wanted, expected) => {
    const { next } = gateProposals(
      spec,
      healthySnapshot(now),
      { ...SAFE_KNOBS, redisMaxmemoryMiB: 2900 },
      [{ knob: 'redisMaxmemoryMiB', value: wanted, reason: 'r' }],
      EMPTY_HISTORY,
      now,
    );
    expect(next.redisMaxmemoryMiB).toBe(expected);
  });

  it('grows a starving pool even while the SLO is broken', () => {
    const decision = gateOne(
      { knob: 'poolSize', value: 10, reason: 'r' },
      EMPTY_HISTORY,
      healthySnapshot(now, { p95LatencyMs: 450, poolWaitMs: 40 }),
    );
    expect(decision).toMatchObject({ verdict: 'apply', to: 10 });
  });

  it('lowers a replica ceiling the fleet is not using even while the SLO is broken', () => {
    const decision = gateOne(
      { knob: 'maxReplicas', value: 4, reason: 'r' },
      EMPTY_HISTORY,
      healthySnapshot(now, { p95LatencyMs: 450 }),
    );
    expect(decision).toMatchObject({ verdict: 'apply', to: 4 });
  });

  it('holds a pool change while pods run above the HPA CPU target', () => {
    const decision = gateOne(
      { knob: 'poolSize', value: 10, reason: 'r' },
      EMPTY_HISTORY,
      healthySnapshot(now, { cpuUtilization: 0.9 }),
    );
    expect(decision.verdict).toBe('hold');
    expect(decision.reason).toMatch(/pods run at 90 % CPU, above the HPA target of 70 %/);
  });

  // A rollout takes a quarter of the ready pods away (rounded down); the HPA adds pods above
  // 77 % CPU (its 70 % target plus its 10 % tolerance).
  it.each<[string, number, number, number, string, RegExp]>([
    [
      'holds a pool change that would push 4 pods at 60 % past the HPA’s threshold',
      4,
      0.6,
      0,
      'hold',
      /the rest would run at 80 % CPU, past the 77 % at which the HPA adds pods/,
    ],
    ['applies it at 55 % (the other 3 run at 73 %)', 4, 0.55, 0, 'apply', /8 → 10/],
    ['applies it on 3 pods at 65 %: a quarter of 3 is no pod', 3, 0.65, 0, 'apply', /8 → 10/],
    [
      'holds it on 8 pods at 60 % (2 away, the rest at 80 %)',
      8,
      0.6,
      0,
      'hold',
      /rest would run at 80 % CPU/,
    ],
    ['still grows a starving pool', 4, 0.6, 40, 'apply', /8 → 10/],
  ])('%s', (_name, readyReplicas, cpuUtilization, poolWaitMs, verdict, reason) => {
    const decision = gateOne(
      { knob: 'poolSize', value: 10, reason: 'r' },
      EMPTY_HISTORY,
      healthySnapshot(now, { readyReplicas, cpuUtilization, poolWaitMs }),
    );
    expect(decision.verdict).toBe(verdict);
    expect(decision.reason).toMatch(reason);
  });

  it('still grows memory while the SLO is broken', () => {
    const decision = gateOne(
      { knob: 'redisMaxmemoryMiB', value: 700, reason: 'r' },
      EMPTY_HISTORY,
      healthySnapshot(now, { errorRate: 0.01 }),
    );
    expect(decision).toMatchObject({ verdict: 'apply', to: 700 });
  });

  it('rolls back a shrink when the SLO broke after it', () => {
    const history = {
      changes: [change({ knob: 'redisMaxmemoryMiB', from: 768, to: 512, atSeconds: now - 120 })],
      snapshots: [],
    };
    const decision = gateOne(
      { knob: 'redisMaxmemoryMiB', value: 400, reason: 'r' },
      history,
      healthySnapshot(now, { p95LatencyMs: 450, redis: { hitsPerSecond: 1600, missesPerSecond: 400 } }),
    );
    expect(decision).toMatchObject({ verdict: 'rollback', to: 768 });
    expect(decision.reason).toMatch(/rollback: SLO met before the change 768 → 512/);
  });

  it.each<[string, Partial<AppliedChange>, Partial<MetricSnapshot>]>([
    ['the SLO still holds', {}, {}],
    ['nothing points at the cache (hit rate above target)', {}, { p95LatencyMs: 450 }],
    ['load grew more than 20 % since', { requestsPerSecondBefore: 1000 }, { p95LatencyMs: 450 }],
    ['the change was a growth', { from: 256, to: 512 }, { p95LatencyMs: 450 }],
    ['the SLO was already broken before', { sloMetBefore: false }, { p95LatencyMs: 450 }],
    ['the verification window has passed', { atSeconds: now - 900 }, { p95LatencyMs: 450 }],
  ])('does not roll back when %s', (_name, changeOverrides, snapshotOverrides) => {
    const history = {
      changes: [
        change({ knob: 'redisMaxmemoryMiB', from: 768, to: 512, atSeconds: now - 120, ...changeOverrides }),
      ],
      snapshots: [],
    };
    const decision = gateOne(
      { knob: 'redisMaxmemoryMiB', value: 512, reason: 'r' },
      history,
      healthySnapshot(now, snapshotOverrides),
    );
    expect(decision.verdict).toBe('hold');
  });
});

describe('gate rules for the HPA target', () => {
  const target = (value: number): Proposal => ({ knob: 'hpaTargetCpuPercent', value, reason: 'r' });
  const hotter = (partial: Partial<AppliedChange> = {}) => ({
    changes: [change({ knob: 'hpaTargetCpuPercent', from: 70, to: 80, atSeconds: now - 120, ...partial })],
    snapshots: [],
  });
  // SAFE_KNOBS runs the HPA at 70 %; TEST_SPEC bounds the target to 50..85 %, deadband 10 %, step 50 %.
  it.each<[string, Proposal, TuningHistory, Partial<MetricSnapshot>, number, RegExp]>([
    ['applies a hotter target', target(80), EMPTY_HISTORY, {}, 80, /70 → 80/],
    ['clamps it to the bounds', target(95), EMPTY_HISTORY, {}, 85, /70 → 85/],
    ['holds a move inside the deadband', target(75), EMPTY_HISTORY, {}, 70, /inside the 10 % deadband/],
    // The rule measures in 5-point bins: the 10 % deadband (7 points here) never holds one.
    [
      'applies a move of one bin, the rule’s resolution',
      { ...target(75), resolution: 5 },
      EMPTY_HISTORY,
      {},
      75,
      /70 → 75/,
    ],
    [
      'keeps the 10 % deadband where it is less than a bin',
      { ...target(76), resolution: 10 },
      EMPTY_HISTORY,
      {},
      70,
      /70 → 76 is inside the 10 % deadband/,
    ],
    [
      'holds a move under one bin',
      { ...target(74), resolution: 5 },
      EMPTY_HISTORY,
      {},
      70,
      /70 → 74 is inside the rule's 5-unit bin/,
    ],
    [
      'holds during the cooldown',
      target(85),
      {
        changes: [change({ knob: 'hpaTargetCpuPercent', from: 60, to: 70, atSeconds: now - 300 })],
        snapshots: [],
      },
      {},
      70,
      /cooldown, last change 300 s ago/,
    ],
    [
      'holds a reversal inside the stabilization window',
      target(55),
      {
        changes: [change({ knob: 'hpaTargetCpuPercent', from: 60, to: 70, atSeconds: now - 1000 })],
        snapshots: [],
      },
      {},
      70,
      /stabilization window/,
    ],
    [
      'holds a hotter target while the SLO is broken: it takes capacity away',
      target(85),
      EMPTY_HISTORY,
      { p95LatencyMs: 450 },
      70,
      /the SLO is broken now and this removes capacity/,
    ],
    [
      'cools the target while the SLO is broken',
      target(60),
      EMPTY_HISTORY,
      { p95LatencyMs: 450 },
      60,
      /70 → 60/,
    ],
  ])('%s', (_name, proposal, history, snapshot, expected, reason) => {
    const decision = gateOne(proposal, history, healthySnapshot(now, snapshot));
    expect(decision.to).toBe(expected);
    expect(decision.reason).toMatch(reason);
  });

  it('rolls back a hotter target when the SLO broke after it with pods above the old target', () => {
    const { decisions } = gateProposals(
      spec,
      healthySnapshot(now, { p95LatencyMs: 450, cpuUtilization: 0.78 }),
      { ...SAFE_KNOBS, hpaTargetCpuPercent: 80 },
      [target(80)],
      hotter(),
      now,
    );
    expect(decisions.find((d) => d.knob === 'hpaTargetCpuPercent')).toMatchObject({
      verdict: 'rollback',
      to: 70,
      reason: expect.stringMatching(/rollback: SLO met before the change 70 → 80/),
    });
  });

  it.each<[string, Partial<AppliedChange>, Partial<MetricSnapshot>]>([
    [
      'pods run below the old target (the target is not the cause)',
      {},
      { p95LatencyMs: 450, cpuUtilization: 0.6 },
    ],
    ['the change cooled the target', { from: 80, to: 70 }, { p95LatencyMs: 450, cpuUtilization: 0.78 }],
    [
      'load grew more than 20 % since',
      { requestsPerSecondBefore: 1000 },
      { p95LatencyMs: 450, cpuUtilization: 0.78 },
    ],
  ])('does not roll back the target when %s', (_name, partial, snapshot) => {
    const current = { ...SAFE_KNOBS, hpaTargetCpuPercent: partial.to ?? 80 };
    const { decisions } = gateProposals(
      spec,
      healthySnapshot(now, snapshot),
      current,
      [target(current.hpaTargetCpuPercent)],
      hotter(partial),
      now,
    );
    expect(decisions.find((d) => d.knob === 'hpaTargetCpuPercent')?.verdict).toBe('hold');
  });
});

describe('enforceInvariants', () => {
  it.each<[string, Partial<KnobValues>, Partial<KnobValues>, RegExp]>([
    [
      'cuts overflow first for the DB budget',
      { poolSize: 20, maxOverflow: 30, maxReplicas: 4 },
      { maxOverflow: 4 },
      /overflow 30 → 4/,
    ],
    [
      'then the pool',
      { poolSize: 20, maxOverflow: 0, maxReplicas: 10 },
      { poolSize: 9, maxReplicas: 10 },
      /pool 20 → 9/,
    ],
    ['raises minReplicas to 2', { minReplicas: 1 }, { minReplicas: 2 }, /within \[2, 20\]/],
    [
      'caps maxmemory at 0.75 × the limit',
      { redisMaxmemoryMiB: 4000 },
      { redisMaxmemoryMiB: 3072 },
      /within \[64, 3072\]/,
    ],
  ])('%s', (_name, values, expected, note) => {
    const { values: repaired, notes } = enforceInvariants(spec, { ...SAFE_KNOBS, ...values });
    expect(repaired).toMatchObject(expected);
    expect(Object.values(notes).join(' ')).toMatch(note);
  });

  it('cuts the replica ceiling once the pool is at its deadlock floor', () => {
    const tight = specWith({ database: { ...spec.database, maxConnections: 23, reservedConnections: 3 } });
    const { values, notes } = enforceInvariants(tight, { ...SAFE_KNOBS, poolSize: 4, maxReplicas: 12 });
    expect(values).toMatchObject({ poolSize: 2, maxReplicas: 10 });
    expect(notes.maxReplicas).toMatch(/maxReplicas 12 → 10/);
  });

  it('repairs a broken DB budget with the policy’s values when it has them, in one change', () => {
    const seed = { ...SAFE_KNOBS, poolSize: 20, maxOverflow: 30, maxReplicas: 10 };
    const proposals: Proposal[] = [
      { knob: 'poolSize', value: 7, reason: 'erlang' },
      { knob: 'maxOverflow', value: 0, reason: 'budget' },
      { knob: 'maxReplicas', value: 13, reason: 'budget' },
    ];
    const { next, decisions } = gateProposals(
      spec,
      healthySnapshot(now),
      seed,
      proposals,
      EMPTY_HISTORY,
      now,
    );
    expect(next).toMatchObject({ poolSize: 7, maxOverflow: 0, maxReplicas: 13 });
    expect(decisions.find((d) => d.knob === 'poolSize')?.reason).toMatch(
      /repaired at once with the policy's poolSize 7/,
    );
  });

  it('keeps minReplicas at the PDB minAvailable', () => {
    const { values } = enforceInvariants(specWith({ pdbMinAvailable: 3 }), SAFE_KNOBS);
    expect(values.minReplicas).toBe(3);
  });
});

const knobValues = fc.record({
  poolSize: fc.integer({ min: -5, max: 200 }),
  maxOverflow: fc.integer({ min: -5, max: 200 }),
  redisMaxmemoryMiB: fc.integer({ min: 0, max: 20_000 }),
  minReplicas: fc.integer({ min: 0, max: 60 }),
  maxReplicas: fc.integer({ min: 0, max: 60 }),
  hpaTargetCpuPercent: fc.integer({ min: 0, max: 120 }),
  hpaTargetRequestsPerPod: fc.integer({ min: 0, max: 2000 }),
});
const garbage = fc.oneof(
  fc.constant(Number.NaN),
  fc.constant(-1),
  fc.constant(Number.POSITIVE_INFINITY),
  fc.double({ max: -1e-9 }),
);
const metricNumber = fc.oneof(fc.double({ min: 0, max: 1e5, noNaN: true }), garbage);
const anySnapshot = fc.option(
  fc.record({
    takenAtSeconds: fc.oneof(fc.integer({ min: now - 400, max: now + 10 }), fc.constant(Number.NaN)),
    windowSeconds: metricNumber,
    requestsPerSecond: metricNumber,
    p95LatencyMs: metricNumber,
    errorRate: fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), garbage),
    readyReplicas: metricNumber,
    cpuUtilization: metricNumber,
    dbQueriesPerSecond: metricNumber,
    dbActiveConnections: metricNumber,
    poolWaitMs: metricNumber,
    redis: fc.record({
      usedMemoryBytes: metricNumber,
      maxMemoryBytes: metricNumber,
      hitsPerSecond: metricNumber,
      missesPerSecond: metricNumber,
      evictedKeysPerSecond: metricNumber,
      expiredKeysPerSecond: metricNumber,
    }),
  }),
  { nil: undefined },
);
const anySpec = fc
  .record({
    maxConnections: fc.integer({ min: 40, max: 1000 }),
    reserved: fc.integer({ min: 0, max: 10 }),
    memoryLimit: fc.integer({ min: 256, max: 16_384 }),
    pdb: fc.integer({ min: 0, max: 4 }),
  })
  .map(
    ({ maxConnections, reserved, memoryLimit, pdb }): TuningSpec =>
      specWith({
        database: { ...spec.database, maxConnections, reservedConnections: reserved },
        redisMemoryLimitMiB: memoryLimit,
        pdbMinAvailable: pdb,
        knobs: { ...spec.knobs, redisMaxmemoryMiB: { min: 64, max: Math.floor(0.75 * memoryLimit) } },
      }),
  );
const anyProposals = fc.array(
  fc.record({
    knob: fc.constantFrom(...KNOB_NAMES),
    value: fc.oneof(fc.integer({ min: -100, max: 100_000 }), fc.constant(Number.NaN)),
    reason: fc.constant('generated'),
  }),
  { maxLength: 8 },
);

describe('gate properties', () => {
  test.prop([anySpec, knobValues, anySnapshot, anyProposals])(
    'every output satisfies every invariant of design.md, whatever the inputs',
    (s, current, snapshot, proposals) => {
      const { next } = gateProposals(
        s,
        snapshot as MetricSnapshot | undefined,
        current,
        proposals,
        EMPTY_HISTORY,
        now,
      );
      expect(satisfiesInvariants(s, next)).toBe(true);
      expect(next.redisMaxmemoryMiB).toBeLessThanOrEqual(maxMemoryCeilingMiB(s));
    },
  );

  test.prop([
    knobValues,
    fc.constantFrom(
      ...(['requestsPerSecond', 'p95LatencyMs', 'errorRate', 'dbQueriesPerSecond', 'readyReplicas'] as const),
    ),
    garbage,
  ])('garbage metrics change nothing for values that already satisfy the invariants', (raw, field, bad) => {
    const current = enforceInvariants(spec, raw).values;
    const snapshot = { ...healthySnapshot(now), [field]: bad };
    const evaluation = evaluate(spec, snapshot, current, EMPTY_HISTORY, now);
    expect(evaluation.metricsUsable).toBe(false);
    expect(evaluation.next).toEqual(current);
  });

  test.prop([knobValues, fc.integer({ min: 181, max: 100_000 })])(
    'stale metrics change nothing',
    (raw, age) => {
      const current = enforceInvariants(spec, raw).values;
      expect(evaluate(spec, healthySnapshot(now - age), current, EMPTY_HISTORY, now).next).toEqual(current);
    },
  );
});
