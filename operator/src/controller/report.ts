/**
 * Step 6 of a reconcile, report: status (conditions, knobs, snapshot, history), Kubernetes Events
 * and the operator's own metrics, and the findings they are written from.
 */
import { ApiException } from '@kubernetes/client-node';
import {
  ConditionReason,
  ConditionType,
  KNOBS,
  type KnobValues,
  type PerformanceProfile,
  type PerformanceProfileStatus,
} from '../api/v1alpha1/index.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { Evaluation } from '../tuning/types.ts';
import { type ActOutcome, changesOf } from './act.ts';
import { setCondition } from './conditions.ts';
import type { ProfileEvent } from './events.ts';
import type { ReconcileContext } from './reconcile-context.ts';
import { desiredStatus, type ReconcileFindings, statusDiffers } from './status.ts';

/** appliedValues: the knobs as this reconcile left them, for status's current values. */
export function appliedValues(acted: ActOutcome): KnobValues {
  return Object.fromEntries(acted.applied.map((d) => [d.knob, d.to]));
}

/** progressingOf: a deferred roll, else a change still in its verification window. */
export function progressingOf(
  profile: PerformanceProfile,
  acted: ActOutcome,
  now: Date,
): Partial<ReconcileFindings> {
  if (acted.progressing) return { progressing: acted.progressing };
  const newest = [...(profile.status?.history ?? []), ...acted.applied].at(-1);
  if (!newest || (newest.outcome !== 'Applied' && newest.outcome !== 'RolledBack')) return {};
  const until = Date.parse(newest.time) + profile.spec.policy.verificationWindowSeconds * 1000;
  if (!(until > now.getTime())) return {};
  return {
    progressing: {
      reason: ConditionReason.Verifying,
      message: `${newest.knob} ${newest.from} → ${newest.to} is verified until ${new Date(until).toISOString()}: a worse SLO by then rolls it back`,
    },
  };
}

/** degradedOf: the Degraded verdict of the act step and of Redis convergence, or why nothing was decided. */
export function degradedOf(
  acted: ActOutcome,
  convergence: ActOutcome['degraded'],
  problem: string | undefined,
): Partial<ReconcileFindings> {
  const verdicts = [convergence, acted.degraded].filter((v) => v !== undefined);
  if (verdicts.length === 0) {
    return problem ? { degraded: { reason: ConditionReason.ApplyFailed, message: problem } } : {};
  }
  const [first] = verdicts;
  return first
    ? { degraded: { reason: first.reason, message: verdicts.map((v) => v.message).join('; ') } }
    : {};
}

/** recommendationEvent says what Recommend mode would change and why, when that differs from the last recommendation. */
export function recommendationEvent(
  profile: PerformanceProfile,
  evaluation: Evaluation,
): ProfileEvent | undefined {
  const changes = changesOf(evaluation);
  if (changes.length === 0) return undefined;
  const previous = profile.status?.recommended;
  if (previous && KNOBS.every((k) => previous[k] === evaluation.next[k])) return undefined;
  return {
    type: 'Normal',
    reason: 'Recommended',
    action: 'Recommend',
    note: changes.map((d) => `${d.knob} ${d.from} → ${d.to}: ${d.reason}`).join('; '),
  };
}

/**
 * report writes status when it changed (history entries are never lost to a write conflict: the
 * status is computed again on the stored profile), records the Events, and sets the operator's
 * knob gauges and decision counters.
 */
export async function report(
  ctx: ReconcileContext,
  profile: PerformanceProfile,
  findings: ReconcileFindings,
  events: readonly ProfileEvent[],
  evaluation: Evaluation | undefined,
  log: Logger,
  onRecorded: () => void,
): Promise<void> {
  const labels = { namespace: profile.metadata.namespace ?? '', profile: profile.metadata.name ?? '' };
  for (const [knob, value] of Object.entries(findings.observed.current)) {
    if (value !== undefined) ctx.metrics?.knobValue.set({ ...labels, knob, kind: 'current' }, value);
  }
  for (const [knob, value] of Object.entries(findings.recommended ?? {})) {
    if (value !== undefined) ctx.metrics?.knobValue.set({ ...labels, knob, kind: 'recommended' }, value);
  }
  for (const entry of findings.applied ?? []) {
    ctx.metrics?.decisionsTotal.inc({ ...labels, knob: entry.knob, outcome: entry.outcome });
  }
  if (evaluation && findings.recommended && (findings.applied ?? []).length === 0) {
    for (const d of changesOf(evaluation))
      ctx.metrics?.decisionsTotal.inc({ ...labels, knob: d.knob, outcome: 'Recommended' });
  }
  const status = desiredStatus(profile, findings, ctx.now());
  if (statusDiffers(profile.status, status)) {
    try {
      await ctx.store.writeStatus(profile, status);
    } catch (err) {
      const made = (findings.applied ?? []).length + (findings.recovered ?? []).length;
      if (!(err instanceof ApiException && err.code === 409) || made === 0) throw err;
      // Changes were made: their history entries must land, on top of the status as stored now.
      const stored = await ctx.store.get(
        profile.metadata.namespace ?? 'default',
        profile.metadata.name ?? '',
      );
      if (stored) await ctx.store.writeStatus(stored, desiredStatus(stored, findings, ctx.now()));
    }
    log.info({ observedGeneration: status.observedGeneration }, 'status updated');
  }
  onRecorded();
  for (const event of events) {
    if (event.type === 'Warning') log.warn({ reason: event.reason, note: event.note }, 'not applied');
    await ctx.events.record(profile, event);
  }
  const notes = {
    [ConditionType.MetricsAvailable]: findings.measured.detail,
    // A missing target is Degraded for its own reason, which its message says in full.
    [ConditionType.Degraded]: findings.observed.missing.length === 0 ? findings.degraded?.message : undefined,
  };
  const said = await recordTransitions(ctx, profile, profile.status, status, notes);
  // The condition says the causes in a few words; the log keeps each signal's own message, once
  // per change of causes rather than at every evaluation.
  if (said.includes(ConditionType.MetricsAvailable) && findings.measured.unknown) {
    log.warn({ unknown: findings.measured.unknown }, 'metrics unknown');
  }
}

/** reconcileFailure says why a reconcile stopped for good: Degraded=True with the error policy's reason. */
export async function reconcileFailure(
  ctx: ReconcileContext,
  key: string,
  reason: string,
  message: string,
): Promise<void> {
  const profile = ctx.profile(key);
  if (!profile) return;
  await ctx.events.record(profile, { type: 'Warning', reason, action: 'Reconcile', note: message });
  const conditions = setCondition(
    profile.status?.conditions ?? [],
    { type: ConditionType.Degraded, status: 'True', reason, message },
    profile.metadata.generation ?? 0,
    ctx.now(),
  );
  const status = { ...profile.status, conditions };
  if (statusDiffers(profile.status, status)) await ctx.store.writeStatus(profile, status);
}

/**
 * trouble: a condition that stops the operator from doing its job, worth a Warning Event from the
 * first status on. MetricsAvailable=False is one: nothing is tuned until every signal is known.
 */
function trouble(condition: { type: string; status: string }): boolean {
  return (
    (condition.type === ConditionType.Degraded && condition.status === 'True') ||
    (condition.type === ConditionType.Ready && condition.status === 'False') ||
    (condition.type === ConditionType.MetricsAvailable && condition.status === 'False')
  );
}

/**
 * recordTransitions emits one Event per condition whose status changed, one for trouble on first
 * contact, and one when MetricsAvailable stays False for other causes. A condition's message is
 * short; the Event says all of it: `notes` holds the whole text by condition type, where there is
 * more than the message. Returns the types an Event was recorded for.
 */
export async function recordTransitions(
  ctx: ReconcileContext,
  profile: PerformanceProfile,
  before: PerformanceProfileStatus | undefined,
  after: PerformanceProfileStatus,
  notes: Partial<Record<string, string | undefined>> = {},
): Promise<string[]> {
  const said: string[] = [];
  for (const condition of after.conditions ?? []) {
    const previous = before?.conditions?.find((c) => c.type === condition.type);
    const bad = trouble(condition);
    // A profile's first status is in its conditions already; only trouble is worth an Event then.
    // With many profiles, an Event per first condition would be most of the operator's writes.
    if (!previous && !bad) continue;
    // Unknown metrics whose causes changed (Prometheus back, Redis still down) are news; the same
    // causes again are not. Their message carries no ages or counts of seconds, so it holds still.
    const causesChanged =
      condition.type === ConditionType.MetricsAvailable && bad && previous?.message !== condition.message;
    if (previous?.status === condition.status && !causesChanged) continue;
    await ctx.events.record(profile, {
      type: bad ? 'Warning' : 'Normal',
      reason: condition.reason,
      action: 'Reconcile',
      note: `${condition.type}=${condition.status}: ${notes[condition.type] || condition.message || condition.reason}`,
    });
    said.push(condition.type);
  }
  return said;
}
