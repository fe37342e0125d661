/**
 * The HPA reader against a real kube-apiserver: it reads what the HPA controller writes to the
 * status subresource (written here as the controller would; the [cluster] tests run the real
 * controller), and a missing HPA is an error naming it.
 */
import { AutoscalingV2Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readHpaStatus } from '../../operator/src/metrics/index.ts';
import { type ControlPlane, startControlPlane } from '../cluster/control-plane.ts';
import { createNamespace } from '../cluster/kube.ts';
import { createTargetStack } from './fixtures.ts';

describe('readHpaStatus on a real API server', () => {
  let cp: ControlPlane;
  let autoscaling: AutoscalingV2Api;
  const namespace = 'hpa-status';

  beforeAll(async () => {
    cp = await startControlPlane();
    await createNamespace(cp.kubeConfig, namespace);
    await createTargetStack(cp.kubeConfig, namespace, 'risk-api');
    autoscaling = cp.kubeConfig.makeApiClient(AutoscalingV2Api);
  });
  afterAll(async () => {
    await cp?.stop();
  });

  it('reads bounds only from an HPA no controller has acted on yet', async () => {
    const status = await readHpaStatus(autoscaling, namespace, 'risk-api');
    expect(status).toMatchObject({ minReplicas: 2, maxReplicas: 10, scalingLimited: false });
    expect(status).not.toHaveProperty('currentReplicas');
  });

  it('reads current and desired replicas, CPU and conditions as the controller writes them', async () => {
    const hpa = await autoscaling.readNamespacedHorizontalPodAutoscaler({ namespace, name: 'risk-api' });
    const now = new Date();
    hpa.status = {
      currentReplicas: 10,
      desiredReplicas: 10,
      currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 92 } } }],
      conditions: [
        { type: 'AbleToScale', status: 'True', reason: 'ReadyForNewScale', lastTransitionTime: now },
        {
          type: 'ScalingLimited',
          status: 'True',
          reason: 'TooManyReplicas',
          message: 'the desired replica count is more than the maximum replica count',
          lastTransitionTime: now,
        },
      ],
    };
    await autoscaling.replaceNamespacedHorizontalPodAutoscalerStatus({
      namespace,
      name: 'risk-api',
      body: hpa,
    });
    const status = await readHpaStatus(autoscaling, namespace, 'risk-api');
    expect(status).toMatchObject({
      currentReplicas: 10,
      desiredReplicas: 10,
      cpuUtilizationPercent: 92,
      scalingLimited: true,
    });
    expect(status.conditions.map((c) => c.reason)).toEqual(['ReadyForNewScale', 'TooManyReplicas']);
  });

  it('names a missing HPA', async () => {
    await expect(readHpaStatus(autoscaling, namespace, 'absent')).rejects.toThrow(
      /reading HorizontalPodAutoscaler hpa-status\/absent/,
    );
  });
});
