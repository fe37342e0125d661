/**
 * What a profile tunes: the API Deployment it names, and the HPA and tuning ConfigMap found from it.
 */
import Type, { type Static } from 'typebox';
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
          'configMapName is the tuning ConfigMap holding DB_POOL_SIZE and DB_MAX_OVERFLOW. Defaults to "<name>-tuning".',
      }),
    ),
  },
  { description: 'targetRef names the API Deployment whose knobs this profile tunes.' },
);
export type TargetRef = Static<typeof TargetRef>;

/** hpaNameOf is the HPA a profile tunes: spec.targetRef.hpaName, else the Deployment's name. */
export function hpaNameOf(targetRef: TargetRef): string {
  return targetRef.hpaName ?? targetRef.name;
}

/** configMapNameOf is the tuning ConfigMap: spec.targetRef.configMapName, else `<name>-tuning`. */
export function configMapNameOf(targetRef: TargetRef): string {
  return targetRef.configMapName ?? `${targetRef.name}-tuning`;
}
