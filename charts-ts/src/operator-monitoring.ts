import { Construct } from 'constructs';
import { OperatorAlerts } from './operator-alerts.ts';
import { type SecureScrape, ServiceMonitor } from './service-monitor.ts';

/** Props of OperatorMonitoring. */
export interface OperatorMonitoringProps {
  /** namespace of the operator, its metrics Service and these objects. */
  readonly namespace: string;
  /** operatorName is the operator's Deployment name; its metrics Service is `<name>-metrics`. */
  readonly operatorName: string;
  /** intervalSeconds between scrapes (5-300). */
  readonly intervalSeconds: number;
  /**
   * serviceMonitor creates the ServiceMonitor of the operator's /metrics.
   * @default true
   */
  readonly serviceMonitor?: boolean;
  /**
   * prometheusRule creates the operator's alerts.
   * @default true
   */
  readonly prometheusRule?: boolean;
  /** serviceMonitorLabels Prometheus selects ServiceMonitors by. @default {} */
  readonly serviceMonitorLabels?: Record<string, string>;
  /** ruleLabels Prometheus selects rules by. @default {} */
  readonly ruleLabels?: Record<string, string>;
  /** secure scrapes /metrics over HTTPS with the scraper's token. @default plain HTTP */
  readonly secure?: SecureScrape;
}

/**
 * OperatorMonitoring is the Prometheus Operator side of the operator, the same in the whole stack
 * and in the release: a ServiceMonitor for its /metrics and its alerts.
 */
export class OperatorMonitoring extends Construct {
  constructor(scope: Construct, id: string, props: OperatorMonitoringProps) {
    super(scope, id);
    const name = props.operatorName;
    if (props.serviceMonitor ?? true) {
      new ServiceMonitor(this, 'ServiceMonitor', {
        namespace: props.namespace,
        name,
        selector: { 'app.kubernetes.io/name': name, 'app.kubernetes.io/component': 'metrics' },
        port: 'metrics',
        intervalSeconds: props.intervalSeconds,
        labels: props.serviceMonitorLabels ?? {},
        ...(props.secure ? { secure: props.secure } : {}),
      });
    }
    if (props.prometheusRule ?? true) {
      new OperatorAlerts(this, 'Alerts', {
        namespace: props.namespace,
        operatorName: name,
        labels: props.ruleLabels ?? {},
      });
    }
  }
}
