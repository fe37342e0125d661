/**
 * Conditions as the Kubernetes API conventions define them: one per type, `lastTransitionTime`
 * moves only when the status changes, and each carries the generation it was computed for.
 */
import type { Condition } from '../api/v1alpha1/index.ts';

/** A condition to set; the time and generation are filled in by {@link setCondition}. */
export type ConditionUpdate = Pick<Condition, 'type' | 'status' | 'reason' | 'message'>;

/**
 * setCondition returns `conditions` with `update` in place of the condition of the same type.
 * An unchanged status keeps its `lastTransitionTime`; a new status takes `now`.
 */
export function setCondition(
  conditions: readonly Condition[],
  update: ConditionUpdate,
  observedGeneration: number,
  now: Date,
): Condition[] {
  const previous = conditions.find((c) => c.type === update.type);
  const lastTransitionTime =
    previous && previous.status === update.status ? previous.lastTransitionTime : now.toISOString();
  const next: Condition = { ...update, observedGeneration, lastTransitionTime };
  return previous ? conditions.map((c) => (c.type === update.type ? next : c)) : [...conditions, next];
}

/** findCondition returns the condition of `type`, if present. */
export function findCondition(
  conditions: readonly Condition[] | undefined,
  type: string,
): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}
