import { hpaDesiredReplicas, hpaToleranceOf, minReplicasFloor } from './tuning-spec.ts';
import {
  type HpaTargets,
  hpaUsageRatio,
  type MetricSnapshot,
  perPodRpsAtTargets,
  type TuningSpec,
} from './types.ts';

/** What one replica can serve, and where the number comes from. */
export interface ReplicaCapacity {
  /** requestsPerSecondAtFullCpu: requests/s one replica serves at 100 % of its CPU request. */
  readonly requestsPerSecondAtFullCpu: number;
  /** source: 'observed' when measured from snapshots, 'prior' when the SLO's requestsPerReplica. */
  readonly source: 'observed' | 'prior';
}

/** Snapshots below this CPU use say little about capacity (fixed costs dominate). */
const MIN_CPU_FOR_CAPACITY = 0.15;
/** How many recent informative snapshots the capacity estimate uses. */
const CAPACITY_SAMPLES = 60;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/**
 * Estimates per-replica capacity from observed RPS per replica against CPU use (CPU grows
 * linearly with requests, so rps / utilization is the rate at full CPU). Snapshots where the
 * latency SLO was already broken are left out: their CPU reading is distorted by queueing.
 * Without at least three informative snapshots it falls back to the seed's prior.
 */
export function estimateReplicaCapacity(
  spec: TuningSpec,
  snapshots: readonly MetricSnapshot[],
): ReplicaCapacity {
  const samples: number[] = [];
  for (let i = snapshots.length - 1; i >= 0 && samples.length < CAPACITY_SAMPLES; i--) {
    const s = snapshots[i];
    if (!s || s.readyReplicas <= 0 || s.cpuUtilization < MIN_CPU_FOR_CAPACITY) continue;
    if (s.p95LatencyMs > spec.slo.p95LatencyMs || s.errorRate > spec.slo.errorRate) continue;
    samples.push(s.requestsPerSecond / s.readyReplicas / s.cpuUtilization);
  }
  if (samples.length < 3) {
    return { requestsPerSecondAtFullCpu: spec.slo.requestsPerReplica, source: 'prior' };
  }
  return { requestsPerSecondAtFullCpu: median(samples), source: 'observed' };
}

/** Load extremes over the remembered history (about a day at the default settings). */
export interface LoadRange {
  /** troughRps: the lowest request rate seen. */
  readonly troughRps: number;
  /** peakRps: the highest request rate seen. */
  readonly peakRps: number;
}

/** The trough and peak of request rate over the snapshots, the current one included. */
export function observedLoadRange(snapshots: readonly MetricSnapshot[], current: MetricSnapshot): LoadRange {
  let troughRps = current.requestsPerSecond;
  let peakRps = current.requestsPerSecond;
  for (const s of snapshots) {
    troughRps = Math.min(troughRps, s.requestsPerSecond);
    peakRps = Math.max(peakRps, s.requestsPerSecond);
  }
  return { troughRps, peakRps };
}

/** Headroom on the peak forecast: the day's peak may be exceeded by this factor before the cap binds. */
export const PEAK_HEADROOM = 2;

/** The replica bounds the load asks for, before the DB budget is applied. */
export interface ReplicaBoundsNeed {
  /** minReplicas: from trough load and availability. */
  readonly minReplicas: number;
  /** maxReplicas: replicas the peak forecast with headroom needs (the DB budget may allow more). */
  readonly maxReplicas: number;
  /** peakReplicas: replicas the observed peak needs at the HPA target, without headroom. */
  readonly peakReplicas: number;
  /** capacitySource: whether the capacity per replica behind them was measured or is the prior. */
  readonly capacitySource: ReplicaCapacity['source'];
  /** reason: the numbers behind both. */
  readonly reason: string;
}

/**
 * Replica bounds from load: `minReplicas` serves the trough at the HPA's targets (up to its
 * tolerance above them, where the HPA adds no pod) and never
 * drops below 2 or the PDB; `maxReplicas` serves {@link PEAK_HEADROOM} × the remembered peak
 * (or the current load, if higher) at the targets, so the HPA has room for a surprise.
 * `targets` are the HPA's targets in force ({@link perPodRpsAtTargets}).
 */
export function recommendReplicaBounds(
  spec: TuningSpec,
  snapshot: MetricSnapshot,
  history: readonly MetricSnapshot[],
  targets: HpaTargets,
): ReplicaBoundsNeed {
  const capacity = estimateReplicaCapacity(spec, [...history, snapshot]);
  const perReplicaAtTarget = perPodRpsAtTargets(targets, capacity.requestsPerSecondAtFullCpu);
  const range = observedLoadRange(history, snapshot);
  const floor = minReplicasFloor(spec);
  const ceiling = spec.knobs.replicas.ceiling;
  // The floor serves the trough as the HPA would hold it: it adds no pod while CPU is within its
  // tolerance above the target, so a trough that needs 2.0 replicas at the target exactly, read
  // once as 1.998 and once as 2.001, does not move the floor between 2 and 3.
  const tolerance = hpaToleranceOf(spec);
  const troughPerReplica = perReplicaAtTarget * (1 + tolerance.scaleUp);
  const minReplicas = Math.min(ceiling, Math.max(floor, Math.ceil(range.troughRps / troughPerReplica)));
  // What the HPA asks for now, by its own formula (no change within its tolerance): a measured
  // need, where the capacity may still be the prior.
  const hpaWants = hpaDesiredReplicas(
    snapshot.readyReplicas,
    hpaUsageRatio(snapshot, targets),
    1,
    snapshot.readyReplicas,
    tolerance,
  );
  const forPeak = Math.ceil(range.peakRps / perReplicaAtTarget);
  const peakReplicas = Math.min(ceiling, Math.max(minReplicas, hpaWants, forPeak));
  const maxForPeak = Math.ceil((range.peakRps * PEAK_HEADROOM) / perReplicaAtTarget);
  const maxReplicas = Math.min(ceiling, Math.max(minReplicas + 1, peakReplicas, maxForPeak));
  const reason =
    `capacity ${Math.round(capacity.requestsPerSecondAtFullCpu)} rps/replica at full CPU (${capacity.source}); ` +
    `trough ${Math.round(range.troughRps)} rps → min ${minReplicas}; ` +
    `peak ${Math.round(range.peakRps)} rps × ${PEAK_HEADROOM} → max ${maxReplicas}` +
    (hpaWants > forPeak ? `; the HPA asks for ${hpaWants} now` : '');
  return { minReplicas, maxReplicas, peakReplicas, capacitySource: capacity.source, reason };
}
