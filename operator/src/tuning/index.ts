/**
 * The tuning engine's public surface for the controller, the offline commands and the
 * simulator: call {@link evaluate} each reconcile, act on its decisions per mode, and keep the
 * history with {@link recordEvaluation}.
 */
export { EMPTY_HISTORY, evaluate, recordEvaluation } from './evaluate.ts';
export { gateProposals, satisfiesInvariants, snapshotProblem } from './safety-gate.ts';
export { SEED_STATIC_KNOBS, seedRulePoolSize } from './seed-baselines.ts';
export { validateTuningSpec } from './tuning-spec.ts';
export type {
  AppliedChange,
  Evaluation,
  GatedDecision,
  KnobName,
  KnobValues,
  MetricSnapshot,
  Proposal,
  TuningHistory,
  TuningSpec,
} from './types.ts';
export { KNOB_NAMES } from './types.ts';
