/**
 * The metric sources' public surface for the reconcile and `perfpilot recommend`: build the
 * sources once with {@link createMetricSources}, call {@link measureSnapshot} at every evaluation
 * and {@link rebuildHistory} on start or lease takeover. See README.md beside this file.
 */
export { type HpaCondition, type HpaStatus, hpaStatusOf, readHpaStatus } from './hpa-status.ts';
export { PrometheusClient, type PrometheusConnection, PrometheusError } from './prometheus-client.ts';
export { UnknownReason, type UnknownSignal } from './prometheus-result.ts';
export type { RedisMeasurement } from './redis-info.ts';
export {
  type EffectiveQuery,
  effectiveQueries,
  type QueryOrigin,
  type QueryVariables,
} from './signals.ts';
export {
  createMetricSources,
  type MeasureContext,
  type Measurement,
  type MetricSources,
  type MetricSourcesContext,
  measureSnapshot,
  NO_EVENTS_VALUE,
  type ReadSecret,
  type RebuildOptions,
  type RebuiltHistory,
  rebuildHistory,
} from './sources.ts';
