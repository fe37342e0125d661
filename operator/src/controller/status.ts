/**
 * The report step's pure half: from what a reconcile observed, the status a profile should have.
 * Writing it (only when it differs) is reconcile.ts's job.
 */

import type { ObservedTarget } from '../actuators/targets.ts';
import {
  ConditionReason,
  ConditionType,
  type KnobValues,
  type PerformanceProfile,
  type PerformanceProfileStatus,
  SloState,
} from '../api/v1alpha1/index.ts';
import { type ConditionUpdate, setCondition } from './conditions.ts';

/** What the measure step could say about metrics. */
export interface MeasureOutcome {
  /** available is false when no fresh snapshot could be taken. */
  readonly available: boolean;
  /** reason is a ConditionReason: NoMetricsSource, MetricsUnavailable, MetricsStale, MetricsFresh. */
  readonly reason: string;
  /** message explains it for humans. */
  readonly message: string;
}

/** Everything the report step needs from the earlier steps. */
export interface ReconcileFindings {
  readonly paused: boolean;
  readonly observed: ObservedTarget;
  readonly measured: MeasureOutcome;
  /** recommended knob values, when the decide step produced any. */
  readonly recommended?: KnobValues;
}

/** knobsSummary renders the knobs on one line for `kubectl get pp`. */
export function knobsSummary(knobs: KnobValues): string {
  const part = (v: number | undefined) => (v === undefined ? '?' : String(v));
  const pool = `pool ${part(knobs.poolSize)}+${part(knobs.maxOverflow)}`;
  const replicas = `replicas ${part(knobs.minReplicas)}-${part(knobs.maxReplicas)}`;
  const redis = knobs.redisMaxmemoryMiB === undefined ? '' : `, maxmemory ${knobs.redisMaxmemoryMiB}Mi`;
  return `${pool}, ${replicas}${redis}`;
}

/** desiredStatus computes the status for `findings`, keeping transition times that did not change. */
export function desiredStatus(
  profile: PerformanceProfile,
  findings: ReconcileFindings,
  now: Date,
): PerformanceProfileStatus {
  const generation = profile.metadata.generation ?? 0;
  const previous = profile.status ?? {};
  const { observed, measured, paused } = findings;
  const targetFound = observed.missing.length === 0;
  const updates: ConditionUpdate[] = [
    targetFound
      ? {
          type: ConditionType.Ready,
          status: 'True',
          reason: ConditionReason.Reconciled,
          message:
            observed.problems.length > 0
              ? `target observed; unreadable: ${observed.problems.join('; ')}`
              : `observed ${knobsSummary(observed.current)}`,
        }
      : {
          type: ConditionType.Ready,
          status: 'False',
          reason: ConditionReason.TargetNotFound,
          message: `not found in namespace ${profile.metadata.namespace}: ${observed.missing.join(', ')}`,
        },
    {
      type: ConditionType.MetricsAvailable,
      status: measured.available ? 'True' : 'Unknown',
      reason: measured.reason,
      message: measured.message,
    },
    {
      type: ConditionType.SLOMet,
      status: 'Unknown',
      reason: ConditionReason.SLOUnknown,
      message: 'no metric snapshot, so the SLOs cannot be judged',
    },
    {
      type: ConditionType.Progressing,
      status: 'False',
      reason: ConditionReason.Stable,
      message: paused ? 'paused: no change is made' : 'no change in flight',
    },
    targetFound
      ? { type: ConditionType.Degraded, status: 'False', reason: ConditionReason.AsExpected, message: '' }
      : {
          type: ConditionType.Degraded,
          status: 'True',
          reason: ConditionReason.TargetNotFound,
          message: `cannot tune: ${observed.missing.join(', ')} missing`,
        },
    paused
      ? {
          type: ConditionType.Paused,
          status: 'True',
          reason: ConditionReason.PausedByAnnotation,
          message: 'perfpilot.dev/paused is "true": nothing is changed',
        }
      : { type: ConditionType.Paused, status: 'False', reason: ConditionReason.NotPaused, message: '' },
  ];
  let conditions = previous.conditions ?? [];
  for (const update of updates) conditions = setCondition(conditions, update, generation, now);
  const status: PerformanceProfileStatus = {
    observedGeneration: generation,
    conditions,
    sloState: SloState.Unknown,
    knobsSummary: knobsSummary(observed.current),
    current: observed.current,
  };
  if (findings.recommended) status.recommended = findings.recommended;
  if (previous.history) status.history = previous.history;
  if (previous.lastDecision) status.lastDecision = previous.lastDecision;
  return status;
}

/** statusDiffers tells whether writing `next` would change what the API server holds. */
export function statusDiffers(
  current: PerformanceProfileStatus | undefined,
  next: PerformanceProfileStatus,
): boolean {
  return canonicalJson(current ?? {}) !== canonicalJson(next);
}

function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)),
        )
      : v,
  );
}
