import type {
  V1ClusterRole,
  V1ClusterRoleBinding,
  V1PolicyRule,
  V1Role,
  V1RoleBinding,
  V1ServiceAccount,
} from '@kubernetes/client-node';
import { Construct } from 'constructs';
import { GROUP, PLURAL } from '../../operator/src/api/v1alpha1/constants.ts';
import { kubeObject } from './kube-object.ts';

/** ALL_NAMESPACES is how values say "tune every namespace": a list holding only this. */
export const ALL_NAMESPACES = '*';

/** METRICS_READER_ROLE is the ClusterRole a scraper's ServiceAccount is bound to, to read /metrics. */
export const METRICS_READER_ROLE = 'perfpilot-metrics-reader';

/** The per-CRD roles for people: read profiles, or write them. */
export const PROFILE_VIEWER_ROLE = `${PLURAL}-viewer`;
export const PROFILE_EDITOR_ROLE = `${PLURAL}-editor`;

/** Props of OperatorRbac. */
export interface OperatorRbacProps {
  /** namespace the operator runs in: its ServiceAccount and its Lease live there. */
  readonly namespace: string;
  /** name of the ServiceAccount, and of the Roles and bindings of the tuned namespaces. */
  readonly name: string;
  /** labels of every object. */
  readonly labels: Record<string, string>;
  /**
   * watchNamespaces are the namespaces whose profiles the operator tunes: a Role and a
   * RoleBinding in each, or `['*']` (ALL_NAMESPACES) for one ClusterRole and ClusterRoleBinding.
   * An empty list means the operator's own namespace.
   */
  readonly watchNamespaces: readonly string[];
  /** secretNames are the only Secrets the operator may read in a tuned namespace (Redis passwords, ACL users). */
  readonly secretNames: readonly string[];
  /**
   * aggregateToDefaultRoles adds the profile viewer to the built-in `view` role and the editor
   * to `edit` and `admin`, so every namespace's readers and editors get profiles too.
   * @default false
   */
  readonly aggregateToDefaultRoles?: boolean;
}

/**
 * OperatorRbac is the operator's identity and access: its ServiceAccount; in each tuned namespace
 * exactly the verbs the profile forms need (or one ClusterRole for all namespaces); the Lease in
 * its own namespace only; the `perfpilot-metrics-reader` ClusterRole for scrapers; and the
 * per-CRD viewer and editor ClusterRoles for people.
 */
export class OperatorRbac extends Construct {
  /** tunedNamespaces are the namespaces with a Role, or ALL_NAMESPACES. */
  readonly tunedNamespaces: readonly string[];
  /** watchNamespaceEnv is the operator's WATCH_NAMESPACE, or undefined for its own namespace. */
  readonly watchNamespaceEnv: string | undefined;

  constructor(scope: Construct, id: string, props: OperatorRbacProps) {
    super(scope, id);
    const { namespace: ns, name, labels } = props;
    const all = props.watchNamespaces.includes(ALL_NAMESPACES);
    if (all && props.watchNamespaces.length > 1) {
      throw new Error(
        `OperatorRbac: watchNamespaces must be namespace names or ["${ALL_NAMESPACES}"] alone, got ${JSON.stringify(props.watchNamespaces)}`,
      );
    }
    const own = props.watchNamespaces.length === 0;
    this.tunedNamespaces = own ? [ns] : [...new Set(props.watchNamespaces)];
    // The operator reads "a,b" and "*" (operator/src/main.ts); its own namespace comes from the pod.
    this.watchNamespaceEnv = own ? undefined : this.tunedNamespaces.join(',');
    const rbac = 'rbac.authorization.k8s.io';
    const subjects = [{ kind: 'ServiceAccount', name, namespace: ns }];
    const rules = tunedNamespaceRules(props.secretNames);

    kubeObject<V1ServiceAccount>(this, 'ServiceAccount', {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name, namespace: ns, labels },
    });
    if (all) {
      kubeObject<V1ClusterRole>(this, 'ClusterRole', {
        apiVersion: `${rbac}/v1`,
        kind: 'ClusterRole',
        metadata: { name, labels },
        rules,
      });
      kubeObject<V1ClusterRoleBinding>(this, 'ClusterRoleBinding', {
        apiVersion: `${rbac}/v1`,
        kind: 'ClusterRoleBinding',
        metadata: { name, labels },
        roleRef: { apiGroup: rbac, kind: 'ClusterRole', name },
        subjects,
      });
    } else {
      for (const tuned of this.tunedNamespaces) {
        kubeObject<V1Role>(this, `Role-${tuned}`, {
          apiVersion: `${rbac}/v1`,
          kind: 'Role',
          metadata: { name, namespace: tuned, labels },
          rules,
        });
        kubeObject<V1RoleBinding>(this, `RoleBinding-${tuned}`, {
          apiVersion: `${rbac}/v1`,
          kind: 'RoleBinding',
          metadata: { name, namespace: tuned, labels },
          roleRef: { apiGroup: rbac, kind: 'Role', name },
          subjects,
        });
      }
    }
    // The Lease only where the operator runs, whichever namespaces it tunes.
    const leaseRole = `${name}-leader-election`;
    kubeObject<V1Role>(this, 'LeaseRole', {
      apiVersion: `${rbac}/v1`,
      kind: 'Role',
      metadata: { name: leaseRole, namespace: ns, labels },
      rules: [...LEASE_RULES],
    });
    kubeObject<V1RoleBinding>(this, 'LeaseRoleBinding', {
      apiVersion: `${rbac}/v1`,
      kind: 'RoleBinding',
      metadata: { name: leaseRole, namespace: ns, labels },
      roleRef: { apiGroup: rbac, kind: 'Role', name: leaseRole },
      subjects,
    });

    kubeObject<V1ClusterRole>(this, 'MetricsReader', {
      apiVersion: `${rbac}/v1`,
      kind: 'ClusterRole',
      metadata: { name: METRICS_READER_ROLE, labels },
      rules: [{ nonResourceURLs: ['/metrics'], verbs: ['get'] }],
    });
    const aggregate = (...roles: string[]) =>
      props.aggregateToDefaultRoles
        ? Object.fromEntries(roles.map((r) => [`${rbac}/aggregate-to-${r}`, 'true']))
        : {};
    kubeObject<V1ClusterRole>(this, 'ProfileViewer', {
      apiVersion: `${rbac}/v1`,
      kind: 'ClusterRole',
      metadata: { name: PROFILE_VIEWER_ROLE, labels: { ...labels, ...aggregate('view') } },
      rules: profileViewerRules(),
    });
    kubeObject<V1ClusterRole>(this, 'ProfileEditor', {
      apiVersion: `${rbac}/v1`,
      kind: 'ClusterRole',
      metadata: { name: PROFILE_EDITOR_ROLE, labels: { ...labels, ...aggregate('edit', 'admin') } },
      rules: profileEditorRules(),
    });
  }
}

/**
 * tunedNamespaceRules are the only permissions the operator needs in a namespace it tunes, by
 * verb and resource; each comment names what uses it. Every write is a server-side apply (verb
 * patch) of an object read first, so nothing is created, updated whole or deleted, and no
 * subresource (scale, status of targets) is touched.
 */
export function tunedNamespaceRules(secretNames: readonly string[]): V1PolicyRule[] {
  return [
    // patch: the finalizer and the original-values annotation (merge patches on metadata).
    { apiGroups: [GROUP], resources: [PLURAL], verbs: ['get', 'list', 'watch', 'patch'] },
    { apiGroups: [GROUP], resources: [`${PLURAL}/status`], verbs: ['patch'] },
    // list, watch: the HPA informer; get, patch: applyReplicaBounds (minReplicas, maxReplicas).
    {
      apiGroups: ['autoscaling'],
      resources: ['horizontalpodautoscalers'],
      verbs: ['get', 'list', 'watch', 'patch'],
    },
    // get, patch: applyScaledObjectBounds. The bounds of an HPA that a KEDA ScaledObject owns are
    // written on the ScaledObject, never on the HPA, which KEDA would rewrite; no informer watches them.
    { apiGroups: ['keda.sh'], resources: ['scaledobjects'], verbs: ['get', 'patch'] },
    // list, watch: the ConfigMap informer the observe step reads; get, patch: the pool's ConfigMap
    // form (applyPoolSettings) and the Redis persistence ConfigMap (a maxmemory key or a redis.conf).
    { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch', 'patch'] },
    // list, watch: the Deployment informer; get, patch: the config-hash annotation that rolls the
    // pods after a ConfigMap pool change, and the pool's env form (a pod-template change).
    { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list', 'watch', 'patch'] },
    // The Redis password and ACL Secrets a profile names (spec.metrics.redis), by name only.
    ...(secretNames.length > 0
      ? [{ apiGroups: [''], resources: ['secrets'], resourceNames: [...secretNames], verbs: ['get'] }]
      : []),
    { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['create'] },
  ];
}

/** LEASE_RULES let the replicas elect a leader, in the operator's own namespace. */
export const LEASE_RULES: readonly V1PolicyRule[] = [
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] },
];

/**
 * operatorRules are everything the operator may do, for a namespace that is both tuned and its
 * own: what `perfpilot doctor` compares a profile's needs with.
 */
export function operatorRules(secretNames: readonly string[]): V1PolicyRule[] {
  return [...tunedNamespaceRules(secretNames), ...LEASE_RULES];
}

/** profileViewerRules read profiles and their status. */
export function profileViewerRules(): V1PolicyRule[] {
  return [
    { apiGroups: [GROUP], resources: [PLURAL], verbs: ['get', 'list', 'watch'] },
    { apiGroups: [GROUP], resources: [`${PLURAL}/status`], verbs: ['get'] },
  ];
}

/** profileEditorRules write profiles; the status stays the operator's. */
export function profileEditorRules(): V1PolicyRule[] {
  return [
    {
      apiGroups: [GROUP],
      resources: [PLURAL],
      verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
    },
    { apiGroups: [GROUP], resources: [`${PLURAL}/status`], verbs: ['get'] },
  ];
}
