import { recommendBurstFloor } from './burst-policy.ts';
import { cacheUnsettled, fitMissCurveExponent, memoryContext, recommendMaxMemory } from './cache-policy.ts';
import { appendRate, EMPTY_RATE_HISTORY } from './forecast.ts';
import { recommendForecastFloor } from './forecast-floor.ts';
import {
  cpuTargetScale,
  loadGrowth,
  rateTargetScale,
  recommendHpaTarget,
  recommendRateTarget,
} from './hpa-target-policy.ts';
import { allocateConnectionBudget, recommendPoolSize } from './pool-policy.ts';
import { observedLoadRange, PEAK_HEADROOM, recommendReplicaBounds } from './replica-policy.ts';
import { gateProposals, sloMet, snapshotProblem } from './safety-gate.ts';
import { hpaToleranceOf } from './tuning-spec.ts';
import type {
  AppliedChange,
  Evaluation,
  ForecastFloor,
  KnobValues,
  MetricSnapshot,
  Proposal,
  TuningHistory,
  TuningSpec,
} from './types.ts';
import { KNOB_NAMES } from './types.ts';

/** The history a fresh profile starts with. */
export const EMPTY_HISTORY: TuningHistory = { changes: [], snapshots: [] };

function snapshotBefore(snapshots: readonly MetricSnapshot[], atSeconds: number): MetricSnapshot | undefined {
  for (let i = snapshots.length - 1; i >= 0; i--) {
    const s = snapshots[i];
    if (s && s.takenAtSeconds <= atSeconds) return s;
  }
  return undefined;
}

/**
 * Every policy's proposal for a usable snapshot: replica bounds from load, the pool from
 * Little's law and Erlang-C, overflow and the replica ceiling from the DB budget, the HPA's CPU
 * target from the utilization at which p95 was met, and `maxmemory` from the capacity-miss curve.
 * Every rule that turns load into replicas uses the HPA's target in force, `current.hpaTargetCpuPercent`.
 */
export function proposeKnobs(
  spec: TuningSpec,
  snapshot: MetricSnapshot,
  current: KnobValues,
  history: TuningHistory,
): Proposal[] {
  return proposeWithForecast(spec, snapshot, current, history).proposals;
}

/** {@link proposeKnobs}, with the forecast floor's report beside the proposals. */
function proposeWithForecast(
  spec: TuningSpec,
  snapshot: MetricSnapshot,
  current: KnobValues,
  history: TuningHistory,
): { proposals: Proposal[]; forecast: ForecastFloor | undefined } {
  const proposals: Proposal[] = [];
  const bounds = recommendReplicaBounds(spec, snapshot, history.snapshots, current);
  const pool = recommendPoolSize(spec, snapshot, history.snapshots, current.poolSize, current);
  const poolSize = pool?.poolSize ?? current.poolSize;
  const allocation = allocateConnectionBudget({
    spec,
    poolSize,
    loadReplicas: bounds.peakReplicas,
    minReplicas: bounds.minReplicas,
    designBusyConnections: pool?.designBusyConnections ?? 0,
    forecastReplicas: bounds.maxReplicas,
    current,
  });
  // The floor rises only on a measured capacity: raised on the prior alone (the seed's 1,000 rps
  // per replica, below what a replica usually serves) it holds pods the load does not need, and
  // lowering it again waits out the stabilization window. On the prior it may only fall.
  // A burst raises the floor at once, through the cooldown; otherwise the reactive rule sets it,
  // and the forecast floor may raise it ahead of a peak (never lower it).
  const burst = recommendBurstFloor(spec, snapshot, history.snapshots, current);
  const reactive =
    bounds.capacitySource === 'observed' || bounds.minReplicas < current.minReplicas
      ? bounds.minReplicas
      : undefined;
  const forecast = recommendForecastFloor(spec, snapshot, history, current, reactive ?? current.minReplicas);
  if (burst) {
    proposals.push({
      knob: 'minReplicas',
      value: burst.minReplicas,
      reason: burst.reason,
      skipsCooldown: true,
    });
  } else if (forecast?.applied && forecast.minReplicas !== undefined) {
    proposals.push({
      knob: 'minReplicas',
      value: forecast.minReplicas,
      reason: `${bounds.reason}; ${forecast.reason}`,
    });
  } else if (reactive !== undefined) {
    proposals.push({
      knob: 'minReplicas',
      value: reactive,
      reason: forecast ? `${bounds.reason}; ${forecast.reason}` : bounds.reason,
    });
  }
  // An untuned pool's connections are unknown (none: {}, or set where the operator cannot see
  // it): the budget is not counted, and the ceiling follows the load alone.
  const poolTuned = spec.untunedKnobs?.poolSize === undefined;
  const ceiling = poolTuned ? allocation.maxReplicas : bounds.maxReplicas;
  const ceilingReason = poolTuned
    ? `${bounds.reason}; ${allocation.reason}`
    : `${bounds.reason}; the pool is not tuned, so the connection budget is not counted`;
  const ceilingForBurst = burst !== undefined && current.maxReplicas < burst.minReplicas;
  proposals.push({
    knob: 'maxReplicas',
    value: ceilingForBurst ? Math.max(ceiling, burst.minReplicas) : ceiling,
    reason: `${ceilingReason}${ceilingForBurst ? `; raised with the burst floor ${burst.minReplicas}` : ''}`,
    ...(ceilingForBurst ? { skipsCooldown: true } : {}),
  });
  if (pool && poolTuned) {
    const fitted = allocation.poolSize === pool.poolSize ? '' : `; ${allocation.reason}`;
    proposals.push({ knob: 'poolSize', value: allocation.poolSize, reason: `${pool.reason}${fitted}` });
    proposals.push({ knob: 'maxOverflow', value: allocation.maxOverflow, reason: allocation.reason });
  }
  // The HPA's targets, where the profile lets the engine tune them; without a measured proposal the
  // current value is proposed, so the reason (what the history still lacks) reaches status.
  if (spec.untunedKnobs?.hpaTargetCpuPercent === undefined) {
    const target = recommendHpaTarget(spec, snapshot, history.snapshots, current.hpaTargetCpuPercent);
    proposals.push({
      knob: 'hpaTargetCpuPercent',
      value: target.value ?? current.hpaTargetCpuPercent,
      reason: target.reason,
      resolution: cpuTargetScale(spec).binWidth,
    });
  }
  if (spec.untunedKnobs?.hpaTargetRequestsPerPod === undefined && current.hpaTargetRequestsPerPod > 0) {
    const target = recommendRateTarget(spec, snapshot, history.snapshots, current.hpaTargetRequestsPerPod);
    proposals.push({
      knob: 'hpaTargetRequestsPerPod',
      value: target.value ?? current.hpaTargetRequestsPerPod,
      reason: target.reason,
      resolution: rateTargetScale(spec).binWidth,
    });
  }
  const lastMemoryChange = [...history.changes].reverse().find((c) => c.knob === 'redisMaxmemoryMiB');
  const exponent = fitMissCurveExponent(
    lastMemoryChange,
    lastMemoryChange ? snapshotBefore(history.snapshots, lastMemoryChange.atSeconds) : undefined,
    snapshot,
  );
  const peakUsedBytes = history.snapshots.reduce(
    (peak, s) => Math.max(peak, s.redis?.usedMemoryBytes ?? 0),
    0,
  );
  const { peakRps } = observedLoadRange(history.snapshots, snapshot);
  const unsettled = cacheUnsettled(history.snapshots, snapshot);
  if (unsettled || !snapshot.redis) return { proposals, forecast };
  const context = memoryContext(snapshot, current, hpaToleranceOf(spec));
  // Only the floor's rule reads the growth over the stabilization window: a pass over the history.
  const window = spec.timings.stabilizationWindowSeconds;
  const memory = recommendMaxMemory({
    spec,
    snapshot,
    currentMiB: current.redisMaxmemoryMiB,
    missCurveExponent: exponent,
    peakUsedBytes,
    forecastPeakRps: PEAK_HEADROOM * peakRps,
    context,
    ...(context.atFloor
      ? { regrowWindow: { seconds: window, growth: loadGrowth(history.snapshots, window).growth } }
      : {}),
  });
  if (memory.valueMiB !== undefined) {
    proposals.push({
      knob: 'redisMaxmemoryMiB',
      value: memory.valueMiB,
      reason: memory.reason,
      ...(memory.objectiveCost ? { objectiveCost: memory.objectiveCost } : {}),
    });
  }
  return { proposals, forecast };
}

/**
 * The tuning engine's entry point, called by the operator, the offline commands and the
 * simulator: (spec, snapshot, current values, history, now) → proposals and gated decisions.
 * Pure: no I/O, no clock; `nowSeconds` is on the same clock as the snapshot's `takenAtSeconds`.
 */
export function evaluate(
  spec: TuningSpec,
  snapshot: MetricSnapshot | undefined,
  current: KnobValues,
  history: TuningHistory,
  nowSeconds: number,
): Evaluation {
  const problem = snapshotProblem(spec, snapshot, nowSeconds);
  const { proposals, forecast } =
    !problem && snapshot
      ? proposeWithForecast(spec, snapshot, current, history)
      : { proposals: [], forecast: undefined };
  const { decisions, next } = gateProposals(spec, snapshot, current, proposals, history, nowSeconds);
  return {
    proposals,
    decisions,
    next,
    metricsUsable: problem === undefined,
    ...(forecast ? { forecast } : {}),
  };
}

/** How many snapshots a history keeps: a day at the default one-minute interval. */
export const HISTORY_SNAPSHOT_LIMIT = 1440;
/** How many applied changes a history keeps. */
export const HISTORY_CHANGE_LIMIT = 200;

/**
 * The history after an evaluation was acted on: appends the usable snapshot and every change
 * that was applied, trimming both to their limits. Pass `applied = false` in Observe and
 * Recommend modes, where nothing changed.
 */
export function recordEvaluation(
  spec: TuningSpec,
  history: TuningHistory,
  snapshot: MetricSnapshot | undefined,
  evaluation: Evaluation,
  nowSeconds: number,
  applied: boolean,
): TuningHistory {
  const usable = evaluation.metricsUsable && snapshot;
  const snapshots = usable
    ? [...history.snapshots, snapshot].slice(-HISTORY_SNAPSHOT_LIMIT)
    : history.snapshots;
  // The forecast's rate history, only where a forecast is wanted: it spans two weeks.
  const rates =
    usable && spec.forecast.mode !== 'Off'
      ? {
          rates: appendRate(
            history.rates ?? EMPTY_RATE_HISTORY,
            snapshot.takenAtSeconds,
            snapshot.requestsPerSecond,
          ),
        }
      : history.rates
        ? { rates: history.rates }
        : {};
  if (!applied) return { changes: history.changes, snapshots, ...rates };
  const metBefore = snapshot !== undefined && evaluation.metricsUsable && sloMet(spec, snapshot);
  const newChanges: AppliedChange[] = evaluation.decisions
    .filter((d) => d.to !== d.from)
    .map((d) => ({
      knob: d.knob,
      from: d.from,
      to: d.to,
      atSeconds: nowSeconds,
      sloMetBefore: metBefore,
      requestsPerSecondBefore: snapshot?.requestsPerSecond ?? 0,
      rollback: d.verdict === 'rollback',
    }));
  return {
    changes: newChanges.length
      ? [...history.changes, ...newChanges].slice(-HISTORY_CHANGE_LIMIT)
      : history.changes,
    snapshots,
    ...rates,
  };
}

/** True when two knob sets are equal. */
export function sameKnobs(a: KnobValues, b: KnobValues): boolean {
  return KNOB_NAMES.every((k) => a[k] === b[k]);
}
