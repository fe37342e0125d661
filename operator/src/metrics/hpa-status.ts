/**
 * What the HorizontalPodAutoscaler says about the API: its current and desired replicas, its
 * conditions (AbleToScale, ScalingActive, ScalingLimited) and the CPU utilization it last saw.
 * {@link hpaStatusOf} is pure (for an HPA the observe step already read); {@link readHpaStatus}
 * reads it.
 */
import type { AutoscalingV2Api, V2HorizontalPodAutoscaler } from '@kubernetes/client-node';

/** One condition of the HPA's status. */
export interface HpaCondition {
  readonly type: string;
  readonly status: string;
  readonly reason?: string;
  readonly message?: string;
}

/** The HPA's view of the API. */
export interface HpaStatus {
  /** currentReplicas: pods of the Deployment as the HPA last counted them. */
  readonly currentReplicas?: number;
  /** desiredReplicas: what the HPA last asked for. */
  readonly desiredReplicas?: number;
  readonly minReplicas?: number;
  readonly maxReplicas?: number;
  readonly conditions: readonly HpaCondition[];
  /** cpuUtilizationPercent: the average CPU utilization of a Resource cpu metric, when the HPA has one. */
  readonly cpuUtilizationPercent?: number;
  /** scalingLimited is true when the HPA wants more (or fewer) replicas than its bounds allow. */
  readonly scalingLimited: boolean;
}

/** hpaStatusOf reads an autoscaling/v2 HPA's status. */
export function hpaStatusOf(hpa: V2HorizontalPodAutoscaler): HpaStatus {
  const status = hpa.status;
  const conditions = (status?.conditions ?? []).map((c) => ({
    type: c.type,
    status: c.status,
    ...(c.reason ? { reason: c.reason } : {}),
    ...(c.message ? { message: c.message } : {}),
  }));
  const cpu = status?.currentMetrics?.find((m) => m.type === 'Resource' && m.resource?.name === 'cpu');
  const utilization = cpu?.resource?.current.averageUtilization;
  return {
    ...(status?.currentReplicas !== undefined ? { currentReplicas: status.currentReplicas } : {}),
    ...(status?.desiredReplicas !== undefined ? { desiredReplicas: status.desiredReplicas } : {}),
    ...(hpa.spec?.minReplicas !== undefined ? { minReplicas: hpa.spec.minReplicas } : {}),
    ...(hpa.spec?.maxReplicas !== undefined ? { maxReplicas: hpa.spec.maxReplicas } : {}),
    conditions,
    ...(utilization !== undefined ? { cpuUtilizationPercent: utilization } : {}),
    scalingLimited: conditions.some((c) => c.type === 'ScalingLimited' && c.status === 'True'),
  };
}

/** readHpaStatus reads the named HPA and returns its status; API errors propagate with context. */
export async function readHpaStatus(
  autoscaling: Pick<AutoscalingV2Api, 'readNamespacedHorizontalPodAutoscaler'>,
  namespace: string,
  name: string,
): Promise<HpaStatus> {
  try {
    return hpaStatusOf(await autoscaling.readNamespacedHorizontalPodAutoscaler({ namespace, name }));
  } catch (err) {
    throw new Error(`reading HorizontalPodAutoscaler ${namespace}/${name}`, { cause: err });
  }
}
