/**
 * The injected context of the actuators: Kubernetes clients, the shared Redis connections and the
 * Secret reader. Each actuator takes only the parts it uses (`Pick<ActuatorContext, …>`), so a
 * test builds just those. Every other actuator file imports this one and it imports none of them,
 * so imports among the actuators run one way.
 */
import {
  AppsV1Api,
  AutoscalingV2Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  KubernetesObjectApi,
} from '@kubernetes/client-node';
import type { RedisConnections } from '../redis/connections.ts';
import type { SecretReader } from './secrets.ts';

/** The clients the actuators need. */
export interface TargetClients {
  readonly apps: AppsV1Api;
  readonly autoscaling: AutoscalingV2Api;
  readonly core: CoreV1Api;
  readonly objects: KubernetesObjectApi;
  /** custom reads KEDA ScaledObjects, whose CRD may not be installed (a 404, not an error). */
  readonly custom: CustomObjectsApi;
}

/** makeTargetClients builds the clients from a kubeconfig. */
export function makeTargetClients(kubeConfig: KubeConfig): TargetClients {
  return {
    apps: kubeConfig.makeApiClient(AppsV1Api),
    autoscaling: kubeConfig.makeApiClient(AutoscalingV2Api),
    core: kubeConfig.makeApiClient(CoreV1Api),
    objects: KubernetesObjectApi.makeApiClient(kubeConfig),
    custom: kubeConfig.makeApiClient(CustomObjectsApi),
  };
}

/** Everything the actuators need from outside. */
export interface ActuatorContext {
  /** clients write HPAs, ConfigMaps and Deployments. */
  readonly clients: TargetClients;
  /** redis holds one set of connections per Redis endpoint set; close it on shutdown. */
  readonly redis: RedisConnections;
  /** readSecret reads the Redis password named by the profile. */
  readonly readSecret: SecretReader;
}
