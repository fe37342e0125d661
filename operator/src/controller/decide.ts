/**
 * Step 3 of a reconcile, decide: the engine's history (kept in memory, rebuilt from status and
 * Prometheus when this process first sees the profile, with changes whose status write was lost
 * recovered), and the engine's run on it; its safety gate is step 4, guard.
 */
import { type KnobValues, LAST_CHANGE_ANNOTATION, type PerformanceProfile } from '../api/v1alpha1/index.ts';
import type { Logger } from '../telemetry/logger.ts';
import { evaluate } from '../tuning/evaluate.ts';
import { type RateHistory, rateHistoryOf } from '../tuning/forecast.ts';
import { ASSUMED_HPA_TARGET_CPU_PERCENT, FULL_CPU_PERCENT } from '../tuning/tuning-spec-from-profile.ts';
import type { Evaluation, MetricSnapshot, TuningHistory, TuningSpec } from '../tuning/types.ts';
import type { ProfileEvent } from './events.ts';
import { appliedChangesFromStatus, changeRecord, completeKnobs, unrecordedChanges } from './findings.ts';
import type { Observation, ReconcileContext, Unreported } from './reconcile-context.ts';

/**
 * recoverUnrecorded finds the changes that were made and are missing from status history: those
 * this process kept after a failed status write (with their Events), and those whose record
 * (LAST_CHANGE_ANNOTATION) the target's objects hold, from an operator that stopped between the
 * apply and the status write (with an Event saying so).
 */
export function recoverUnrecorded(
  ctx: ReconcileContext,
  profile: PerformanceProfile,
  key: string,
  observed: Observation,
  log: Logger,
): Unreported {
  const pending = ctx.unreported.get(key);
  const fromObjects = [observed.hpa, observed.configMap, observed.deployment, observed.redisConfigMap].map(
    (o) => o?.metadata?.annotations?.[LAST_CHANGE_ANNOTATION],
  );
  const mine = pending ? unrecordedChanges(profile, [changeRecord(profile, pending.applied)]) : [];
  const found = unrecordedChanges(profile, fromObjects).filter(
    (d) => !mine.some((m) => m.knob === d.knob && m.time === d.time),
  );
  if (found.length > 0)
    log.warn({ changes: found.map((d) => `${d.knob} ${d.from}→${d.to} at ${d.time}`) }, 'recovered changes');
  const applied = [...mine, ...found].sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
  const events: ProfileEvent[] = [
    ...(mine.length > 0 && pending ? pending.events : []),
    ...found.map(
      (d): ProfileEvent => ({
        type: 'Normal',
        reason: d.outcome,
        action: 'Tune',
        note: `${d.knob} ${d.from} → ${d.to} at ${d.time}, recorded late (the operator stopped before writing status): ${d.reason}`,
      }),
    ),
  ];
  return { applied, events };
}

/** What the decide step produced. */
export interface Decided {
  readonly evaluation?: Evaluation;
  readonly snapshot?: MetricSnapshot;
  /** problem says why nothing was decided although metrics were usable. */
  readonly problem?: string;
}

/** decide runs the engine (and its safety gate) when there is a snapshot and every knob is known. */
export function decide(
  spec: TuningSpec,
  snapshot: MetricSnapshot | undefined,
  current: KnobValues,
  history: TuningHistory,
  nowSeconds: number,
): Decided {
  if (!snapshot) return {};
  // A knob the engine holds untuned and nobody could read (maxmemory without Redis, a pool that is
  // not tuned, a request-rate target the HPA does not have) enters as 0: it is kept out of every
  // bound, adds no connection to the budget and sets no rate per pod. An HPA without a CPU
  // Utilization target enters with the toolkit's to turn load into replicas, or, where it scales on
  // a request-rate target, with 100 %: CPU then adds no pod before the pods saturate.
  const untuned = Object.keys(spec.untunedKnobs ?? {}).map((knob) => [
    knob,
    knob !== 'hpaTargetCpuPercent'
      ? 0
      : (current.hpaTargetRequestsPerPod ?? 0) > 0
        ? FULL_CPU_PERCENT
        : ASSUMED_HPA_TARGET_CPU_PERCENT,
  ]);
  const knobs = completeKnobs({ ...Object.fromEntries(untuned), ...current });
  if ('missing' in knobs)
    return { snapshot, problem: `not tuned: ${knobs.missing.join(', ')} could not be read` };
  return { snapshot, evaluation: evaluate(spec, snapshot, knobs.knobs, history, nowSeconds) };
}

/**
 * knownKnobs is the engine's `next` without the untuned knobs that were never read (their 0 is
 * only the engine's stand-in), as status shows recommendations.
 */
export function knownKnobs(
  next: KnobValues,
  read: KnobValues,
  untuned: TuningSpec['untunedKnobs'],
): KnobValues {
  return Object.fromEntries(
    Object.entries(next).filter(
      ([knob]) =>
        untuned?.[knob as keyof KnobValues] === undefined || read[knob as keyof KnobValues] !== undefined,
    ),
  );
}

/**
 * historyOf is the engine's history of a profile: kept in memory between reconciles; the first
 * time this process reconciles the profile, rebuilt from status history (the applied changes,
 * which cooldowns count from) and Prometheus (past snapshots, and the request rate over 15 days
 * for the forecast), so a restart applies nothing twice and forecasts from the first evaluation.
 */
export async function historyOf(
  ctx: ReconcileContext,
  profile: PerformanceProfile,
  key: string,
  nowSeconds: number,
  log: Logger,
): Promise<TuningHistory> {
  const known = ctx.histories.get(key);
  if (known) return known;
  const changes = appliedChangesFromStatus(profile.status?.history ?? []);
  let snapshots: readonly MetricSnapshot[] = [];
  let rates: RateHistory | undefined;
  if (profile.spec.metrics.prometheus) {
    try {
      const rebuilt = await ctx.rebuildHistory(profile, nowSeconds);
      snapshots = rebuilt.snapshots;
      rates = rebuilt.rates;
      log.info(
        {
          changes: changes.length,
          snapshots: snapshots.length,
          ...(rates ? { rateBuckets: rates.buckets.length } : {}),
          unknown: rebuilt.unknown.map((u) => u.signal),
          ...(rebuilt.rejectedPoints > 0 ? { rejectedPoints: rebuilt.rejectedPoints } : {}),
        },
        'rebuilt history',
      );
    } catch (err) {
      // Past snapshots only sharpen estimates; the applied changes, which keep changes apart, are in status.
      log.warn(
        { error: err instanceof Error ? err.message : String(err) },
        'history not rebuilt from Prometheus',
      );
    }
  }
  // The forecast's rate history: 15 days read from Prometheus, else the rebuilt snapshots (a day);
  // it grows in memory with each evaluation.
  const history: TuningHistory = { changes, snapshots, rates: rates ?? rateHistoryOf(snapshots) };
  ctx.histories.set(key, history);
  return history;
}
