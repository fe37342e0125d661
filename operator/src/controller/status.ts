/**
 * The report step's pure half: from what a reconcile observed, the status a profile should have.
 * Writing it (only when it differs) is report.ts's job.
 */

import { SCALES_ON_REQUEST_RATE } from '../actuators/replica-bounds.ts';
import type { ObservedTarget } from '../actuators/targets.ts';
import {
  ConditionReason,
  ConditionType,
  type Decision,
  type ForecastStatus,
  type KnobValues,
  MAX_HISTORY,
  type MetricSnapshotStatus,
  type PerformanceProfile,
  type PerformanceProfileStatus,
  SloState,
} from '../api/v1alpha1/index.ts';
import { HPA_TARGET_NOT_SET, REQUEST_RATE_NOT_SET } from '../tuning/tuning-spec-from-profile.ts';
import { type ConditionUpdate, conditionMessage, setCondition } from './conditions.ts';

/** What the measure step could say about metrics: MetricsAvailable's status, reason and message. */
export interface MeasureOutcome {
  /** status is True for a fresh, complete snapshot, False when a source failed, Unknown without a source. */
  readonly status: 'True' | 'False' | 'Unknown';
  /** reason is a ConditionReason: NoMetricsSource, MetricsUnavailable, MetricsStale, MetricsFresh. */
  readonly reason: string;
  /** message explains it for humans in a few words: what made signals unknown, cause first. */
  readonly message: string;
  /** detail names every unknown signal and Redis node by cause, for the Event (False only). */
  readonly detail?: string;
  /** unknown holds the metric sources' own message for each unknown signal, for the log (False only). */
  readonly unknown?: readonly string[];
}

/** A condition's verdict from an earlier step: reason and message. */
export interface StepVerdict {
  readonly reason: string;
  readonly message: string;
}

/** Everything the report step needs from the earlier steps. */
export interface ReconcileFindings {
  readonly paused: boolean;
  readonly observed: ObservedTarget;
  readonly measured: MeasureOutcome;
  /** slo says whether the SLOs held in the snapshot; undefined when there is none. */
  readonly slo?: { readonly met: boolean; readonly message: string };
  /** snapshot is the metric snapshot for status.lastSnapshot. */
  readonly snapshot?: MetricSnapshotStatus;
  /** recommended knob values, when the decide step produced any (Recommend and Auto modes). */
  readonly recommended?: KnobValues;
  /** forecast is the forecast floor's answer, when it was computed (spec.policy.forecast not Off). */
  readonly forecast?: ForecastStatus;
  /** applied are the history entries of the changes this reconcile made, oldest first. */
  readonly applied?: readonly Decision[];
  /**
   * recovered are entries of changes made earlier whose status write never happened (see
   * reconcile's recoverUnrecorded), oldest first; they go into history before `applied`.
   */
  readonly recovered?: readonly Decision[];
  /** progressing is set while a change is in flight (applied and verifying, or deferred). */
  readonly progressing?: StepVerdict;
  /** degraded is set when acting failed (a conflict, Redis nodes not converged, a refusal). */
  readonly degraded?: StepVerdict;
}

/** knobsSummary renders the knobs on one line for `kubectl get pp`. */
export function knobsSummary(knobs: KnobValues): string {
  const part = (v: number | undefined) => (v === undefined ? '?' : String(v));
  const pool = `pool ${part(knobs.poolSize)}+${part(knobs.maxOverflow)}`;
  const replicas = `replicas ${part(knobs.minReplicas)}-${part(knobs.maxReplicas)}`;
  const redis = knobs.redisMaxmemoryMiB === undefined ? '' : `, maxmemory ${knobs.redisMaxmemoryMiB}Mi`;
  const cpu =
    knobs.hpaTargetCpuPercent === undefined ? '' : `, HPA CPU target ${knobs.hpaTargetCpuPercent} %`;
  const rate =
    knobs.hpaTargetRequestsPerPod === undefined
      ? ''
      : `, HPA rate target ${knobs.hpaTargetRequestsPerPod}/pod`;
  return `${pool}, ${replicas}${redis}${cpu}${rate}`;
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
              : `observed ${knobsSummary(observed.current)}${untunedSummary(observed.untunedKnobs)}`,
        }
      : {
          type: ConditionType.Ready,
          status: 'False',
          reason: ConditionReason.TargetNotFound,
          message: `not found in namespace ${profile.metadata.namespace}: ${observed.missing.join(', ')}`,
        },
    {
      type: ConditionType.MetricsAvailable,
      status: measured.status,
      reason: measured.reason,
      message: measured.message,
    },
    findings.slo
      ? {
          type: ConditionType.SLOMet,
          status: findings.slo.met ? 'True' : 'False',
          reason: findings.slo.met ? ConditionReason.SLOsMet : ConditionReason.SLOViolated,
          message: findings.slo.message,
        }
      : {
          type: ConditionType.SLOMet,
          status: 'Unknown',
          reason: ConditionReason.SLOUnknown,
          message: 'no metric snapshot, so the SLOs cannot be judged',
        },
    findings.progressing
      ? { type: ConditionType.Progressing, status: 'True', ...findings.progressing }
      : {
          type: ConditionType.Progressing,
          status: 'False',
          reason: ConditionReason.Stable,
          message: paused ? 'paused: no change is made' : 'no change in flight',
        },
    !targetFound
      ? {
          type: ConditionType.Degraded,
          status: 'True',
          reason: ConditionReason.TargetNotFound,
          message: `cannot tune: ${observed.missing.join(', ')} missing`,
        }
      : findings.degraded
        ? {
            type: ConditionType.Degraded,
            status: 'True',
            reason: findings.degraded.reason,
            // Each problem is an Event of its own, and the transition's Event says them all.
            message: conditionMessage(findings.degraded.message, 'see Events'),
          }
        : { type: ConditionType.Degraded, status: 'False', reason: ConditionReason.AsExpected, message: '' },
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
    sloState: findings.slo ? (findings.slo.met ? SloState.Met : SloState.Violated) : SloState.Unknown,
    knobsSummary: knobsSummary(observed.current),
    current: observed.current,
  };
  if (findings.recommended) status.recommended = findings.recommended;
  if (findings.forecast) status.forecast = findings.forecast;
  const snapshot = findings.snapshot ?? previous.lastSnapshot;
  if (snapshot) status.lastSnapshot = snapshot;
  const kept = previous.history ?? [];
  // An entry already in history (same knob and time) is not added again.
  const made = [...(findings.recovered ?? []), ...(findings.applied ?? [])].filter(
    (d) => !kept.some((k) => k.knob === d.knob && k.time === d.time),
  );
  const history = [...kept, ...made].slice(-MAX_HISTORY);
  if (history.length > 0) status.history = history;
  const newest = made.at(-1);
  if (newest) status.lastDecision = decisionSummary(newest);
  else if (previous.lastDecision) status.lastDecision = previous.lastDecision;
  return status;
}

/** decisionSummary renders a history entry on one line for `kubectl get pp` (at most 256 characters). */
export function decisionSummary(decision: Decision): string {
  return `${decision.outcome} ${decision.knob} ${decision.from}→${decision.to}: ${decision.reason}`.slice(
    0,
    256,
  );
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

/** Why an opt-in knob is held when the profile leaves it off (or its HPA scales without it): no problem to report. */
const OFF_BY_CHOICE: readonly string[] = [HPA_TARGET_NOT_SET, REQUEST_RATE_NOT_SET, SCALES_ON_REQUEST_RATE];

/**
 * untunedSummary names the knobs the engine holds untuned, with the reason, for Ready's message.
 * An opt-in knob the profile leaves off (the HPA's CPU target without `spec.knobs.hpaTarget`, its
 * request-rate target without `hpaTarget.requestRate`), or the CPU target of an HPA that scales on
 * the tuned request rate alone, is no problem to report: it would take the message's room from
 * those that are.
 */
export function untunedSummary(untuned: ObservedTarget['untunedKnobs']): string {
  const entries = Object.entries(untuned ?? {}).filter(([, why]) => !OFF_BY_CHOICE.includes(why));
  return entries.length > 0
    ? `; not tuned: ${entries.map(([knob, why]) => `${knob} (${why})`).join('; ')}`
    : '';
}
