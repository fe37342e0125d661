import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { SCALES_ON_REQUEST_RATE } from '../actuators/replica-bounds.ts';
import type { PerformanceProfile } from '../api/v1alpha1/index.ts';
import { HPA_TARGET_NOT_SET, REQUEST_RATE_NOT_SET } from '../tuning/tuning-spec-from-profile.ts';
import { MAX_CONDITION_MESSAGE } from './conditions.ts';
import {
  desiredStatus,
  knobsSummary,
  type ReconcileFindings,
  statusDiffers,
  untunedSummary,
} from './status.ts';

const now = new Date('2026-11-27T10:00:00Z');
const later = new Date('2026-11-27T10:01:00Z');

function profile(generation: number, status?: PerformanceProfile['status']): PerformanceProfile {
  return {
    apiVersion: 'perfpilot.dev/v1alpha1',
    kind: 'PerformanceProfile',
    metadata: { namespace: 'shop', name: 'main', generation },
    spec: { targetRef: { name: 'risk-api' } } as PerformanceProfile['spec'],
    ...(status ? { status } : {}),
  };
}

const found: ReconcileFindings = {
  paused: false,
  observed: {
    missing: [],
    problems: [],
    current: { poolSize: 20, maxOverflow: 30, minReplicas: 2, maxReplicas: 10 },
  },
  measured: { status: 'Unknown', reason: 'NoMetricsSource', message: 'no source' },
};

const byType = (status: ReturnType<typeof desiredStatus>) =>
  Object.fromEntries((status.conditions ?? []).map((c) => [c.type, `${c.status}/${c.reason}`]));

describe('desiredStatus', () => {
  it.each([
    {
      name: 'target found, no metrics source',
      findings: found,
      expected: {
        Ready: 'True/Reconciled',
        MetricsAvailable: 'Unknown/NoMetricsSource',
        SLOMet: 'Unknown/SLOUnknown',
        Progressing: 'False/Stable',
        Degraded: 'False/AsExpected',
        Paused: 'False/NotPaused',
      },
    },
    {
      name: 'target missing',
      findings: { ...found, observed: { missing: ['Deployment risk-api'], problems: [], current: {} } },
      expected: {
        Ready: 'False/TargetNotFound',
        MetricsAvailable: 'Unknown/NoMetricsSource',
        SLOMet: 'Unknown/SLOUnknown',
        Progressing: 'False/Stable',
        Degraded: 'True/TargetNotFound',
        Paused: 'False/NotPaused',
      },
    },
    {
      name: 'paused',
      findings: { ...found, paused: true },
      expected: {
        Ready: 'True/Reconciled',
        MetricsAvailable: 'Unknown/NoMetricsSource',
        SLOMet: 'Unknown/SLOUnknown',
        Progressing: 'False/Stable',
        Degraded: 'False/AsExpected',
        Paused: 'True/PausedByAnnotation',
      },
    },
  ])('$name', ({ findings, expected }) => {
    const status = desiredStatus(profile(3), findings, now);
    expect(byType(status)).toEqual(expected);
    expect(status.observedGeneration).toBe(3);
    for (const c of status.conditions ?? []) expect(c.observedGeneration).toBe(3);
  });

  it('is unchanged when computed again later for the same findings, so nothing is written', () => {
    const first = desiredStatus(profile(1), found, now);
    const again = desiredStatus(profile(1, first), found, later);
    expect(statusDiffers(first, again)).toBe(false);
  });

  it('differs when the generation moves, keeping transition times of unchanged conditions', () => {
    const first = desiredStatus(profile(1), found, now);
    const next = desiredStatus(profile(2, first), found, later);
    expect(statusDiffers(first, next)).toBe(true);
    expect(next.conditions?.every((c) => c.lastTransitionTime === now.toISOString())).toBe(true);
  });

  it('says Redis nodes left out of Degraded are in the Events', () => {
    const nodes = Array.from(
      { length: 6 },
      (_, i) => `redis-${i}.redis.shop.svc:6379 (master): ERR unknown command 'CONFIG'`,
    );
    const message = `maxmemory 600 MiB on 0 of 6 Redis nodes; not set on ${nodes.join('; ')}`;
    const status = desiredStatus(profile(1), { ...found, degraded: { reason: 'ApplyFailed', message } }, now);
    const degraded = status.conditions?.find((c) => c.type === 'Degraded');
    expect(degraded?.message).toBe(
      `maxmemory 600 MiB on 0 of 6 Redis nodes; not set on ${nodes.slice(0, 2).join('; ')}; +4 more (see Events)`,
    );
  });

  // Whatever the steps found (unreadable objects, missing ones, problems, SLO verdicts), every
  // condition `kubectl describe` shows fits in three lines of a terminal.
  test.prop(
    [
      fc.record({
        missing: fc.array(fc.string({ maxLength: 120, size: 'max' }), { maxLength: 6 }),
        problems: fc.array(fc.string({ maxLength: 300, size: 'max' }), { maxLength: 6 }),
        measured: fc.string({ maxLength: 3000, size: 'max' }),
        slo: fc.string({ maxLength: 600, size: 'max' }),
        progressing: fc.string({ maxLength: 600, size: 'max' }),
        degraded: fc.option(fc.string({ unit: 'grapheme', maxLength: 1200, size: 'max' })),
        namespace: fc.string({ minLength: 1, maxLength: 253 }),
      }),
    ],
    { numRuns: 300 },
  )(`every condition message is at most ${MAX_CONDITION_MESSAGE} characters`, (f) => {
    const p = profile(1);
    p.metadata.namespace = f.namespace;
    const status = desiredStatus(
      p,
      {
        ...found,
        observed: { ...found.observed, missing: f.missing, problems: f.problems },
        measured: { status: 'False', reason: 'MetricsUnavailable', message: f.measured },
        slo: { met: false, message: f.slo },
        progressing: { reason: 'Verifying', message: f.progressing },
        ...(f.degraded !== null ? { degraded: { reason: 'ApplyFailed', message: f.degraded } } : {}),
      },
      now,
    );
    expect(status.conditions).toHaveLength(6);
    for (const c of status.conditions ?? [])
      expect(c.message.length).toBeLessThanOrEqual(MAX_CONDITION_MESSAGE);
  });

  it('keeps the decision history it did not make', () => {
    const history = [
      {
        time: now.toISOString(),
        knob: 'poolSize' as const,
        from: 20,
        to: 12,
        outcome: 'Recommended' as const,
        reason: 'r',
      },
    ];
    const status = desiredStatus(profile(1, { history, lastDecision: 'poolSize 20→12' }), found, later);
    expect(status.history).toEqual(history);
    expect(status.lastDecision).toBe('poolSize 20→12');
  });
});

describe('knobsSummary', () => {
  it.each([
    [{ poolSize: 20, maxOverflow: 30, minReplicas: 2, maxReplicas: 10 }, 'pool 20+30, replicas 2-10'],
    [
      { poolSize: 20, maxOverflow: 30, minReplicas: 2, maxReplicas: 10, redisMaxmemoryMiB: 512 },
      'pool 20+30, replicas 2-10, maxmemory 512Mi',
    ],
    [
      {
        poolSize: 20,
        maxOverflow: 0,
        minReplicas: 2,
        maxReplicas: 10,
        hpaTargetCpuPercent: 70,
        hpaTargetRequestsPerPod: 400,
      },
      'pool 20+0, replicas 2-10, HPA CPU target 70 %, HPA rate target 400/pod',
    ],
    [{}, 'pool ?+?, replicas ?-?'],
  ])('%o → %s', (knobs, expected) => {
    expect(knobsSummary(knobs)).toBe(expected);
  });
});

describe('untunedSummary', () => {
  it('names the knobs held for a reason, not the opt-in targets a profile leaves off', () => {
    expect(
      untunedSummary({
        hpaTargetCpuPercent: HPA_TARGET_NOT_SET,
        hpaTargetRequestsPerPod: REQUEST_RATE_NOT_SET,
        maxOverflow: 'the pool has no overflow',
      }),
    ).toBe('; not tuned: maxOverflow (the pool has no overflow)');
    expect(untunedSummary({ hpaTargetRequestsPerPod: REQUEST_RATE_NOT_SET })).toBe('');
    // An HPA on the tuned request rate alone has no CPU target to tune: no problem either.
    expect(untunedSummary({ hpaTargetCpuPercent: SCALES_ON_REQUEST_RATE })).toBe('');
  });
});
