/**
 * What the cache hit-rate objective costs where it is the only thing memory buys. Memory grown for
 * the objective turns eviction misses into hits; a hit saves CPU on a pod and a query on the
 * database. When the fleet sits at its floor with CPU to spare, the saved CPU is no pod saved, and
 * when p95 and the error rate already meet their objectives, the saved queries buy no objective
 * either: the memory then pays for the hit-rate figure alone. The user declared that objective
 * and keeps it; this says what it costs, so it is chosen knowingly.
 */
import type { MetricSnapshot, ObjectiveCost, TuningSpec } from './types.ts';

/**
 * The cost of growing `maxmemory` from `fromMiB` to `toMiB` for the hit-rate objective, when that
 * growth buys nothing else measurable: the fleet runs at its floor with CPU below the point where
 * the HPA adds a pod (`cpuBound` false, as the memory policy's context says), and p95 and the error rate meet their objectives
 * now. Undefined when memory does not grow or the hits would save pods or an objective.
 */
export function hitRateObjectiveCost(
  spec: TuningSpec,
  snapshot: MetricSnapshot,
  cpuBound: boolean,
  fromMiB: number,
  toMiB: number,
): ObjectiveCost | undefined {
  if (toMiB <= fromMiB || cpuBound) return undefined;
  if (snapshot.p95LatencyMs > spec.slo.p95LatencyMs || snapshot.errorRate > spec.slo.errorRate)
    return undefined;
  return {
    objective: 'cacheHitRate',
    target: spec.slo.cacheHitRate,
    fromMiB,
    toMiB,
    extraGiB: (toMiB - fromMiB) / 1024,
    why:
      `p95 ${Math.round(snapshot.p95LatencyMs)} ms and errors already meet their objectives and ` +
      `${Math.round(snapshot.readyReplicas)} replicas at their floor run CPU ${Math.round(snapshot.cpuUtilization * 100)} %, below the HPA's target, so the hits save no pod`,
  };
}

/** The cost as a sentence for a reason: the objective, the GiB, and why nothing else is bought. */
export function describeObjectiveCost(cost: ObjectiveCost): string {
  return (
    `the ${Math.round(cost.target * 100)} % hit-rate objective alone asks for these +${cost.extraGiB.toFixed(2)} GiB: ` +
    `${cost.why}; lower slo.cacheHitRatePercent to forgo them`
  );
}

/** Dollars a day of the extra memory at a price per GiB-hour. */
export function objectiveCostPerDay(cost: ObjectiveCost, pricePerGibHour: number): number {
  return cost.extraGiB * pricePerGibHour * 24;
}
