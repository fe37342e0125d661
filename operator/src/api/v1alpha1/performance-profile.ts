/**
 * The PerformanceProfile API, defined once: each TypeBox schema is both the TypeScript type
 * (`Static<>`) the controller works with and the OpenAPI v3 schema the CRD carries (see crd.ts).
 * This file composes the spec from its parts (target-ref.ts, slo.ts, metrics-spec.ts,
 * knob-bounds.ts, policy.ts) and declares the object; the status is profile-status.ts, the
 * defaults defaults.ts and default-promql.ts, the cross-field rules cel-rules.ts.
 *
 * Typing convention: a field with a `default` is required in the TypeScript type, because the API
 * server fills it in before the controller ever sees the object; the CRD generator drops it from
 * `required`, so users may omit it. Fields without a default and not required are `Optional`.
 */
import Type, { type Static, type TSchema } from 'typebox';
import { BOUNDS_FIT_CONNECTION_BUDGET } from './cel-rules.ts';
import {
  type API_VERSION,
  DEFAULT_MODE,
  type KIND,
  type LIST_KIND,
  MODES,
  type Mode,
  PAUSED_ANNOTATION,
} from './constants.ts';
import { DatabaseBudget, KnobBounds } from './knob-bounds.ts';
import { MetricsSpec } from './metrics-spec.ts';
import { Policy } from './policy.ts';
import { PerformanceProfileStatus } from './profile-status.ts';
import { StringEnum } from './schema-builders.ts';
import { Slo } from './slo.ts';
import { TargetRef } from './target-ref.ts';

/** PerformanceProfileSpec is the desired state: target, SLOs, metric sources, bounds and policy. */
export const PerformanceProfileSpec = Type.Object(
  {
    targetRef: TargetRef,
    mode: StringEnum<Mode>(MODES, {
      default: DEFAULT_MODE,
      description:
        'mode says what the operator does with a recommendation: Observe (measure and report only), Recommend (write recommendations to status and Events) or Auto (apply those that pass the safety gate).',
    }),
    slo: Slo,
    metrics: MetricsSpec,
    knobs: KnobBounds,
    database: DatabaseBudget,
    policy: Policy,
  },
  {
    description: 'spec is the desired state of a PerformanceProfile.',
    'x-kubernetes-validations': [BOUNDS_FIT_CONNECTION_BUDGET],
  },
);
export type PerformanceProfileSpec = Static<typeof PerformanceProfileSpec>;

/** ObjectMeta: the parts of metadata this API relies on (the API server owns the rest). */
export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  deletionTimestamp?: string;
  creationTimestamp?: string;
}

/** PerformanceProfile as read from the API server (after defaulting). */
export interface PerformanceProfile {
  apiVersion: typeof API_VERSION;
  kind: typeof KIND;
  metadata: ObjectMeta;
  spec: PerformanceProfileSpec;
  status?: PerformanceProfileStatus;
}

/** PerformanceProfileList is what a list or a watch's initial list returns. */
export interface PerformanceProfileList {
  apiVersion: typeof API_VERSION;
  kind: typeof LIST_KIND;
  metadata: { resourceVersion?: string; continue?: string };
  items: PerformanceProfile[];
}

/** isPaused: the profile carries `perfpilot.dev/paused: "true"`; nothing may change while it does. */
export function isPaused(metadata: Pick<ObjectMeta, 'annotations'>): boolean {
  return metadata.annotations?.[PAUSED_ANNOTATION] === 'true';
}

/**
 * requestRateMetricOf names the HPA metric whose request-rate target the profile tunes
 * (`spec.knobs.hpaTarget.requestRate.metricName`), or undefined when it tunes none.
 */
export function requestRateMetricOf(profile: { readonly spec: PerformanceProfileSpec }): string | undefined {
  return profile.spec.knobs.hpaTarget?.requestRate?.metricName;
}

/** The schemas by name, for generators and validators. */
export const schemas: Record<string, TSchema> = {
  PerformanceProfileSpec,
  PerformanceProfileStatus,
};
