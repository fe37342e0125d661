/**
 * Small helpers for tests against the harness's API server. The test control plane runs no
 * controller-manager, so what its controllers would create (a namespace's default
 * ServiceAccount) is created here.
 */
import { CoreV1Api, type KubeConfig, type V1Namespace } from '@kubernetes/client-node';

/** createNamespace creates a namespace with labels and its `default` ServiceAccount. */
export async function createNamespace(
  kubeConfig: KubeConfig,
  name: string,
  labels: Record<string, string> = {},
): Promise<V1Namespace> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const namespace = await core.createNamespace({ body: { metadata: { name, labels } } });
  await core.createNamespacedServiceAccount({ namespace: name, body: { metadata: { name: 'default' } } });
  return namespace;
}

/** restrictedNamespaceLabels enforce, audit and warn on Pod Security Standards "restricted". */
export const restrictedNamespaceLabels: Readonly<Record<string, string>> = {
  'pod-security.kubernetes.io/enforce': 'restricted',
  'pod-security.kubernetes.io/audit': 'restricted',
  'pod-security.kubernetes.io/warn': 'restricted',
};
