/**
 * The replica-bounds actuator: an HPA's `spec.minReplicas` and `spec.maxReplicas`, written by
 * server-side apply as `perfpilot` with a body holding only those two fields, so a GitOps tool
 * or a person keeps every other field of the HPA.
 */
import type { V1OwnerReference } from '@kubernetes/client-node';
import type { ActuatorContext } from './context.ts';
import {
  type ApplyOptions,
  applyFields,
  type FieldConflict,
  readIfExists,
  recordMetadata,
} from './server-side-apply.ts';

/** KEDA_API_VERSION is the group and version of KEDA's ScaledObject. */
export const KEDA_API_VERSION = 'keda.sh/v1alpha1';
/** SCALED_OBJECT_KIND is KEDA's kind that owns the HPAs it scales with. */
export const SCALED_OBJECT_KIND = 'ScaledObject';

/**
 * scaledObjectOwnerOf names the KEDA ScaledObject that owns the HPA (its ownerReferences), or
 * undefined when KEDA does not own it.
 */
export function scaledObjectOwnerOf(
  hpa: { readonly metadata?: { readonly ownerReferences?: V1OwnerReference[] } } | undefined,
): string | undefined {
  return hpa?.metadata?.ownerReferences?.find(
    (o) => o.kind === SCALED_OBJECT_KIND && o.apiVersion.startsWith('keda.sh/'),
  )?.name;
}

/** An HPA's replica bounds. */
export interface ReplicaBounds {
  /** minReplicas is `spec.minReplicas`. */
  readonly minReplicas: number;
  /** maxReplicas is `spec.maxReplicas`. */
  readonly maxReplicas: number;
}

/** Names one namespaced object. */
export interface ObjectRef {
  readonly namespace: string;
  readonly name: string;
}

/** What applyReplicaBounds did. `before` is what the HPA held when read. */
export type ReplicaBoundsResult =
  | { readonly kind: 'unchanged'; readonly object: string; readonly before: ReplicaBounds }
  | {
      readonly kind: 'applied';
      readonly object: string;
      readonly before: ReplicaBounds;
      readonly after: ReplicaBounds;
    }
  | {
      readonly kind: 'conflict';
      readonly object: string;
      readonly before: ReplicaBounds;
      readonly conflicts: readonly FieldConflict[];
      readonly message: string;
    }
  | { readonly kind: 'notFound'; readonly object: string };

/** validateReplicaBounds throws a RangeError naming the bound when `bounds` cannot be an HPA's. */
export function validateReplicaBounds(bounds: ReplicaBounds): void {
  const { minReplicas, maxReplicas } = bounds;
  if (!Number.isInteger(minReplicas) || minReplicas < 1) {
    throw new RangeError(`minReplicas must be a whole number ≥ 1, got ${minReplicas}`);
  }
  if (!Number.isInteger(maxReplicas) || maxReplicas < minReplicas) {
    throw new RangeError(
      `maxReplicas must be a whole number ≥ minReplicas (${minReplicas}), got ${maxReplicas}`,
    );
  }
}

/**
 * applyReplicaBounds sets the HPA's minReplicas and maxReplicas. It reads the HPA first: a
 * missing HPA is `notFound` (an apply would try to create one), equal bounds are `unchanged`
 * (nothing written). A field owned by another manager with another value is `conflict`, and the
 * HPA is left as it was.
 */
export async function applyReplicaBounds(
  ctx: Pick<ActuatorContext, 'clients'>,
  hpa: ObjectRef,
  bounds: ReplicaBounds,
  options: ApplyOptions = {},
): Promise<ReplicaBoundsResult> {
  validateReplicaBounds(bounds);
  const object = `HorizontalPodAutoscaler ${hpa.namespace}/${hpa.name}`;
  const current = await readIfExists(() =>
    ctx.clients.autoscaling.readNamespacedHorizontalPodAutoscaler(hpa),
  );
  if (!current) return { kind: 'notFound', object };
  // An HPA without minReplicas scales down to 1, the API's documented default.
  const before = { minReplicas: current.spec?.minReplicas ?? 1, maxReplicas: current.spec?.maxReplicas ?? 0 };
  const keda = scaledObjectOwnerOf(current);
  if (keda !== undefined) {
    // KEDA would write its own bounds back at once: they are tuned on the ScaledObject.
    return {
      kind: 'conflict',
      object,
      before,
      conflicts: [
        { manager: `${SCALED_OBJECT_KIND} ${keda}`, field: '.spec.minReplicas, .spec.maxReplicas' },
      ],
      message: `owned by KEDA ${SCALED_OBJECT_KIND} ${keda}: its minReplicaCount and maxReplicaCount are the bounds, and the HPA is not written`,
    };
  }
  if (before.minReplicas === bounds.minReplicas && before.maxReplicas === bounds.maxReplicas) {
    return { kind: 'unchanged', object, before };
  }
  const result = await applyFields(
    ctx.clients,
    {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: {
        name: hpa.name,
        namespace: hpa.namespace,
        ...recordMetadata(current as Parameters<typeof applyFields>[1], options.record),
      },
      spec: { minReplicas: bounds.minReplicas, maxReplicas: bounds.maxReplicas },
    } as Parameters<typeof applyFields>[1],
    { ...options, live: current as Parameters<typeof applyFields>[1] },
  );
  if (result.kind === 'conflict') return { ...result, before };
  return { kind: 'applied', object, before, after: { ...bounds } };
}
