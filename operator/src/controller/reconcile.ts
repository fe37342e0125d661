/**
 * Reconcile of one PerformanceProfile, in the six steps of design.md, top to bottom with early
 * returns: fetch (gone means stop quietly), finalize when deleted, ensure the take-over record,
 * then observe, measure, decide and guard, act, report.
 */
import {
  ApiException,
  CustomObjectsApi,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import {
  applyKnobs,
  makeTargetClients,
  type ObservedTarget,
  observeTarget,
  type TargetClients,
} from '../actuators/targets.ts';
import {
  ConditionReason,
  FINALIZER,
  GROUP,
  KNOBS,
  type KnobValues,
  Mode,
  ORIGINAL_VALUES_ANNOTATION,
  PAUSED_ANNOTATION,
  type PerformanceProfile,
  type PerformanceProfileStatus,
  PLURAL,
  VERSION,
} from '../api/v1alpha1/index.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { OperatorMetrics } from '../telemetry/metrics.ts';
import type { EventRecorder } from './events.ts';
import { desiredStatus, knobsSummary, type MeasureOutcome, statusDiffers } from './status.ts';

/** Everything a reconcile needs, injected so tests can build one. */
export interface ReconcileContext {
  /** profile returns the cached profile for `namespace/name`, or undefined when it is gone. */
  readonly profile: (key: string) => PerformanceProfile | undefined;
  readonly custom: CustomObjectsApi;
  readonly targets: TargetClients;
  readonly events: EventRecorder;
  readonly logger: Logger;
  readonly metrics?: OperatorMetrics;
  /** now is the clock; tests pass a fixed one. */
  readonly now: () => Date;
}

/** What a reconcile asks of the work queue. */
export interface ReconcileOutcome {
  /** requeueAfterMs schedules the next evaluation. */
  readonly requeueAfterMs?: number;
}

/** makeReconcileContext wires real clients from a kubeconfig. */
export function makeReconcileContext(
  kubeConfig: KubeConfig,
  parts: Pick<ReconcileContext, 'profile' | 'events' | 'logger' | 'metrics'>,
): ReconcileContext {
  return {
    ...parts,
    custom: kubeConfig.makeApiClient(CustomObjectsApi),
    targets: makeTargetClients(kubeConfig),
    now: () => new Date(),
  };
}

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** reconcileProfile brings one profile's target and status in line with its spec. */
export async function reconcileProfile(ctx: ReconcileContext, key: string): Promise<ReconcileOutcome> {
  let profile = ctx.profile(key);
  if (!profile) return {};
  const log = ctx.logger.child({ profile: key });
  if (profile.metadata.deletionTimestamp) {
    await finalize(ctx, profile, log);
    return {};
  }
  const paused = profile.metadata.annotations?.[PAUSED_ANNOTATION] === 'true';

  // 1. observe
  const observed = await observeTarget(ctx.targets, profile);
  if (observed.missing.length === 0 && observed.problems.length === 0) {
    // Later writes go against the version the take-over produced, not the cached one.
    profile = await ensureTakenOver(ctx, profile, observed, log);
  }
  // 2. measure
  const measured = measure(profile);
  // 3. decide, 4. guard, 5. act: the tuning engine needs a metric snapshot, and without one the
  // safety gate's rule is fail-static. This version measures nothing (see measure), so no knob is
  // recommended or changed, in any mode.
  // 6. report
  await report(ctx, profile, { paused, observed, measured }, log);
  return { requeueAfterMs: profile.spec.policy.evaluationIntervalSeconds * 1000 };
}

/**
 * measure takes a metric snapshot. This version of the operator reads no metrics yet: it says so
 * in MetricsAvailable instead of pretending, and nothing is recommended.
 */
export function measure(profile: PerformanceProfile): MeasureOutcome {
  const { prometheus, redis } = profile.spec.metrics ?? {};
  if (!prometheus && !redis) {
    return {
      available: false,
      reason: ConditionReason.NoMetricsSource,
      message:
        'spec.metrics names neither Prometheus nor Redis: nothing is measured, so nothing is recommended',
    };
  }
  const sources = [prometheus ? 'Prometheus' : '', redis ? 'Redis' : ''].filter(Boolean).join(' and ');
  return {
    available: false,
    reason: ConditionReason.MetricsUnavailable,
    message: `this operator version does not read ${sources} yet: nothing is measured, so nothing is recommended`,
  };
}

/** ensureTakenOver records the knobs' original values and adds the finalizer, once; returns the profile as stored. */
async function ensureTakenOver(
  ctx: ReconcileContext,
  profile: PerformanceProfile,
  observed: ObservedTarget,
  log: Logger,
): Promise<PerformanceProfile> {
  if (profile.metadata.finalizers?.includes(FINALIZER)) return profile;
  const original = JSON.stringify(observed.current);
  const updated = await patchMetadata(ctx, profile, {
    finalizers: [...(profile.metadata.finalizers ?? []), FINALIZER],
    annotations: { [ORIGINAL_VALUES_ANNOTATION]: original },
  });
  log.info({ original: observed.current }, 'took over target');
  await ctx.events.record(profile, {
    type: 'Normal',
    reason: 'TookOver',
    action: 'Observe',
    note: `recorded the original knobs (${knobsSummary(observed.current)}); they are restored when this profile is deleted in Auto mode`,
  });
  return updated;
}

/** finalize restores the original knobs (Auto mode only) and removes the finalizer. */
async function finalize(ctx: ReconcileContext, profile: PerformanceProfile, log: Logger): Promise<void> {
  if (!profile.metadata.finalizers?.includes(FINALIZER)) return;
  const originalJson = profile.metadata.annotations?.[ORIGINAL_VALUES_ANNOTATION];
  if (profile.spec.mode === Mode.Auto && originalJson) {
    const original = parseKnobValues(originalJson);
    const observed = await observeTarget(ctx.targets, profile);
    if (original && observed.missing.length === 0) {
      const changed = await applyKnobs(ctx.targets, profile, original, ctx.now());
      log.info({ changed, original }, 'restored original knobs');
      await ctx.events.record(profile, {
        type: 'Normal',
        reason: 'Restored',
        action: 'Finalize',
        note:
          changed.length > 0
            ? `restored ${knobsSummary(original)} on ${changed.join(', ')}`
            : `knobs already at their original values (${knobsSummary(original)})`,
      });
    } else {
      log.warn({ missing: observed.missing }, 'original knobs not restored');
      await ctx.events.record(profile, {
        type: 'Warning',
        reason: 'RestoreSkipped',
        action: 'Finalize',
        note: original
          ? `target gone (${observed.missing.join(', ')}): nothing to restore`
          : `annotation ${ORIGINAL_VALUES_ANNOTATION} is unreadable: nothing restored`,
      });
    }
  }
  await patchMetadata(ctx, profile, {
    finalizers: (profile.metadata.finalizers ?? []).filter((f) => f !== FINALIZER),
  });
  ctx.metrics?.knobValue.remove({ namespace: profile.metadata.namespace, profile: profile.metadata.name });
  log.info('finalized');
}

/**
 * patchMetadata merge-patches a profile's metadata, conditional on the cached resourceVersion so
 * a change made meanwhile is never overwritten; returns the profile as stored.
 */
async function patchMetadata(
  ctx: ReconcileContext,
  profile: PerformanceProfile,
  metadata: Pick<PerformanceProfile['metadata'], 'finalizers' | 'annotations'>,
): Promise<PerformanceProfile> {
  return (await ctx.custom.patchNamespacedCustomObject(
    {
      group: GROUP,
      version: VERSION,
      namespace: profile.metadata.namespace ?? 'default',
      plural: PLURAL,
      name: profile.metadata.name ?? '',
      body: { metadata: { resourceVersion: profile.metadata.resourceVersion, ...metadata } },
    },
    mergePatch,
  )) as PerformanceProfile;
}

/** parseKnobValues reads the original-values annotation, keeping only whole numbers ≥ 0. */
export function parseKnobValues(json: string): KnobValues | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object') return undefined;
  const values: KnobValues = {};
  for (const knob of KNOBS) {
    const v = (parsed as Record<string, unknown>)[knob];
    if (typeof v === 'number' && Number.isInteger(v) && v >= 0) values[knob] = v;
  }
  return values;
}

/** report writes status when it changed, emits Events on transitions and sets knob gauges. */
async function report(
  ctx: ReconcileContext,
  profile: PerformanceProfile,
  findings: Parameters<typeof desiredStatus>[1],
  log: Logger,
): Promise<void> {
  const status = desiredStatus(profile, findings, ctx.now());
  const labels = { namespace: profile.metadata.namespace ?? '', profile: profile.metadata.name ?? '' };
  for (const [knob, value] of Object.entries(findings.observed.current)) {
    if (value !== undefined) ctx.metrics?.knobValue.set({ ...labels, knob, kind: 'current' }, value);
  }
  for (const [knob, value] of Object.entries(findings.recommended ?? {})) {
    if (value !== undefined) ctx.metrics?.knobValue.set({ ...labels, knob, kind: 'recommended' }, value);
  }
  if (!statusDiffers(profile.status, status)) return;
  await writeStatus(ctx, profile, status);
  log.info({ observedGeneration: status.observedGeneration }, 'status updated');
  await recordTransitions(ctx, profile, profile.status, status);
}

async function writeStatus(
  ctx: ReconcileContext,
  profile: PerformanceProfile,
  status: PerformanceProfileStatus,
) {
  try {
    await ctx.custom.patchNamespacedCustomObjectStatus(
      {
        group: GROUP,
        version: VERSION,
        namespace: profile.metadata.namespace ?? 'default',
        plural: PLURAL,
        name: profile.metadata.name ?? '',
        // A merge patch replaces the status's lists whole; the conditions were computed from the
        // cached status, so the resourceVersion guards against writing over a newer one.
        body: { metadata: { resourceVersion: profile.metadata.resourceVersion }, status },
      },
      mergePatch,
    );
  } catch (err) {
    if (err instanceof ApiException && err.code === 404) return;
    throw err;
  }
}

/** recordTransitions emits one Event per condition whose status changed, and one for trouble on first contact. */
async function recordTransitions(
  ctx: ReconcileContext,
  profile: PerformanceProfile,
  before: PerformanceProfileStatus | undefined,
  after: PerformanceProfileStatus,
): Promise<void> {
  for (const condition of after.conditions ?? []) {
    const previous = before?.conditions?.find((c) => c.type === condition.type);
    if (previous?.status === condition.status) continue;
    const bad =
      (condition.type === 'Degraded' && condition.status === 'True') ||
      (condition.type === 'Ready' && condition.status === 'False');
    // A profile's first status is in its conditions already; only trouble is worth an Event then.
    // With many profiles, an Event per first condition would be most of the operator's writes.
    if (!previous && !bad) continue;
    await ctx.events.record(profile, {
      type: bad ? 'Warning' : 'Normal',
      reason: condition.reason,
      action: 'Reconcile',
      note: `${condition.type}=${condition.status}: ${condition.message || condition.reason}`,
    });
  }
}
