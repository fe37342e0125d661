/**
 * The take-over and the finalizer: before its first change in Auto mode the operator records the
 * knobs' original values and adds its finalizer; when the profile is deleted it restores them and
 * removes the finalizer.
 */
import {
  EventReason,
  FINALIZER,
  KNOBS,
  type KnobValues,
  Mode,
  ORIGINAL_VALUES_ANNOTATION,
  type PerformanceProfile,
} from '../api/v1alpha1/index.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { Observation, ReconcileContext } from './reconcile-context.ts';
import { knobsSummary } from './status.ts';

/** ensureTakenOver records the knobs' original values and adds the finalizer, once; returns the profile as stored. */
export async function ensureTakenOver(
  ctx: ReconcileContext,
  profile: PerformanceProfile,
  observed: Observation,
  log: Logger,
): Promise<PerformanceProfile> {
  if (profile.metadata.finalizers?.includes(FINALIZER)) return profile;
  const original = JSON.stringify(observed.current);
  const updated = await ctx.store.patchMetadata(profile, {
    finalizers: [...(profile.metadata.finalizers ?? []), FINALIZER],
    annotations: { [ORIGINAL_VALUES_ANNOTATION]: original },
  });
  log.info({ original: observed.current }, 'took over target');
  await ctx.events.record(profile, {
    type: 'Normal',
    reason: EventReason.TookOver,
    action: 'Observe',
    note: `recorded the original knobs (${knobsSummary(observed.current)}); they are restored when this profile is deleted in Auto mode`,
  });
  return updated;
}

/** finalize restores the original knobs (Auto mode only), maxmemory included, and removes the finalizer. */
export async function finalize(
  ctx: ReconcileContext,
  profile: PerformanceProfile,
  log: Logger,
): Promise<void> {
  if (!profile.metadata.finalizers?.includes(FINALIZER)) return;
  const originalJson = profile.metadata.annotations?.[ORIGINAL_VALUES_ANNOTATION];
  if (profile.spec.mode === Mode.Auto && originalJson) {
    const original = parseKnobValues(originalJson);
    const observed = await ctx.observe(profile);
    if (original && observed.missing.length === 0) {
      const notes = await ctx.actuators.restore(profile, original, ctx.now());
      log.info({ original, notes }, 'restored original knobs');
      await ctx.events.record(profile, {
        type: 'Normal',
        reason: EventReason.Restored,
        action: 'Finalize',
        note: `original knobs ${knobsSummary(original)}: ${notes.join('; ')}`,
      });
    } else {
      log.warn({ missing: observed.missing }, 'original knobs not restored');
      await ctx.events.record(profile, {
        type: 'Warning',
        reason: EventReason.RestoreSkipped,
        action: 'Finalize',
        note: original
          ? `target gone (${observed.missing.join(', ')}): nothing to restore`
          : `annotation ${ORIGINAL_VALUES_ANNOTATION} is unreadable: nothing restored`,
      });
    }
  }
  await ctx.store.patchMetadata(profile, {
    finalizers: (profile.metadata.finalizers ?? []).filter((f) => f !== FINALIZER),
  });
  ctx.metrics?.knobValue.remove({ namespace: profile.metadata.namespace, profile: profile.metadata.name });
  log.info('finalized');
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
