/**
 * The HorizontalPodAutoscaler's replica calculation as Kubernetes implements it for a CPU
 * utilization target (pkg/controller/podautoscaler, documented at
 * https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/):
 *
 * - every sync period (15 s): ratio = mean utilization of ready pods / target; no change when
 *   the ratio is within the tolerance (0.1 both ways, or `behavior.scaleUp.tolerance` above 1 and
 *   `scaleDown.tolerance` below it, KEP-4951); else desired = ceil(ratio × ready pods). When scaling up with
 *   pods not yet ready, those count as 0 % and the ratio is recomputed over all pods; if that
 *   ratio is within tolerance or points the other way, nothing changes;
 * - stabilization: the recommendation is the max over the scale-down window (300 s by default)
 *   and the min over the scale-up window (0 s by default) of the recommendations made in it;
 * - rate limits (default behavior): scale up by at most max(100 %, 4 pods) per 15 s,
 *   scale down by at most 100 % per 15 s; then clamp to [minReplicas, maxReplicas].
 */
import { DEFAULT_HPA_TOLERANCE, HPA_SYNC_SECONDS, hpaDesiredReplicas } from '../tuning/tuning-spec.ts';
import type { HpaTolerance } from '../tuning/types.ts';

/** One rate-limit policy of an HPA behavior. */
export interface HpaScalingPolicy {
  /** type: Pods adds/removes a fixed number, Percent a share of the replicas at the period start. */
  readonly type: 'Pods' | 'Percent';
  /** value: pods or percent. */
  readonly value: number;
  /** periodSeconds: the window the limit applies to. */
  readonly periodSeconds: number;
}

/** One direction of an HPA `behavior`. */
export interface HpaScalingRules {
  /** stabilizationWindowSeconds: recommendations remembered for this long. */
  readonly stabilizationWindowSeconds: number;
  /** policies: rate limits; `selectPolicy: Max` picks the one allowing the biggest change. */
  readonly policies: readonly HpaScalingPolicy[];
  /** tolerance: the ratio's distance from 1 this direction ignores (KEP-4951); the cluster's 0.1 where unset. */
  readonly tolerance?: number;
}

/** The HPA's behavior; {@link DEFAULT_HPA_BEHAVIOR} is what Kubernetes applies when none is set. */
export interface HpaBehavior {
  /** scaleUp: rules for growing. */
  readonly scaleUp: HpaScalingRules;
  /** scaleDown: rules for shrinking. */
  readonly scaleDown: HpaScalingRules;
}

/** Kubernetes' default `behavior` (autoscaling/v2). */
export const DEFAULT_HPA_BEHAVIOR: HpaBehavior = {
  scaleUp: {
    stabilizationWindowSeconds: 0,
    policies: [
      { type: 'Percent', value: 100, periodSeconds: 15 },
      { type: 'Pods', value: 4, periodSeconds: 15 },
    ],
  },
  scaleDown: {
    stabilizationWindowSeconds: 300,
    policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }],
  },
};

/** `--horizontal-pod-autoscaler-sync-period`, in seconds (the engine's constant). */
export { HPA_SYNC_SECONDS };

/** What the HPA remembers between syncs. */
export interface HpaMemory {
  /** recommendations: (time, desired replicas) of past syncs, for the stabilization windows. */
  readonly recommendations: readonly { readonly atSeconds: number; readonly replicas: number }[];
  /** scaleEvents: (time, signed change) of past scalings, for the rate limits. */
  readonly scaleEvents: readonly { readonly atSeconds: number; readonly change: number }[];
}

/** The HPA's memory before its first sync. */
export const EMPTY_HPA_MEMORY: HpaMemory = { recommendations: [], scaleEvents: [] };

/** What one sync sees. */
export interface HpaObservation {
  /** nowSeconds: the sync's time. */
  readonly nowSeconds: number;
  /** currentReplicas: the scale target's `spec.replicas`. */
  readonly currentReplicas: number;
  /** readyPods: pods that are ready (and report a metric). */
  readonly readyPods: number;
  /** unreadyPods: pods that exist but are not ready yet. */
  readonly unreadyPods: number;
  /** readyUtilization: mean CPU utilization of the ready pods as a share of their request. */
  readonly readyUtilization: number;
  /** targetUtilization: the HPA's `averageUtilization` / 100. */
  readonly targetUtilization: number;
  /** readyRequestsPerPod: mean requests per second of the ready pods (a Pods metric). */
  readonly readyRequestsPerPod?: number;
  /** targetRequestsPerPod: that metric's `averageValue` target; 0 or absent: the HPA has no such metric. */
  readonly targetRequestsPerPod?: number;
  /** minReplicas / maxReplicas: the HPA's bounds. */
  readonly minReplicas: number;
  readonly maxReplicas: number;
}

/**
 * One metric's replica count (replica_calculator.go: GetResourceReplicas for CPU,
 * GetMetricReplicas for a Pods metric, the same rule), before stabilization and rate limits.
 * Returns currentReplicas when within tolerance.
 */
function replicasForMetric(
  o: HpaObservation,
  usage: number,
  target: number,
  tolerance: HpaTolerance,
): number {
  const ratio = usage / target;
  if (o.unreadyPods > 0 && ratio > 1) {
    const total = o.readyPods + o.unreadyPods;
    // Unready pods count as 0; a ratio that then points down changes nothing.
    const withUnready = (usage * o.readyPods) / total;
    if (withUnready < target) return o.currentReplicas;
    return hpaDesiredReplicas(total, withUnready, target, o.currentReplicas, tolerance);
  }
  return hpaDesiredReplicas(o.readyPods, usage, target, o.currentReplicas, tolerance);
}

/**
 * The replica count from the metrics alone, before stabilization and rate limits: each metric's
 * count, the largest of them (horizontal.go, computeReplicasForMetrics). Returns currentReplicas
 * when every metric is within tolerance.
 */
export function metricReplicas(o: HpaObservation, tolerance: HpaTolerance = DEFAULT_HPA_TOLERANCE): number {
  if (o.readyPods === 0) return o.currentReplicas;
  const cpu = replicasForMetric(o, o.readyUtilization, o.targetUtilization, tolerance);
  const rateTarget = o.targetRequestsPerPod ?? 0;
  return rateTarget > 0
    ? Math.max(cpu, replicasForMetric(o, o.readyRequestsPerPod ?? 0, rateTarget, tolerance))
    : cpu;
}

/** The tolerance per direction a behavior sets, the cluster's default where it sets none. */
export function toleranceOf(behavior: HpaBehavior): HpaTolerance {
  return {
    scaleUp: behavior.scaleUp.tolerance ?? DEFAULT_HPA_TOLERANCE.scaleUp,
    scaleDown: behavior.scaleDown.tolerance ?? DEFAULT_HPA_TOLERANCE.scaleDown,
  };
}

function limitFor(
  rules: HpaScalingRules,
  current: number,
  events: HpaMemory['scaleEvents'],
  now: number,
  up: boolean,
): number {
  let best = up ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  for (const policy of rules.policies) {
    let changedInPeriod = 0;
    for (const e of events) {
      if (e.atSeconds > now - policy.periodSeconds && (up ? e.change > 0 : e.change < 0))
        changedInPeriod += Math.abs(e.change);
    }
    const periodStart = up ? current - changedInPeriod : current + changedInPeriod;
    const limit = up
      ? policy.type === 'Pods'
        ? periodStart + policy.value
        : Math.ceil(periodStart * (1 + policy.value / 100))
      : policy.type === 'Pods'
        ? periodStart - policy.value
        : Math.ceil(periodStart * (1 - policy.value / 100));
    best = up ? Math.max(best, limit) : Math.min(best, limit);
  }
  return best;
}

/**
 * One HPA sync: the new `spec.replicas` and the memory to pass to the next sync
 * (horizontal.go, normalizeDesiredReplicasWithBehaviors).
 */
export function hpaSync(
  o: HpaObservation,
  memory: HpaMemory,
  behavior: HpaBehavior = DEFAULT_HPA_BEHAVIOR,
): { replicas: number; memory: HpaMemory } {
  const now = o.nowSeconds;
  const proposed = metricReplicas(o, toleranceOf(behavior));
  const longest = Math.max(
    behavior.scaleUp.stabilizationWindowSeconds,
    behavior.scaleDown.stabilizationWindowSeconds,
  );
  const recommendations = [
    ...memory.recommendations.filter((r) => r.atSeconds > now - longest),
    { atSeconds: now, replicas: proposed },
  ];
  let upRecommendation = proposed;
  let downRecommendation = proposed;
  for (const r of recommendations) {
    if (r.atSeconds > now - behavior.scaleUp.stabilizationWindowSeconds)
      upRecommendation = Math.min(upRecommendation, r.replicas);
    if (r.atSeconds > now - behavior.scaleDown.stabilizationWindowSeconds)
      downRecommendation = Math.max(downRecommendation, r.replicas);
  }
  let desired = o.currentReplicas;
  if (desired < upRecommendation) desired = upRecommendation;
  if (desired > downRecommendation) desired = downRecommendation;
  const events = memory.scaleEvents.filter((e) => e.atSeconds > now - 1800);
  if (desired > o.currentReplicas) {
    desired = Math.min(desired, limitFor(behavior.scaleUp, o.currentReplicas, events, now, true));
  } else if (desired < o.currentReplicas) {
    desired = Math.max(desired, limitFor(behavior.scaleDown, o.currentReplicas, events, now, false));
  }
  desired = Math.min(o.maxReplicas, Math.max(o.minReplicas, desired));
  const scaleEvents =
    desired !== o.currentReplicas
      ? [...events, { atSeconds: now, change: desired - o.currentReplicas }]
      : events;
  return { replicas: desired, memory: { recommendations, scaleEvents } };
}
