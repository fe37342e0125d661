import { describe, expect, it } from 'vitest';
import type { PerformanceProfile } from '../api/v1alpha1/index.ts';
import { desiredStatus, knobsSummary, type ReconcileFindings, statusDiffers } from './status.ts';

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
    [{}, 'pool ?+?, replicas ?-?'],
  ])('%o → %s', (knobs, expected) => {
    expect(knobsSummary(knobs)).toBe(expected);
  });
});
