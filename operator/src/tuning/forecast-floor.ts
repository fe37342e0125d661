/**
 * The floor the forecast asks for (forecast.ts): the replicas that serve the highest forecast
 * request rate within the lead (the pods' start-up, one HPA sync, one evaluation) at the HPA's
 * target, within the replica ceiling and the DB budget. It needs a measured capacity per replica
 * (the prior is a guess, and a floor raised on it holds pods the load does not need).
 */
import { EMPTY_RATE_HISTORY, FORECAST_RECENT_LEVEL_SECONDS, forecastRate } from './forecast.ts';
import { estimateReplicaCapacity } from './replica-policy.ts';
import { connectionBudget } from './tuning-spec.ts';
import {
  type ForecastFloor,
  type KnobValues,
  type MetricSnapshot,
  perPodRpsAtTargets,
  type TuningHistory,
  type TuningSpec,
} from './types.ts';

/**
 * The forecast floor for this evaluation, or undefined when `spec.forecast.mode` is Off. The
 * floor is `applied` only in mode Auto and only where it is above `reactiveMinReplicas`, what the
 * reactive rule asks for: the forecast raises the floor ahead of a peak, never lowers it.
 */
export function recommendForecastFloor(
  spec: TuningSpec,
  snapshot: MetricSnapshot,
  history: TuningHistory,
  current: KnobValues,
  reactiveMinReplicas: number,
): ForecastFloor | undefined {
  const { mode, leadSeconds } = spec.forecast;
  if (mode === 'Off') return undefined;
  const forecast = forecastRate(history.rates ?? EMPTY_RATE_HISTORY, snapshot.takenAtSeconds, leadSeconds);
  if (!forecast.on) return { forecast, applied: false, reason: `forecast off: ${forecast.reason}` };
  const capacity = estimateReplicaCapacity(spec, [...history.snapshots, snapshot]);
  const error =
    forecast.errorPercent === undefined
      ? 'error unknown until two seasons exist'
      : `error ${forecast.errorPercent.toFixed(1)} % over the last season`;
  const { levelKept: kept, levelFell: fell } = forecast;
  const recentWords = `the last ${FORECAST_RECENT_LEVEL_SECONDS / 60} minutes`;
  const keptWhy = kept
    ? ` (${fell ? recentWords : 'the last hour'} ran ${kept.measured.toFixed(2)}×; the same hour ran at most ${kept.high.toFixed(2)}× in ${kept.seasons} past season${kept.seasons === 1 ? '' : 's'})`
    : fell
      ? ` (the last hour ran ${fell.hour.toFixed(2)}×, ${recentWords} ${fell.recent.toFixed(2)}×)`
      : '';
  const facts =
    `forecast (${forecast.season} seasonal median of ${forecast.seasons} season${forecast.seasons === 1 ? '' : 's'} × level ${forecast.level.toFixed(2)}${keptWhy}, ${error}): ` +
    `${Math.round(forecast.peakRps)} rps within the next ${leadSeconds} s (start-up + HPA sync + evaluation)`;
  if (capacity.source !== 'observed') {
    return {
      forecast,
      applied: false,
      reason: `${facts}; no floor until the capacity per replica is measured`,
    };
  }
  const perReplica = perPodRpsAtTargets(current, capacity.requestsPerSecondAtFullCpu);
  const needed = Math.ceil(forecast.peakRps / perReplica);
  const perPod = current.poolSize + current.maxOverflow;
  const budgetCap = perPod > 0 ? Math.floor(connectionBudget(spec) / perPod) : Number.POSITIVE_INFINITY;
  const minReplicas = Math.max(2, Math.min(needed, spec.knobs.replicas.ceiling, budgetCap));
  // Ahead of a rise only: once the ready pods serve the forecast, the HPA holds them, and a floor
  // raised on the plateau would only wait out the stabilization window after the peak.
  const ahead = minReplicas > Math.round(snapshot.readyReplicas);
  const applied = mode === 'Auto' && ahead && minReplicas > reactiveMinReplicas;
  const bound = minReplicas < needed ? ` (it needs ${needed}; the ceiling or the DB budget stops it)` : '';
  const verdict = applied
    ? `raises minReplicas to ${minReplicas}${bound}, above the reactive ${reactiveMinReplicas}`
    : mode === 'Auto'
      ? ahead
        ? `asks for ${minReplicas}${bound}, not above the reactive ${reactiveMinReplicas}`
        : `asks for ${minReplicas}${bound}, which the ${Math.round(snapshot.readyReplicas)} ready pods already cover`
      : `asks for ${minReplicas}${bound} (spec.policy.forecast is Recommend: not applied)`;
  return {
    forecast,
    minReplicas,
    applied,
    reason: `${facts} at ${Math.round(perReplica)} rps a pod ${verdict}`,
  };
}
