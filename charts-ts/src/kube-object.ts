/**
 * KubeObject: a cdk8s ApiObject whose body is typed with @kubernetes/client-node's models (type
 * imports only, so nothing of client-node loads at synth time). We use cdk8s core rather than
 * cdk8s-plus: the stack needs fields cdk8s-plus does not model (volumeClaimTemplates,
 * publishNotReadyAddresses, HPA Pods metrics with explicit behavior) and its import alone costs
 * about a fifth of the one-second synth budget.
 */

import type { V1PodDisruptionBudget } from '@kubernetes/client-node';
import { ApiObject } from 'cdk8s';
import type { Construct } from 'constructs';

/** Manifest<T> is a client-node model with apiVersion, kind and a metadata.name required. */
export type Manifest<T> = T & {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly labels?: Record<string, string>;
    readonly annotations?: Record<string, string>;
  };
};

/** kubeObject adds one Kubernetes object to the tree; the body is emitted as given. */
export function kubeObject<T extends object>(scope: Construct, id: string, body: Manifest<T>): ApiObject {
  return new ApiObject(scope, id, body as unknown as ConstructorParameters<typeof ApiObject>[2]);
}

/** WorkloadMetadata is the metadata a workload's PodDisruptionBudget and NetworkPolicy share with it. */
export interface WorkloadMetadata {
  readonly name: string;
  readonly namespace: string;
  readonly labels: Record<string, string>;
}

/**
 * podDisruptionBudget lets one pod of a workload go at a time: every workload of the stack has
 * one, so a node drain never takes a whole component down.
 */
export function podDisruptionBudget(
  scope: Construct,
  metadata: WorkloadMetadata,
  podLabels: Record<string, string>,
): ApiObject {
  return kubeObject<V1PodDisruptionBudget>(scope, 'PodDisruptionBudget', {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { ...metadata },
    spec: { maxUnavailable: 1, selector: { matchLabels: podLabels } },
  });
}

/** A NetworkPolicy peer: client-node names the field `_from`, so NetworkPolicies are typed here. */
export interface NetworkPolicyPeer {
  readonly podSelector?: { readonly matchLabels: Record<string, string> };
  readonly namespaceSelector?: { readonly matchLabels: Record<string, string> };
}

/** A NetworkPolicy port; a rule without ports allows every port. */
export interface NetworkPolicyPort {
  readonly protocol: 'TCP' | 'UDP';
  readonly port: number;
}

/** The `networking.k8s.io/v1` NetworkPolicy; a rule without peers allows every address. */
export interface NetworkPolicy {
  readonly spec: {
    readonly podSelector: { readonly matchLabels: Record<string, string> };
    readonly policyTypes: readonly ('Ingress' | 'Egress')[];
    readonly ingress?: readonly {
      readonly from?: readonly NetworkPolicyPeer[];
      readonly ports?: readonly NetworkPolicyPort[];
    }[];
    readonly egress?: readonly {
      readonly to?: readonly NetworkPolicyPeer[];
      readonly ports?: readonly NetworkPolicyPort[];
    }[];
  };
}

/**
 * DNS_EGRESS lets a pod resolve names. It names no peer: the resolver is kube-dns in most
 * clusters, but a node-local cache on a link-local address in others, which no selector matches.
 */
export const DNS_EGRESS = {
  ports: [
    { protocol: 'UDP', port: 53 },
    { protocol: 'TCP', port: 53 },
  ],
} as const satisfies { readonly ports: readonly NetworkPolicyPort[] };

/**
 * namespacePeer selects every pod of the namespace `name` by the label the API server sets on
 * each namespace, `kubernetes.io/metadata.name`.
 */
export function namespacePeer(name: string): NetworkPolicyPeer {
  return { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': name } } };
}

/**
 * networkPolicy adds a workload's own NetworkPolicy: it selects the workload's pods in both
 * directions, so whatever `rules` do not allow is denied (an empty `ingress` admits no one).
 */
export function networkPolicy(
  scope: Construct,
  metadata: WorkloadMetadata,
  podLabels: Record<string, string>,
  rules: {
    readonly ingress: NonNullable<NetworkPolicy['spec']['ingress']>;
    readonly egress: NonNullable<NetworkPolicy['spec']['egress']>;
  },
): ApiObject {
  return kubeObject<NetworkPolicy>(scope, 'NetworkPolicy', {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { ...metadata },
    spec: {
      podSelector: { matchLabels: podLabels },
      policyTypes: ['Ingress', 'Egress'],
      ingress: rules.ingress,
      egress: rules.egress,
    },
  });
}
