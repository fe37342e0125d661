import type { V2HorizontalPodAutoscaler, V2MetricSpec } from '@kubernetes/client-node';
import { Construct } from 'constructs';
import { kubeObject } from './kube-object.ts';
import { appLabels } from './labels.ts';
import { type RequestRateMetricType, requestRateMetricName } from './request-rate-metric.ts';

/** Props of RiskApiAutoscaler. */
export interface RiskApiAutoscalerProps {
  /** namespace of the HPA. */
  readonly namespace: string;
  /** deploymentName is the scale target, and the HPA's own name. */
  readonly deploymentName: string;
  /** minReplicas; at least 2, so one disruption never takes the API down. */
  readonly minReplicas: number;
  /** maxReplicas; at least minReplicas. */
  readonly maxReplicas: number;
  /**
   * cpuUtilizationPercent is the target average CPU utilization (1-100).
   * @default undefined: no CPU metric (a cluster without the resource metrics API)
   */
  readonly cpuUtilizationPercent?: number;
  /**
   * requestRateMetric is how `requests_per_second` is read: a `Pods` metric averaged over the
   * pods, or an `External` total with an `AverageValue` target (see request-rate-metric.ts).
   * @default 'Pods'
   */
  readonly requestRateMetric?: RequestRateMetricType;
  /** requestsPerSecondPerPod is the target requests per second per pod. */
  readonly requestsPerSecondPerPod: number;
  /**
   * scaleUpStabilizationSeconds: react to load at once.
   * @default 0
   */
  readonly scaleUpStabilizationSeconds?: number;
  /**
   * scaleDownStabilizationSeconds: wait this long before removing pods.
   * @default 300
   */
  readonly scaleDownStabilizationSeconds?: number;
}

/**
 * RiskApiAutoscaler is the API's `autoscaling/v2` HorizontalPodAutoscaler: CPU utilization and the
 * `requests_per_second` Pods metric, with explicit scale-up and scale-down behavior. The operator
 * tunes its minReplicas and maxReplicas.
 */
export class RiskApiAutoscaler extends Construct {
  /** name of the HPA (the Deployment's name). */
  readonly name: string;

  constructor(scope: Construct, id: string, props: RiskApiAutoscalerProps) {
    super(scope, id);
    if (!Number.isInteger(props.minReplicas) || props.minReplicas < 2) {
      throw new Error(
        `RiskApiAutoscaler: minReplicas must be an integer of at least 2, got ${props.minReplicas}`,
      );
    }
    if (!Number.isInteger(props.maxReplicas) || props.maxReplicas < props.minReplicas) {
      throw new Error(
        `RiskApiAutoscaler: maxReplicas must be an integer of at least minReplicas (${props.minReplicas}), got ${props.maxReplicas}`,
      );
    }
    const cpu = props.cpuUtilizationPercent;
    if (cpu !== undefined && (cpu < 1 || cpu > 100)) {
      throw new Error(`RiskApiAutoscaler: cpuUtilizationPercent must be from 1 to 100, got ${cpu}`);
    }
    if (props.requestsPerSecondPerPod < 1) {
      throw new Error(
        `RiskApiAutoscaler: requestsPerSecondPerPod must be at least 1, got ${props.requestsPerSecondPerPod}`,
      );
    }
    this.name = props.deploymentName;
    kubeObject<V2HorizontalPodAutoscaler>(this, 'Resource', {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: this.name, namespace: props.namespace, labels: appLabels(this.name, 'autoscaler') },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: props.deploymentName },
        minReplicas: props.minReplicas,
        maxReplicas: props.maxReplicas,
        metrics: [
          ...(cpu === undefined
            ? []
            : [
                {
                  type: 'Resource',
                  resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: cpu } },
                },
              ]),
          requestRateMetricSpec(props.requestRateMetric ?? 'Pods', props.requestsPerSecondPerPod),
        ],
        behavior: {
          scaleUp: {
            stabilizationWindowSeconds: props.scaleUpStabilizationSeconds ?? 0,
            selectPolicy: 'Max',
            policies: [
              { type: 'Percent', value: 100, periodSeconds: 60 },
              { type: 'Pods', value: 4, periodSeconds: 60 },
            ],
          },
          scaleDown: {
            stabilizationWindowSeconds: props.scaleDownStabilizationSeconds ?? 300,
            selectPolicy: 'Min',
            policies: [{ type: 'Percent', value: 50, periodSeconds: 60 }],
          },
        },
      },
    });
  }
}

/** The HPA metric for the request rate, in the shape the metrics adapter serves it. */
function requestRateMetricSpec(type: RequestRateMetricType, perPod: number): V2MetricSpec {
  const target = { type: 'AverageValue', averageValue: String(perPod) };
  return type === 'Pods'
    ? { type: 'Pods', pods: { metric: { name: requestRateMetricName }, target } }
    : { type: 'External', external: { metric: { name: requestRateMetricName }, target } };
}
