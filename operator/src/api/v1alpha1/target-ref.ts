/**
 * What a profile tunes: the API Deployment it names, and the HPA (or the KEDA ScaledObject that
 * owns it) and the pool's place (pool-ref.ts) found from it.
 */
import Type, { type Static } from 'typebox';
import { POOL_OR_CONFIG_MAP_NAME } from './cel-rules.ts';
import { PoolRef, poolPlaceOf } from './pool-ref.ts';
import { DNS_SUBDOMAIN, StringEnum } from './schema-builders.ts';

/** TargetRef names the API Deployment; its HPA and tuning ConfigMap are found by name. */
export const TargetRef = Type.Object(
  {
    apiVersion: StringEnum(['apps/v1'], {
      default: 'apps/v1',
      description: 'apiVersion of the target. Only apps/v1 is supported.',
    }),
    kind: StringEnum(['Deployment'], {
      default: 'Deployment',
      description: 'kind of the target. Only Deployment is supported.',
    }),
    name: Type.String({
      minLength: 1,
      maxLength: 253,
      pattern: DNS_SUBDOMAIN,
      description: 'name of the API Deployment in the profile’s namespace.',
    }),
    hpaName: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 253,
        pattern: DNS_SUBDOMAIN,
        description:
          'hpaName is the HorizontalPodAutoscaler (autoscaling/v2) whose minReplicas and maxReplicas are tuned. Defaults to the Deployment’s name.',
      }),
    ),
    configMapName: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 253,
        pattern: DNS_SUBDOMAIN,
        description:
          'configMapName is the tuning ConfigMap holding DB_POOL_SIZE and DB_MAX_OVERFLOW. Defaults to "<name>-tuning". The older spelling of pool.configMap.name; it keeps working, and cannot be set with pool.',
      }),
    ),
    pool: Type.Optional(PoolRef),
    scaledObjectName: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 253,
        pattern: DNS_SUBDOMAIN,
        description:
          'scaledObjectName is the KEDA ScaledObject (keda.sh/v1alpha1) that owns the HPA; its minReplicaCount and maxReplicaCount are tuned instead of the HPA’s bounds, which KEDA would overwrite. Found from the HPA’s ownerReferences when left out. The HPA’s status is still read for current and desired replicas, and a KEDA-owned HPA is never written.',
      }),
    ),
  },
  {
    description: 'targetRef names the API Deployment whose knobs this profile tunes.',
    'x-kubernetes-validations': [POOL_OR_CONFIG_MAP_NAME],
  },
);
export type TargetRef = Static<typeof TargetRef>;

/** hpaNameOf is the HPA a profile tunes: spec.targetRef.hpaName, else the Deployment's name. */
export function hpaNameOf(targetRef: TargetRef): string {
  return targetRef.hpaName ?? targetRef.name;
}

/**
 * configMapNameOf is the tuning ConfigMap of the ConfigMap pool form (pool.configMap.name, else
 * configMapName, else `<name>-tuning`); undefined when the pool lives elsewhere.
 */
export function configMapNameOf(targetRef: TargetRef): string | undefined {
  const place = poolPlaceOf(targetRef);
  return place.kind === 'configMap' ? place.name : undefined;
}
