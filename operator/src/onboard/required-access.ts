/**
 * The API access the operator needs for one profile, by verb, resource and object name: the
 * operator's Role (its rules passed in, so the list stays the one the toolkit grants) narrowed to
 * the objects this profile names. `perfpilot doctor` asks the API server about each with a
 * SelfSubjectAccessReview. Pure.
 */
import type { V1PolicyRule } from '@kubernetes/client-node';
import {
  configMapNameOf,
  hpaNameOf,
  maxMemoryPersistenceOf,
  type PerformanceProfile,
  PLURAL,
} from '../api/v1alpha1/index.ts';

/** One question for the API server: may the subject do `verb` on this resource (and name)? */
export interface AccessCheck {
  readonly verb: string;
  /** group is the API group; '' for the core group. */
  readonly group: string;
  readonly resource: string;
  readonly subresource?: string;
  readonly namespace: string;
  /** name narrows the check to one object; a list or watch has none. */
  readonly name?: string;
}

/** The checks of one resource of the Role, reported as one line. */
export interface AccessNeed {
  /** resource names it as kubectl does, e.g. `horizontalpodautoscalers.autoscaling`. */
  readonly resource: string;
  readonly namespace: string;
  readonly checks: readonly AccessCheck[];
}

/** The operator's ServiceAccount as the toolkit installs it (charts-ts: namespace `perfpilot`, Operator `perfpilot-operator`). */
export const OPERATOR_SERVICE_ACCOUNT = 'system:serviceaccount:perfpilot:perfpilot-operator';

/** serviceAccountOf splits `system:serviceaccount:NS:NAME`; undefined for any other user name. */
export function serviceAccountOf(user: string): { namespace: string; name: string } | undefined {
  const match = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(user);
  return match ? { namespace: match[1] as string, name: match[2] as string } : undefined;
}

/** profileSecretNames lists the Secrets a profile names (Prometheus and Redis credentials), once each. */
export function profileSecretNames(profile: PerformanceProfile): string[] {
  const { prometheus, redis } = profile.spec.metrics;
  const names = [
    prometheus?.bearerTokenSecretRef?.name,
    prometheus?.basicAuth?.passwordSecretRef.name,
    prometheus?.caBundleSecretRef?.name,
    redis?.passwordSecretRef?.name,
    redis?.tls?.caBundleSecretRef?.name,
    redis?.sentinel?.passwordSecretRef?.name,
  ].filter((name): name is string => name !== undefined);
  return [...new Set(names)];
}

/** Verbs that read or write one object, checked by its name; the rest (list, watch, create) are namespace-wide. */
const NAMED_VERBS = new Set(['get', 'patch', 'update', 'delete']);

/**
 * requiredAccess turns the operator's rules into the checks for one profile: each named verb on
 * the objects this profile touches (its own name, its HPA, its ConfigMaps, its Deployment, the
 * Secrets a rule lists by name, the KEDA ScaledObject `scaledObjectName` when the HPA is
 * KEDA-owned), list and watch on the namespace, Leases in `leaseNamespace`. A rule whose verbs all
 * name an object asks nothing when the profile touches none of its objects (no ScaledObject
 * without KEDA). `scaledObjectName` is spec.targetRef.scaledObjectName, or the ScaledObject that
 * owns the HPA as read from the cluster.
 */
export function requiredAccess(
  rules: readonly V1PolicyRule[],
  profile: PerformanceProfile,
  leaseNamespace: string,
  scaledObjectName: string | undefined = profile.spec.targetRef.scaledObjectName,
): AccessNeed[] {
  const namespace = profile.metadata.namespace ?? 'default';
  const { targetRef } = profile.spec;
  const profileName = profile.metadata.name ?? targetRef.name;
  const redis = profile.spec.metrics.redis;
  const persistence = redis ? maxMemoryPersistenceOf(redis) : undefined;
  const redisConfigMap = persistence?.kind === 'configMap' ? persistence.name : undefined;
  const configMaps = [configMapNameOf(targetRef), redisConfigMap].filter(
    (name): name is string => name !== undefined,
  );
  const objectNames: Record<string, readonly string[]> = {
    [PLURAL]: [profileName],
    [`${PLURAL}/status`]: [profileName],
    horizontalpodautoscalers: [hpaNameOf(targetRef)],
    configmaps: configMaps,
    deployments: [targetRef.name],
    scaledobjects: scaledObjectName === undefined ? [] : [scaledObjectName],
  };
  const needs: AccessNeed[] = [];
  for (const rule of rules) {
    for (const group of rule.apiGroups ?? ['']) {
      for (const full of rule.resources ?? []) {
        const [resource, subresource] = full.split('/') as [string, string | undefined];
        const ns = resource === 'leases' ? leaseNamespace : namespace;
        const names = rule.resourceNames?.length ? rule.resourceNames : objectNames[full];
        if (names?.length === 0 && rule.verbs.every((verb) => NAMED_VERBS.has(verb))) continue;
        const checks: AccessCheck[] = [];
        for (const verb of rule.verbs) {
          const base = { verb, group, resource, namespace: ns, ...(subresource ? { subresource } : {}) };
          if (NAMED_VERBS.has(verb) && names?.length) {
            for (const name of names) checks.push({ ...base, name });
          } else checks.push(base);
        }
        // A rule by resource name with no names (a profile without Secrets) asks nothing.
        if (rule.resourceNames && rule.resourceNames.length === 0) continue;
        needs.push({ resource: resourceName(group, full), namespace: ns, checks });
      }
    }
  }
  return needs;
}

/** resourceName is a resource as kubectl names it: `deployments.apps`, `configmaps`, `x/status`. */
export function resourceName(group: string, resource: string): string {
  const [plural, sub] = resource.split('/');
  return `${plural}${group ? `.${group}` : ''}${sub ? `/${sub}` : ''}`;
}

/** describeCheck says one check the way a person reads it: `patch horizontalpodautoscalers.autoscaling/risk-api in shop`. */
export function describeCheck(check: AccessCheck): string {
  const resource = resourceName(
    check.group,
    `${check.resource}${check.subresource ? `/${check.subresource}` : ''}`,
  );
  return `${check.verb} ${resource}${check.name ? ` ${check.name}` : ''} in ${check.namespace}`;
}

/**
 * grantCommands are the kubectl commands that grant the denied checks of one resource to `user`:
 * a Role and its RoleBinding in the checks' namespace, narrowed to the objects' names when every
 * denied verb names one.
 */
export function grantCommands(user: string, denied: readonly AccessCheck[]): string {
  const first = denied[0];
  if (!first) return '';
  const verbs = [...new Set(denied.map((c) => c.verb))];
  const names = [...new Set(denied.map((c) => c.name).filter((n): n is string => n !== undefined))];
  const named = denied.every((c) => c.name !== undefined);
  const resource = resourceName(
    first.group,
    `${first.resource}${first.subresource ? `/${first.subresource}` : ''}`,
  );
  const role = `perfpilot-${first.resource}${first.subresource ? `-${first.subresource}` : ''}`;
  const account = serviceAccountOf(user);
  const subject = account ? `--serviceaccount=${account.namespace}:${account.name}` : `--user=${user}`;
  return [
    `kubectl -n ${first.namespace} create role ${role} --verb=${verbs.join(',')} --resource=${resource}${
      named ? names.map((n) => ` --resource-name=${n}`).join('') : ''
    }`,
    `kubectl -n ${first.namespace} create rolebinding ${role} --role=${role} ${subject}`,
  ].join('\n');
}
