/**
 * The operator alone, as cdk8s charts: what the release bundle and the Helm chart install, and
 * what a user's own cdk8s app can add beside its services. The whole stack (stack.ts) builds the
 * operator from the same constructs.
 */
import { type App, Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import { kubeObject } from './kube-object.ts';
import { defaultValues } from './load-values.ts';
import { StackNamespace } from './namespace.ts';
import { OPERATOR_NAME, Operator } from './operator.ts';
import { OperatorMonitoring } from './operator-monitoring.ts';
import { PerformanceProfileCrd } from './performance-profile-crd.ts';
import type { Values } from './values.ts';
import type { ReleaseValues } from './values-release.ts';

/** Props of OperatorChart. */
export interface OperatorChartProps {
  /** namespace the operator runs in. */
  readonly namespace: string;
  /** values are the release values (resolveReleaseValues; the Helm chart's values.yaml). */
  readonly values: ReleaseValues;
  /**
   * namespace creates the Namespace, labelled for Pod Security restricted.
   * @default true
   */
  readonly createNamespace?: boolean;
  /**
   * crd installs the PerformanceProfile CRD.
   * @default values.crds.install
   */
  readonly crd?: boolean;
}

/**
 * OperatorChart is the operator alone: its Namespace, the PerformanceProfile CRD, and the
 * operator with its RBAC, metrics Service, PodDisruptionBudget and NetworkPolicy, plus the
 * values' extraObjects. No Redis, no risk API.
 */
export class OperatorChart extends Chart {
  /** operator is the Operator construct, for its name, pod labels and rules. */
  readonly operator: Operator;

  constructor(scope: Construct, id: string, props: OperatorChartProps) {
    super(scope, id, { disableResourceNameHashes: true });
    const v = props.values;
    if (props.createNamespace ?? true) new StackNamespace(this, 'Namespace', { name: props.namespace });
    if (props.crd ?? v.crds.install) new PerformanceProfileCrd(this, 'PerformanceProfile');
    this.operator = new Operator(this, 'Operator', {
      namespace: props.namespace,
      name: OPERATOR_NAME,
      config: operatorConfig(v),
      secretNames: [],
      monitoringNamespace: v.networkPolicy.monitoringNamespace,
      podDisruptionBudget: v.podDisruptionBudget.enabled,
      networkPolicy: v.networkPolicy.enabled,
      redisPorts: v.networkPolicy.redisPorts,
    });
    v.extraObjects.forEach((o, i) => {
      kubeObject(this, `Extra${i}`, o as Parameters<typeof kubeObject>[2]);
    });
  }
}

/** Props of OperatorMonitoringChart. */
export interface OperatorMonitoringChartProps {
  /** namespace the operator runs in. */
  readonly namespace: string;
  /** values are the release values. */
  readonly values: ReleaseValues;
}

/** OperatorMonitoringChart holds the operator's ServiceMonitor and PrometheusRule (the Prometheus Operator's CRDs). */
export class OperatorMonitoringChart extends Chart {
  constructor(scope: Construct, id: string, props: OperatorMonitoringChartProps) {
    super(scope, id, { disableResourceNameHashes: true });
    const v = props.values;
    new OperatorMonitoring(this, 'Monitoring', {
      namespace: props.namespace,
      operatorName: OPERATOR_NAME,
      intervalSeconds: v.serviceMonitor.intervalSeconds,
      serviceMonitorLabels: v.serviceMonitor.labels,
      ruleLabels: v.prometheusRule.labels,
      // A self-signed certificate unless the operator is given one: the scraper skips verifying it.
      ...(v.metrics.secure ? { secure: {} } : {}),
    });
  }
}

/**
 * operatorConfig turns release values into the toolkit's `operator` section, so both build the
 * operator with the same construct; the default profile is the toolkit's and plays no part here.
 */
export function operatorConfig(v: ReleaseValues): Values['operator'] {
  return {
    ...defaultValues().operator,
    image: v.image,
    replicas: v.replicas,
    resources: v.resources,
    logLevel: v.logLevel,
    metricsPort: v.metrics.port,
    healthPort: v.healthPort,
    args: [...v.args],
    // Secure is the operator's own default; false sets INSECURE_METRICS (operator.ts).
    metricsSecure: v.metrics.secure,
    watchNamespaces: v.watchNamespaces,
    secretNames: v.secretNames,
    rbac: v.rbac,
  };
}

/** The release's files and the charts that fill them. */
export interface ReleaseChart {
  readonly path: string;
  readonly chart: Chart;
}

/** buildRelease creates the release bundle's charts under `app`: crds.yaml, install.yaml, install-monitoring.yaml. */
export function buildRelease(app: App, values: ReleaseValues, namespace: string): ReleaseChart[] {
  return [
    {
      path: 'crds.yaml',
      chart: (() => {
        const c = new Chart(app, 'crds', { disableResourceNameHashes: true });
        new PerformanceProfileCrd(c, 'PerformanceProfile');
        return c;
      })(),
    },
    { path: 'install.yaml', chart: new OperatorChart(app, 'install', { namespace, values }) },
    {
      path: 'install-monitoring.yaml',
      chart: new OperatorMonitoringChart(app, 'install-monitoring', { namespace, values }),
    },
  ];
}
