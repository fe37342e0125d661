/**
 * The act step in Auto mode: the engine's gated decisions (verdict apply or rollback) go through
 * the actuators, grouped by where the knobs live (HPA bounds, the pool in the tuning ConfigMap,
 * maxmemory on every Redis node), and every actuator result becomes history entries, Events and
 * the Degraded or Progressing verdict the report step writes. Nothing is forced: a field another
 * manager owns is reported with that manager and field named.
 */

import {
  conflictSummary,
  type HpaFields,
  type PoolSettings,
  type PoolSettingsResult,
  type RedisMaxMemoryObservation,
  type RedisMaxMemoryResult,
  type ReplicaBoundsResult,
  type RolloutGuard,
  summarizeMaxMemoryResult,
} from '../actuators/index.ts';
import {
  ConditionReason,
  type Decision,
  DecisionOutcome,
  EventReason,
  type KnobValues,
  type MetricSnapshotStatus,
  type PerformanceProfile,
  requestRateMetricOf,
} from '../api/v1alpha1/index.ts';
import type { Evaluation, GatedDecision, KnobName, TuningSpec } from '../tuning/types.ts';
import type { ProfileEvent } from './events.ts';
import { changeRecord } from './findings.ts';
import type { StepVerdict } from './status.ts';

/** The actuators as the reconcile calls them, per profile; makeReconcileContext wires the real ones. */
export interface KnobActuators {
  /**
   * replicaBounds sets the HPA's minReplicas and maxReplicas, and its CPU target when given;
   * `record` (see changeRecord) goes into the same apply, as do the others'.
   */
  replicaBounds(
    profile: PerformanceProfile,
    bounds: HpaFields,
    record?: string,
  ): Promise<ReplicaBoundsResult>;
  /** poolSettings writes DB_POOL_SIZE and DB_MAX_OVERFLOW and rolls the pods, at most once per cooldown. */
  poolSettings(
    profile: PerformanceProfile,
    settings: PoolSettings,
    guard: RolloutGuard,
    record?: string,
  ): Promise<PoolSettingsResult>;
  /** redisMaxMemory sets maxmemory on every Redis node and persists it (with `record`, when given). */
  redisMaxMemory(
    profile: PerformanceProfile,
    mib: number,
    tuning: TuningSpec,
    record?: string,
  ): Promise<RedisMaxMemoryResult>;
  /** restore puts the original knobs back (the finalizer); returns one note per object it changed or could not. */
  restore(profile: PerformanceProfile, original: KnobValues, now: Date): Promise<string[]>;
}

/** What acting did. */
export interface ActOutcome {
  /** applied are the history entries of the changes made, in the order made. */
  readonly applied: Decision[];
  /** appliedKnobs are the knobs that changed (for the engine's history). */
  readonly appliedKnobs: ReadonlySet<KnobName>;
  /** events are one per applied change, and one per problem. */
  readonly events: ProfileEvent[];
  readonly degraded?: StepVerdict;
  readonly progressing?: StepVerdict;
}

/** The basis of a change: the snapshot it came from and whether the SLOs held in it. */
export interface ChangeBasis {
  readonly snapshot: MetricSnapshotStatus;
  readonly sloMetBefore: boolean;
  readonly now: Date;
}

const POOL: readonly KnobName[] = ['poolSize', 'maxOverflow'];
/** The knobs in the HPA: written together, in one apply. */
const HPA_KNOBS: readonly KnobName[] = [
  'minReplicas',
  'maxReplicas',
  'hpaTargetCpuPercent',
  'hpaTargetRequestsPerPod',
];

/** changes are the decisions that move a knob. */
export function changesOf(evaluation: Evaluation): GatedDecision[] {
  return evaluation.decisions.filter((d) => d.verdict !== 'hold' && d.to !== d.from);
}

/**
 * actOnDecisions applies every change of `evaluation`. When maxReplicas grows, the pool goes
 * first (a smaller pool frees the connections more replicas need); and when the pool could not
 * change, a raise of maxReplicas that the old pool's connections do not fit in the budget is held.
 */
export async function actOnDecisions(
  actuators: KnobActuators,
  profile: PerformanceProfile,
  spec: TuningSpec,
  evaluation: Evaluation,
  basis: ChangeBasis,
): Promise<ActOutcome> {
  const changes = changesOf(evaluation);
  const outcome: Mutable = { applied: [], appliedKnobs: new Set(), events: [] };
  const next = evaluation.next;
  const current = Object.fromEntries(evaluation.decisions.map((d) => [d.knob, d.from])) as Record<
    KnobName,
    number
  >;
  const poolChanges = changes.filter((d) => POOL.includes(d.knob));
  const boundsChanges = changes.filter((d) => HPA_KNOBS.includes(d.knob));
  // While the CPU target is tuned every apply of the HPA carries it (and so the whole metrics
  // list): server-side apply would otherwise take away a list perfpilot applied before.
  const cpuTuned = spec.untunedKnobs?.hpaTargetCpuPercent === undefined;
  const rateMetric = requestRateMetricOf(profile);
  const rateTuned = rateMetric !== undefined && spec.untunedKnobs?.hpaTargetRequestsPerPod === undefined;
  const redisChange = changes.find((d) => d.knob === 'redisMaxmemoryMiB');
  const entryOf = (d: GatedDecision): Decision => ({
    time: basis.now.toISOString(),
    knob: d.knob,
    from: d.from,
    to: d.to,
    outcome: d.verdict === 'rollback' ? DecisionOutcome.RolledBack : DecisionOutcome.Applied,
    reason: d.reason.slice(0, 1024),
    sloMetBefore: basis.sloMetBefore,
    snapshot: basis.snapshot,
  });
  // What each apply writes beside its knobs: the history entries it will make, should status
  // never be written (the operator stopped in between).
  const recordOf = (decisions: readonly GatedDecision[]) => changeRecord(profile, decisions.map(entryOf));
  const record = (decisions: readonly GatedDecision[], detail: string) => {
    for (const d of decisions) {
      const entry = entryOf(d);
      outcome.applied.push(entry);
      outcome.appliedKnobs.add(d.knob);
      outcome.events.push({
        type: 'Normal',
        reason: entry.outcome,
        action: 'Tune',
        note: `${d.knob} ${d.from} → ${d.to} (${detail}): ${d.reason}`,
      });
    }
  };
  let poolApplied = poolChanges.length === 0;
  const applyPool = async () => {
    if (poolChanges.length === 0) return;
    const result = await actuators.poolSettings(
      profile,
      { poolSize: next.poolSize, maxOverflow: next.maxOverflow },
      { now: basis.now, cooldownSeconds: profile.spec.policy.cooldownSeconds },
      recordOf(poolChanges),
    );
    switch (result.kind) {
      case 'applied':
        poolApplied = true;
        record(poolChanges, `${result.changed.join(' and ')} written, pods rolled`);
        return;
      case 'unchanged':
        poolApplied = true;
        return;
      case 'deferred':
        outcome.progressing = {
          reason: ConditionReason.RolloutDeferred,
          message: `pool ${next.poolSize}+${next.maxOverflow} waits for the cooldown since the last roll of the pods: not before ${result.notBefore.toISOString()}`,
        };
        return;
      case 'conflict':
        problem(outcome, ConditionReason.FieldConflict, conflictMessage(result.object, result.conflicts));
        return;
      case 'notFound':
        problem(
          outcome,
          ConditionReason.TargetNotFound,
          `pool not changed: ${result.missing.join(', ')} not found`,
        );
        return;
      case 'notActuatable':
        problem(outcome, ConditionReason.KnobNotActuatable, `pool not changed: ${result.message}`);
        return;
    }
  };
  const applyBounds = async () => {
    if (boundsChanges.length === 0) return;
    const maxReplicas = next.maxReplicas;
    const perPod = poolApplied ? next.poolSize + next.maxOverflow : current.poolSize + current.maxOverflow;
    const budget = spec.database.maxConnections - spec.database.reservedConnections;
    if (maxReplicas > current.maxReplicas && maxReplicas * perPod > budget) {
      problem(
        outcome,
        ConditionReason.BudgetExceeded,
        `maxReplicas ${current.maxReplicas} → ${maxReplicas} held: with the pool unchanged, ${maxReplicas} × ${perPod} connections exceed the budget of ${budget}`,
      );
      return;
    }
    const result = await actuators.replicaBounds(
      profile,
      {
        minReplicas: next.minReplicas,
        maxReplicas,
        ...(cpuTuned ? { cpuUtilizationPercent: next.hpaTargetCpuPercent } : {}),
        ...(rateTuned
          ? { requestRate: { metricName: rateMetric, perPod: next.hpaTargetRequestsPerPod } }
          : {}),
      },
      recordOf(boundsChanges),
    );
    if (result.kind === 'applied') record(boundsChanges, `${result.object} applied`);
    else if (result.kind === 'conflict')
      problem(outcome, ConditionReason.FieldConflict, conflictMessage(result.object, result.conflicts));
    else if (result.kind === 'notFound')
      problem(outcome, ConditionReason.TargetNotFound, `HPA not changed: ${result.object} not found`);
  };
  if (next.maxReplicas > current.maxReplicas) {
    await applyPool();
    await applyBounds();
  } else {
    await applyBounds();
    await applyPool();
  }
  if (redisChange) {
    const result = await actuators.redisMaxMemory(profile, redisChange.to, spec, recordOf([redisChange]));
    const summary = summarizeMaxMemoryResult(result);
    if (result.kind === 'refused')
      problem(
        outcome,
        result.configRefused ? ConditionReason.KnobNotActuatable : ConditionReason.ApplyFailed,
        summary,
      );
    else {
      // Set on some nodes is applied: the next cycles converge the rest to it.
      if (result.nodes.length > 0) record([redisChange], summary);
      if (result.kind === 'partial') problem(outcome, ConditionReason.RedisNotConverged, summary);
      else if (result.persisted.kind === 'conflict') problem(outcome, ConditionReason.FieldConflict, summary);
      else if (result.persisted.kind === 'failed') problem(outcome, ConditionReason.ApplyFailed, summary);
    }
  }
  return outcome;
}

type Mutable = { -readonly [K in keyof ActOutcome]: ActOutcome[K] } & {
  applied: Decision[];
  events: ProfileEvent[];
  appliedKnobs: Set<KnobName>;
};

function conflictMessage(object: string, conflicts: Parameters<typeof conflictSummary>[0]): string {
  return `not applied to ${object}: ${conflictSummary(conflicts)}; nothing was forced (see docs/guides/gitops.md, "Hand the tuned fields to the operator")`;
}

/** problem records the first problem as Degraded (later ones join its message) and a Warning Event for each. */
function problem(outcome: Mutable, reason: string, message: string): void {
  outcome.degraded = outcome.degraded
    ? { reason: outcome.degraded.reason, message: `${outcome.degraded.message}; ${message}` }
    : { reason, message };
  outcome.events.push({ type: 'Warning', reason, action: 'Tune', note: message });
}

/** lastAppliedMaxMemory is the newest maxmemory the operator applied, from status history. */
export function lastAppliedMaxMemory(history: readonly Decision[] | undefined): number | undefined {
  return [...(history ?? [])]
    .reverse()
    .find(
      (d) =>
        d.knob === 'redisMaxmemoryMiB' &&
        (d.outcome === DecisionOutcome.Applied || d.outcome === DecisionOutcome.RolledBack),
    )?.to;
}

/** What converging Redis did. */
export interface ConvergeOutcome {
  /** maxMemoryMiB is the value every node holds now, when they converged. */
  readonly maxMemoryMiB?: number;
  readonly event?: ProfileEvent;
  readonly degraded?: StepVerdict;
}

/**
 * convergeRedis sets the operator's last applied maxmemory again on every node while some node
 * missed it (down during the apply, or restarted without it), so no node stays divergent past
 * the next successful cycle. Nothing to do when every node answered with one value.
 */
export async function convergeRedis(
  actuators: KnobActuators,
  profile: PerformanceProfile,
  spec: TuningSpec,
  observed: RedisMaxMemoryObservation | undefined,
): Promise<ConvergeOutcome> {
  const wanted = lastAppliedMaxMemory(profile.status?.history);
  if (!observed || wanted === undefined) return {};
  // Every node answering with one value is converged, even to another value: someone set it, and
  // the engine takes it as the current one.
  if (!observed.divergent && observed.failed.length === 0) return {};
  const result = await actuators.redisMaxMemory(profile, wanted, spec);
  const summary = summarizeMaxMemoryResult(result);
  if (result.kind === 'converged') {
    return {
      maxMemoryMiB: wanted,
      event: { type: 'Normal', reason: EventReason.Converged, action: 'Tune', note: summary },
    };
  }
  return {
    degraded: {
      reason: result.kind === 'refused' ? ConditionReason.ApplyFailed : ConditionReason.RedisNotConverged,
      message: summary,
    },
  };
}
