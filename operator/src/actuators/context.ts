/**
 * The injected context of the actuators: Kubernetes clients, the shared Redis connections and the
 * Secret reader. Each actuator takes only the parts it uses (`Pick<ActuatorContext, …>`), so a
 * test builds just those.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { type RedisConnectionOptions, RedisConnections } from './redis-connections.ts';
import { kubeSecretReader, type SecretReader } from './secrets.ts';
import { makeTargetClients, type TargetClients } from './targets.ts';

/** Everything the actuators need from outside. */
export interface ActuatorContext {
  /** clients write HPAs, ConfigMaps and Deployments. */
  readonly clients: TargetClients;
  /** redis holds one set of connections per Redis endpoint set; close it on shutdown. */
  readonly redis: RedisConnections;
  /** readSecret reads the Redis password named by the profile. */
  readonly readSecret: SecretReader;
}

/**
 * makeActuatorContext wires the real clients from a kubeConfig (pass the operator's pooled one).
 * The caller owns `redis` and closes it on shutdown.
 */
export function makeActuatorContext(
  kubeConfig: KubeConfig,
  redis: RedisConnectionOptions = {},
): ActuatorContext {
  const clients = makeTargetClients(kubeConfig);
  return { clients, redis: new RedisConnections(redis), readSecret: kubeSecretReader(clients.core) };
}
