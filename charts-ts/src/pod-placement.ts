/** Where the stack's pods are scheduled: every workload spreads its replicas across nodes. */
import type { V1Affinity } from '@kubernetes/client-node';

/**
 * preferOnePodPerNode asks the scheduler to put the pods `podLabels` select on different nodes,
 * so one node's loss takes at most one of them; it is a preference, so a small cluster still
 * schedules them all.
 */
export function preferOnePodPerNode(podLabels: Record<string, string>): V1Affinity {
  return {
    podAntiAffinity: {
      preferredDuringSchedulingIgnoredDuringExecution: [
        {
          weight: 100,
          podAffinityTerm: {
            topologyKey: 'kubernetes.io/hostname',
            labelSelector: { matchLabels: podLabels },
          },
        },
      ],
    },
  };
}
