/**
 * The injected context of the actuators: Kubernetes clients, the shared Redis connections and the
 * Secret reader. Each actuator takes only the parts it uses (`Pick<ActuatorContext, …>`), so a
 * test builds just those.
 */
import type { RedisConnections } from './redis-connections.ts';
import type { SecretReader } from './secrets.ts';
import type { TargetClients } from './targets.ts';

/** Everything the actuators need from outside. */
export interface ActuatorContext {
  /** clients write HPAs, ConfigMaps and Deployments. */
  readonly clients: TargetClients;
  /** redis holds one set of connections per Redis endpoint set; close it on shutdown. */
  readonly redis: RedisConnections;
  /** readSecret reads the Redis password named by the profile. */
  readonly readSecret: SecretReader;
}
