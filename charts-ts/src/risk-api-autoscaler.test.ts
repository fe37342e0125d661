import { Testing } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { RiskApiAutoscaler, type RiskApiAutoscalerProps } from './risk-api-autoscaler.ts';

const props: RiskApiAutoscalerProps = {
  namespace: 'perfpilot',
  deploymentName: 'risk-api',
  minReplicas: 2,
  maxReplicas: 10,
  cpuUtilizationPercent: 70,
  requestsPerSecondPerPod: 1000,
};

function synth(overrides: Partial<RiskApiAutoscalerProps> = {}) {
  const chart = Testing.chart();
  new RiskApiAutoscaler(chart, 'hpa', { ...props, ...overrides });
  return Testing.synth(chart);
}

describe('RiskApiAutoscaler', () => {
  it('scales the Deployment on CPU and requests_per_second with explicit behavior', () => {
    expect(synth()).toEqual([
      {
        apiVersion: 'autoscaling/v2',
        kind: 'HorizontalPodAutoscaler',
        metadata: {
          name: 'risk-api',
          namespace: 'perfpilot',
          labels: {
            'app.kubernetes.io/component': 'autoscaler',
            'app.kubernetes.io/managed-by': 'perfpilot-synth',
            'app.kubernetes.io/name': 'risk-api',
            'app.kubernetes.io/part-of': 'perfpilot',
          },
        },
        spec: {
          scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'risk-api' },
          minReplicas: 2,
          maxReplicas: 10,
          metrics: [
            {
              type: 'Resource',
              resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } },
            },
            {
              type: 'Pods',
              pods: {
                metric: { name: 'requests_per_second' },
                target: { type: 'AverageValue', averageValue: '1000' },
              },
            },
          ],
          behavior: {
            scaleUp: {
              stabilizationWindowSeconds: 0,
              selectPolicy: 'Max',
              policies: [
                { type: 'Percent', value: 100, periodSeconds: 60 },
                { type: 'Pods', value: 4, periodSeconds: 60 },
              ],
            },
            scaleDown: {
              stabilizationWindowSeconds: 300,
              selectPolicy: 'Min',
              policies: [{ type: 'Percent', value: 50, periodSeconds: 60 }],
            },
          },
        },
      },
    ]);
  });

  it('reads the request rate as an External total with an AverageValue target, without CPU', () => {
    const [hpa] = synth({ requestRateMetric: 'External', cpuUtilizationPercent: undefined });
    expect(hpa.spec.metrics).toEqual([
      {
        type: 'External',
        external: {
          metric: { name: 'requests_per_second' },
          target: { type: 'AverageValue', averageValue: '1000' },
        },
      },
    ]);
  });

  it('rejects minReplicas below 2', () => {
    expect(() => synth({ minReplicas: 1 })).toThrow(
      'RiskApiAutoscaler: minReplicas must be an integer of at least 2, got 1',
    );
  });

  it('rejects maxReplicas below minReplicas', () => {
    expect(() => synth({ minReplicas: 4, maxReplicas: 3 })).toThrow(
      'RiskApiAutoscaler: maxReplicas must be an integer of at least minReplicas (4), got 3',
    );
  });

  it('rejects a CPU target outside 1-100', () => {
    expect(() => synth({ cpuUtilizationPercent: 120 })).toThrow(
      'RiskApiAutoscaler: cpuUtilizationPercent must be from 1 to 100, got 120',
    );
  });

  it('rejects a requests-per-second target below 1', () => {
    expect(() => synth({ requestsPerSecondPerPod: 0 })).toThrow(
      'RiskApiAutoscaler: requestsPerSecondPerPod must be at least 1, got 0',
    );
  });
});
