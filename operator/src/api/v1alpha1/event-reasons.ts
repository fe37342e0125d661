/**
 * Reasons of the Events the operator records on a profile that are neither condition reasons
 * (ConditionReason) nor decision outcomes (DecisionOutcome, the reason of each decision's Event).
 * `kubectl describe pp` shows them and alerts and scripts match on them, so each is spelled once
 * here, beside the other names of the API; docs/reference/conditions.md is generated from them.
 */

/** Event reasons of their own; each doc comment starts with the type of Event it is recorded with. */
export const EventReason = {
  /** TookOver: Normal; the operator recorded the knobs' original values and added its finalizer. */
  TookOver: 'TookOver',
  /** Converged: Normal; Redis nodes that had missed the last maxmemory change were set again and agree. */
  Converged: 'Converged',
  /** Restored: Normal; the profile was deleted in Auto mode and the original knobs were put back. */
  Restored: 'Restored',
  /** RestoreSkipped: Warning; the profile was deleted, but the target is gone or the original values are unreadable. */
  RestoreSkipped: 'RestoreSkipped',
  /** InvalidInput: Warning; a reconcile stopped for good on a value out of range; Degraded says which. */
  InvalidInput: 'InvalidInput',
  /** Forbidden: Warning; the API server refused the operator's request (HTTP 403); check its RBAC. */
  Forbidden: 'Forbidden',
  /** Invalid: Warning; the API server rejected an object the operator wrote (HTTP 400 or 422). */
  Invalid: 'Invalid',
} as const;
/** EventReason is one of the Event reasons above. */
export type EventReason = (typeof EventReason)[keyof typeof EventReason];
