/** The PerformanceProfile API (`perfpilot.dev/v1alpha1`): names, types, schemas and the CRD. */
export type { CelRule } from './cel-rules.ts';
export * from './config-hash.ts';
export * from './constants.ts';
export * from './crd.ts';
export * from './default-promql.ts';
export * from './defaults.ts';
export * from './event-reasons.ts';
export * from './knob-bounds.ts';
export * from './metrics-spec.ts';
export * from './performance-profile.ts';
export * from './policy.ts';
export * from './pool-ref.ts';
export * from './profile-status.ts';
export * from './redis-forms.ts';
export * from './slo.ts';
export * from './target-ref.ts';
