/**
 * Conditions as the Kubernetes API conventions define them: one per type, `lastTransitionTime`
 * moves only when the status changes, and each carries the generation it was computed for. Every
 * message is short enough to read in `kubectl describe`; the whole story goes to Events and the log.
 */
import type { Condition } from '../api/v1alpha1/index.ts';
import { shortenByClauses } from './short-text.ts';

/**
 * MAX_CONDITION_MESSAGE bounds every condition message, in characters: three lines of an
 * 80-column terminal, where `kubectl describe pp` prints it on one line.
 */
export const MAX_CONDITION_MESSAGE = 240;

/**
 * conditionMessage bounds `message` to MAX_CONDITION_MESSAGE, cutting between whole clauses;
 * `where` says where the clauses left out can be read (e.g. `see Events`).
 */
export function conditionMessage(message: string, where?: string): string {
  return shortenByClauses(message, (text) => text.length <= MAX_CONDITION_MESSAGE, where);
}

/** A condition to set; the time and generation are filled in by {@link setCondition}. */
export type ConditionUpdate = Pick<Condition, 'type' | 'status' | 'reason' | 'message'>;

/**
 * setCondition returns `conditions` with `update` in place of the condition of the same type, its
 * message bounded by {@link conditionMessage}. An unchanged status keeps its
 * `lastTransitionTime`; a new status takes `now`.
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
  const next: Condition = {
    ...update,
    message: conditionMessage(update.message),
    observedGeneration,
    lastTransitionTime,
  };
  return previous ? conditions.map((c) => (c.type === update.type ? next : c)) : [...conditions, next];
}

/** findCondition returns the condition of `type`, if present. */
export function findCondition(
  conditions: readonly Condition[] | undefined,
  type: string,
): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}
