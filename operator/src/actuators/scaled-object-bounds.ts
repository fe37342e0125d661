/**
 * The replica bounds of an HPA that KEDA owns: KEDA writes the HPA from its ScaledObject and
 * would undo any change made to the HPA, so the bounds are `spec.minReplicaCount` and
 * `spec.maxReplicaCount` of the ScaledObject (keda.sh/v1alpha1), written by server-side apply as
 * `perfpilot` with a body holding only those two fields. The HPA is never written.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import type { ActuatorContext, TargetClients } from './context.ts';
import {
  KEDA_API_VERSION,
  type ObjectRef,
  type ReplicaBounds,
  type ReplicaBoundsResult,
  SCALED_OBJECT_KIND,
  validateReplicaBounds,
} from './replica-bounds.ts';
import { type ApplyOptions, applyFields, readIfExists, recordMetadata } from './server-side-apply.ts';

/**
 * KEDA's own defaults for a ScaledObject that leaves its bounds out (KEDA's documentation): no
 * minimum (it scales to zero) and at most 100 replicas.
 */
export const KEDA_DEFAULT_MIN_REPLICA_COUNT = 0;
export const KEDA_DEFAULT_MAX_REPLICA_COUNT = 100;

/** A ScaledObject as the operator reads it: only the fields it looks at. */
export interface ScaledObject extends KubernetesObject {
  spec?: { minReplicaCount?: number; maxReplicaCount?: number; scaleTargetRef?: { name?: string } };
}

/** scaledObjectBounds are the bounds a ScaledObject holds, KEDA's defaults where it sets none. */
export function scaledObjectBounds(scaledObject: ScaledObject): ReplicaBounds {
  return {
    minReplicas: scaledObject.spec?.minReplicaCount ?? KEDA_DEFAULT_MIN_REPLICA_COUNT,
    maxReplicas: scaledObject.spec?.maxReplicaCount ?? KEDA_DEFAULT_MAX_REPLICA_COUNT,
  };
}

/** readScaledObject reads a ScaledObject; undefined when it, or KEDA's CRD, does not exist. */
export async function readScaledObject(
  clients: Pick<TargetClients, 'custom'>,
  ref: ObjectRef,
): Promise<ScaledObject | undefined> {
  return (await readIfExists(() =>
    clients.custom.getNamespacedCustomObject({
      group: 'keda.sh',
      version: 'v1alpha1',
      plural: 'scaledobjects',
      namespace: ref.namespace,
      name: ref.name,
    }),
  )) as ScaledObject | undefined;
}

/**
 * applyScaledObjectBounds sets the ScaledObject's minReplicaCount and maxReplicaCount; KEDA then
 * writes them to its HPA. Like applyReplicaBounds: `notFound` when it does not exist, `unchanged`
 * when it holds the bounds, `conflict` when another manager owns one with another value.
 */
export async function applyScaledObjectBounds(
  ctx: Pick<ActuatorContext, 'clients'>,
  ref: ObjectRef,
  bounds: ReplicaBounds,
  options: ApplyOptions = {},
): Promise<ReplicaBoundsResult> {
  validateReplicaBounds(bounds);
  const object = `${SCALED_OBJECT_KIND} ${ref.namespace}/${ref.name}`;
  const current = await readScaledObject(ctx.clients, ref);
  if (!current) return { kind: 'notFound', object };
  const before = scaledObjectBounds(current);
  if (before.minReplicas === bounds.minReplicas && before.maxReplicas === bounds.maxReplicas) {
    return { kind: 'unchanged', object, before };
  }
  const result = await applyFields(
    ctx.clients,
    {
      apiVersion: KEDA_API_VERSION,
      kind: SCALED_OBJECT_KIND,
      metadata: { name: ref.name, namespace: ref.namespace, ...recordMetadata(current, options.record) },
      spec: { minReplicaCount: bounds.minReplicas, maxReplicaCount: bounds.maxReplicas },
    } as KubernetesObject,
    { ...options, live: current },
  );
  if (result.kind === 'conflict') return { ...result, before };
  return { kind: 'applied', object, before, after: { ...bounds } };
}
