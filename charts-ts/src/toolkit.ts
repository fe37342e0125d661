/**
 * The toolkit's public API, `perfpilot/toolkit` in the npm package: what a cdk8s app of one's own
 * needs to add PerfPilot beside its services. The operator alone (OperatorChart, as the release
 * installs it), the whole reference stack (buildStack), the constructs they are made of, and the
 * values models with their validation.
 */
export { defaultValues, resolveReleaseValues, resolveValues, ValuesError } from './load-values.ts';
export { OPERATOR_NAME, Operator, type OperatorProps } from './operator.ts';
export { OperatorAlerts, type OperatorAlertsProps } from './operator-alerts.ts';
export {
  OperatorChart,
  type OperatorChartProps,
  OperatorMonitoringChart,
  type OperatorMonitoringChartProps,
} from './operator-chart.ts';
export { OperatorMonitoring, type OperatorMonitoringProps } from './operator-monitoring.ts';
export {
  ALL_NAMESPACES,
  METRICS_READER_ROLE,
  OperatorRbac,
  type OperatorRbacProps,
  PROFILE_EDITOR_ROLE,
  PROFILE_VIEWER_ROLE,
  tunedNamespaceRules,
} from './operator-rbac.ts';
export { PerformanceProfile, type PerformanceProfileProps } from './performance-profile.ts';
export { PerformanceProfileCrd, type PerformanceProfileCrdProps } from './performance-profile-crd.ts';
export { buildStack, type StackFile } from './stack.ts';
export { type RenderedFile, renderStack } from './synth.ts';
export type { Values } from './values.ts';
export { RELEASE_NAMESPACE, type ReleaseValues } from './values-release.ts';
