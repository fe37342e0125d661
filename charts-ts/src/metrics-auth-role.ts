import type { V1ClusterRole, V1ClusterRoleBinding, V1PolicyRule } from '@kubernetes/client-node';
import { Construct } from 'constructs';
import { kubeObject } from './kube-object.ts';
import { appLabels } from './labels.ts';

/** Props of MetricsAuthRole. */
export interface MetricsAuthRoleProps {
  /** serviceAccount is the operator's ServiceAccount, bound to the role. */
  readonly serviceAccount: { readonly name: string; readonly namespace: string };
  /**
   * name of the ClusterRole and its binding.
   * @default `${serviceAccount.name}-metrics-auth`
   */
  readonly name?: string;
}

/**
 * METRICS_AUTH_RULES let the operator ask the API server who a scraper is (TokenReview) and
 * whether it may `get /metrics` (SubjectAccessReview). Both reviews are cluster-scoped, hence a
 * ClusterRole; `create` is their only verb, and neither reads anything stored.
 */
export const METRICS_AUTH_RULES: readonly V1PolicyRule[] = [
  { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
  { apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews'], verbs: ['create'] },
];

/**
 * MetricsAuthRole is what the operator needs to serve /metrics securely (kubebuilder's
 * `metrics-auth-role`): a ClusterRole with METRICS_AUTH_RULES and its binding to the operator's
 * ServiceAccount.
 */
export class MetricsAuthRole extends Construct {
  /** name of the ClusterRole and its binding. */
  readonly name: string;

  constructor(scope: Construct, id: string, props: MetricsAuthRoleProps) {
    super(scope, id);
    const sa = props.serviceAccount;
    this.name = props.name ?? `${sa.name}-metrics-auth`;
    const labels = appLabels(sa.name, 'operator');
    kubeObject<V1ClusterRole>(this, 'ClusterRole', {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: this.name, labels },
      rules: METRICS_AUTH_RULES.map((rule) => ({ ...rule })),
    });
    kubeObject<V1ClusterRoleBinding>(this, 'ClusterRoleBinding', {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: this.name, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: this.name },
      subjects: [{ kind: 'ServiceAccount', name: sa.name, namespace: sa.namespace }],
    });
  }
}
