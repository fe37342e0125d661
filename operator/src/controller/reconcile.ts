/**
 * Reconcile of one PerformanceProfile, in the six steps of design.md, top to bottom with early
 * returns: fetch (gone means stop quietly), finalize when deleted, ensure the take-over record,
 * then observe, measure, decide (the engine, whose safety gate is the guard step), act per mode,
 * report. Every I/O goes through the injected {@link ReconcileContext}, so a test builds one.
 * The steps' helpers live beside it: decide.ts, act.ts, report.ts, take-over.ts (the finalizer),
 * and the context's real wiring in make-reconcile-context.ts.
 */
import { rateMetricDisagreement } from '../actuators/index.ts';
import { isPaused, Mode, type PerformanceProfile, requestRateMetricOf } from '../api/v1alpha1/index.ts';
import { recordEvaluation } from '../tuning/evaluate.ts';
import { sloMet } from '../tuning/safety-gate.ts';
import { REDIS_NOT_MEASURED, tuningSpecFromProfile } from '../tuning/tuning-spec-from-profile.ts';
import { type ActOutcome, actOnDecisions, convergeRedis } from './act.ts';
import { decide, historyOf, knownKnobs, recoverUnrecorded } from './decide.ts';
import { measureOutcome, sloVerdict, snapshotStatus, targetEnvironment, withChanges } from './findings.ts';
import { forecastStatusOf } from './forecast-status.ts';
import type { Observation, ReconcileContext, ReconcileOutcome } from './reconcile-context.ts';
import { appliedValues, degradedOf, progressingOf, recommendationEvent, report } from './report.ts';
import type { ReconcileFindings } from './status.ts';
import { ensureTakenOver, finalize } from './take-over.ts';

/** reconcileProfile brings one profile's target and status in line with its spec. */
export async function reconcileProfile(ctx: ReconcileContext, key: string): Promise<ReconcileOutcome> {
  let profile = ctx.profile(key);
  if (!profile) {
    ctx.histories.delete(key);
    ctx.unreported.delete(key);
    return {};
  }
  const log = ctx.logger.child({ profile: key });
  if (profile.metadata.deletionTimestamp) {
    await finalize(ctx, profile, log);
    ctx.histories.delete(key);
    ctx.unreported.delete(key);
    return {};
  }
  const paused = isPaused(profile.metadata);

  // 1. observe
  const observed = await ctx.observe(profile);
  const complete = observed.missing.length === 0;
  // Only Auto changes knobs, so only Auto has originals to restore: in Observe and Recommend a new
  // profile costs one status write, and switching to Auto records the knobs as they are then.
  const takesOver = profile.spec.mode === Mode.Auto;
  if (takesOver && complete && observed.problems.length === 0 && knowsMaxMemory(profile, observed)) {
    // Later writes go against the version the take-over produced, not the cached one.
    profile = await ensureTakenOver(ctx, profile, observed, log);
  }
  // 2. measure: only a complete target has knobs to measure against, and only a named source has
  // anything to say (a snapshot of nothing, stamped with the time, would rewrite status each interval).
  const measurement =
    complete && namesMetricSource(profile) ? await ctx.measure(profile, observed) : undefined;
  const measured = measureOutcome(profile, measurement);
  if (measurement && !measurement.snapshot) {
    log.info({ unknown: measurement.unknown.map((u) => u.signal) }, 'skipped: metrics unknown');
  }
  // 3. decide, with 4. guard: the engine's safety gate runs inside evaluate. Its clock is read
  // after measuring: a snapshot taken after `now` would be from the future, and fail static.
  const now = ctx.now();
  const nowSeconds = now.getTime() / 1000;
  // The HPA's request-rate metric must count the requests the profile measures: the target is
  // learned from one and written to the other.
  const rateMetric = requestRateMetricOf(profile);
  const rateDisagrees =
    rateMetric === undefined
      ? undefined
      : rateMetricDisagreement(observed.hpa, rateMetric, measurement?.snapshot);
  const spec = tuningSpecFromProfile(profile.spec, {
    ...targetEnvironment(observed.configMap, observed.hpa),
    untunedKnobs: {
      ...(profile.spec.metrics.redis ? {} : { redisMaxmemoryMiB: REDIS_NOT_MEASURED }),
      ...(rateDisagrees === undefined ? {} : { hpaTargetRequestsPerPod: rateDisagrees }),
      ...observed.untunedKnobs,
    },
  });
  // Changes made whose status was never written: by this process (its status write failed), or
  // by one that stopped in between (the record on the objects they were applied to).
  const unrecorded = recoverUnrecorded(ctx, profile, key, observed, log);
  const rebuilt = await historyOf(ctx, profile, key, nowSeconds, log);
  const history = { ...rebuilt, changes: withChanges(rebuilt.changes, unrecorded.applied) };
  const auto = profile.spec.mode === Mode.Auto && !paused;
  // A node that missed the last maxmemory (down during the apply) gets it again before deciding.
  const converged = auto && complete ? await convergeRedis(ctx.actuators, profile, spec, observed.redis) : {};
  const current = {
    ...observed.current,
    ...(converged.maxMemoryMiB !== undefined ? { redisMaxmemoryMiB: converged.maxMemoryMiB } : {}),
  };
  const decided = decide(spec, measurement?.snapshot, current, history, nowSeconds);
  // 5. act
  const snapshot = measurement ? snapshotStatus(measurement, now) : undefined;
  const slo = sloVerdict(profile, measurement);
  let acted: ActOutcome = { applied: [], appliedKnobs: new Set(), events: [] };
  if (decided.evaluation && auto && snapshot && decided.snapshot) {
    acted = await actOnDecisions(ctx.actuators, profile, spec, decided.evaluation, {
      snapshot,
      sloMetBefore: sloMet(spec, decided.snapshot),
      now,
    });
  }
  if (decided.evaluation) {
    const made = {
      ...decided.evaluation,
      decisions: decided.evaluation.decisions.filter((d) => acted.appliedKnobs.has(d.knob)),
    };
    ctx.histories.set(
      key,
      recordEvaluation(spec, history, decided.snapshot, made, nowSeconds, acted.applied.length > 0),
    );
  }
  if (decided.evaluation) {
    log.debug(
      {
        decisions: decided.evaluation.decisions.map(
          (d) => `${d.knob} ${d.from}→${d.to} ${d.verdict}: ${d.reason}`,
        ),
      },
      'decided',
    );
  }
  for (const entry of acted.applied)
    log.info({ knob: entry.knob, from: entry.from, to: entry.to }, 'applied');
  // 6. report
  const recommends = profile.spec.mode !== Mode.Observe && !paused && decided.evaluation !== undefined;
  const findings: ReconcileFindings = {
    paused,
    observed: {
      ...observed,
      current: { ...current, ...appliedValues(acted) },
      ...(spec.untunedKnobs ? { untunedKnobs: spec.untunedKnobs } : {}),
    },
    measured,
    ...(slo ? { slo } : {}),
    ...(snapshot ? { snapshot } : {}),
    ...(recommends && decided.evaluation
      ? { recommended: knownKnobs(decided.evaluation.next, current, spec.untunedKnobs) }
      : {}),
    ...(recommends && decided.evaluation?.forecast
      ? { forecast: forecastStatusOf(decided.evaluation.forecast, spec.forecast.mode) }
      : {}),
    recovered: unrecorded.applied,
    applied: acted.applied,
    ...progressingOf(profile, acted, now),
    ...degradedOf(
      acted,
      converged.degraded,
      decided.problem && auto && measurement?.snapshot ? decided.problem : undefined,
    ),
  };
  const events = [...unrecorded.events, ...(converged.event ? [converged.event] : []), ...acted.events];
  if (profile.spec.mode === Mode.Recommend && !paused && decided.evaluation) {
    const event = recommendationEvent(profile, decided.evaluation);
    if (event) events.push(event);
  }
  const made = [...unrecorded.applied, ...acted.applied];
  // Kept until status holds them: a failed write leaves them for the next reconcile.
  if (made.length > 0) ctx.unreported.set(key, { applied: made, events });
  await report(ctx, profile, findings, events, decided.evaluation, log, () => ctx.unreported.delete(key));
  return { requeueAfterMs: profile.spec.policy.evaluationIntervalSeconds * 1000 };
}

/** namesMetricSource tells whether spec.metrics names Prometheus or Redis. */
function namesMetricSource(profile: PerformanceProfile): boolean {
  return profile.spec.metrics.prometheus !== undefined || profile.spec.metrics.redis !== undefined;
}

/** knowsMaxMemory: without a Redis source there is nothing to know; with one, every node answered alike. */
function knowsMaxMemory(profile: PerformanceProfile, observed: Observation): boolean {
  return !profile.spec.metrics.redis || observed.current.redisMaxmemoryMiB !== undefined;
}
