/**
 * The burst response. A saturated pod reports at most 100 % CPU, so on a CPU target of 70 % the
 * HPA grows the fleet by at most 1/0.7 = 1.43× a sync, and each new pod serves only after its
 * start-up: a 10× step saturates the fleet for several syncs. The request rate shows the step in
 * full at once. When it reaches `spec.burst.ratio` times what the ready pods serve at the HPA's
 * target, this rule raises `minReplicas` at once to what the measured rate needs (within the
 * replica ceiling and the DB budget), so the HPA creates every pod the rate needs in its next
 * sync. It is the only rule that may skip the cooldown and the step cap. The gate's stabilization
 * window then holds the raised floor; after it the reactive rule lowers the floor and the HPA
 * brings the fleet down at its own pace. Knative's panic mode enters at the same 2× of capacity.
 */
import { estimateReplicaCapacity } from './replica-policy.ts';
import { connectionBudget } from './tuning-spec.ts';
import {
  describeHpaTargets,
  type KnobValues,
  type MetricSnapshot,
  perPodRpsAtTargets,
  type TuningSpec,
} from './types.ts';

/** A burst and the floor it asks for. */
export interface BurstFloor {
  /** minReplicas: the floor the measured rate needs, within the ceiling and the DB budget. */
  readonly minReplicas: number;
  /** reason: the numbers behind it, and that it skips the cooldown. */
  readonly reason: string;
}

/**
 * The burst floor for a snapshot, or undefined when the rate is not a burst or the floor in force
 * already covers it. Capacity per replica is measured from the history before the snapshot (a
 * saturated window's CPU says nothing of capacity), falling back to the SLO's prior.
 */
export function recommendBurstFloor(
  spec: TuningSpec,
  snapshot: MetricSnapshot,
  history: readonly MetricSnapshot[],
  current: KnobValues,
): BurstFloor | undefined {
  const capacity = estimateReplicaCapacity(spec, history);
  const perReplica = perPodRpsAtTargets(current, capacity.requestsPerSecondAtFullCpu);
  const ready = Math.max(0, snapshot.readyReplicas);
  const served = ready * perReplica;
  const rps = snapshot.requestsPerSecond;
  if (!(perReplica > 0) || rps < spec.burst.ratio * served) return undefined;
  const needed = Math.ceil(rps / perReplica);
  const perPod = current.poolSize + current.maxOverflow;
  const budgetCap = perPod > 0 ? Math.floor(connectionBudget(spec) / perPod) : Number.POSITIVE_INFINITY;
  const ceiling = spec.knobs.replicas.ceiling;
  const floor = Math.min(needed, ceiling, budgetCap);
  if (floor <= current.minReplicas) return undefined;
  const bound =
    floor < needed
      ? floor === ceiling
        ? ` (the rate needs ${needed}; the replica ceiling is ${ceiling})`
        : ` (the rate needs ${needed}; the DB budget of ${connectionBudget(spec)} connections holds ${budgetCap} pods of ${perPod})`
      : '';
  return {
    minReplicas: floor,
    reason:
      `burst: ${Math.round(rps)} rps is ${(rps / Math.max(served, 1e-9)).toFixed(1)}× what ${Math.round(ready)} ready pods serve ` +
      `at ${describeHpaTargets(current)} (${Math.round(perReplica)} rps a pod, capacity ${capacity.source}), ` +
      `at least ${spec.burst.ratio}×: minReplicas ${current.minReplicas} → ${floor} at once${bound}; ` +
      `the burst rule is the only one that skips the cooldown and the step cap; the floor holds for the ` +
      `${spec.timings.stabilizationWindowSeconds} s stabilization window, then the HPA brings the fleet down`,
  };
}
