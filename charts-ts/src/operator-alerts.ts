import type { IPrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { Construct } from 'constructs';
import { OperatorMetric } from '../../operator/src/api/v1alpha1/constants.ts';
import { kubeObject } from './kube-object.ts';
import { appLabels } from './labels.ts';
import { DEFAULT_RUNBOOK_BASE_URL } from './prometheus-rule.ts';

/** Props of OperatorAlerts. */
export interface OperatorAlertsProps {
  /** namespace of the rule and of the operator it watches. */
  readonly namespace: string;
  /** operatorName is the operator's Deployment name; its metrics Service is `<name>-metrics`. */
  readonly operatorName: string;
  /**
   * labels Prometheus selects rules by.
   * @default {}
   */
  readonly labels?: Record<string, string>;
}

/**
 * OperatorAlerts is the operator's own PrometheusRule: no replica leads (nothing is tuned), and
 * reconciles keep failing. The stack's alerts on the tuned service are StackAlerts.
 */
export class OperatorAlerts extends Construct {
  /** alertNames lists every alert, for tests and docs. */
  readonly alertNames: readonly string[];

  constructor(scope: Construct, id: string, props: OperatorAlertsProps) {
    super(scope, id);
    const selector = `namespace="${props.namespace}",job="${props.operatorName}-metrics"`;
    const rules = [
      {
        alert: 'PerfPilotOperatorNoLeader',
        // absent() also fires when no replica is scraped at all.
        expr: `sum(${OperatorMetric.leader}{${selector}}) < 1 or absent(${OperatorMetric.leader}{${selector}})`,
        for: '10m',
        labels: { severity: 'warning' },
        annotations: {
          summary: 'No PerfPilot operator replica holds the lease: no profile is reconciled.',
          description: `No replica of ${props.namespace}/${props.operatorName} has led for 10 minutes; knobs stay where they are.`,
          runbook_url: `${DEFAULT_RUNBOOK_BASE_URL}#perfpilotoperatornoleader`,
        },
      },
      {
        alert: 'PerfPilotReconcileErrors',
        expr: `sum(rate(${OperatorMetric.reconcileTotal}{${selector},result="error"}[15m])) / sum(rate(${OperatorMetric.reconcileTotal}{${selector}}[15m])) > 0.5`,
        for: '15m',
        labels: { severity: 'warning' },
        annotations: {
          summary: 'Most PerfPilot reconciles fail.',
          description: `More than half of the reconciles of ${props.namespace}/${props.operatorName} failed over 15 minutes; see the profiles' Degraded conditions and Events.`,
          runbook_url: `${DEFAULT_RUNBOOK_BASE_URL}#perfpilotreconcileerrors`,
        },
      },
    ];
    this.alertNames = rules.map((r) => r.alert);
    kubeObject<IPrometheusRule>(this, 'Resource', {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'PrometheusRule',
      metadata: {
        name: `${props.operatorName}-alerts`,
        namespace: props.namespace,
        labels: { ...appLabels(`${props.operatorName}-alerts`, 'monitoring'), ...props.labels },
      },
      spec: { groups: [{ name: 'perfpilot.operator', rules }] },
    });
  }
}
