/**
 * Pieces every pod of the stack shares: the Pod Security Standards `restricted` security
 * contexts, and requests/limits from the values' millicores and MiB.
 */
import type {
  V1PodSecurityContext,
  V1ResourceRequirements,
  V1SecurityContext,
} from '@kubernetes/client-node';
import type { ContainerResources } from './values.ts';

/** restrictedPodSecurityContext runs every container as `uid`, never root, with RuntimeDefault seccomp. */
export function restrictedPodSecurityContext(uid: number): V1PodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: uid,
    runAsGroup: uid,
    fsGroup: uid,
    fsGroupChangePolicy: 'OnRootMismatch',
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

/** restrictedContainerSecurityContext: no escalation, no capabilities, read-only root filesystem. */
export function restrictedContainerSecurityContext(uid?: number): V1SecurityContext {
  return {
    allowPrivilegeEscalation: false,
    capabilities: { drop: ['ALL'] },
    privileged: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    ...(uid === undefined ? {} : { runAsUser: uid, runAsGroup: uid }),
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

/** containerResources renders values' resources as Kubernetes quantities. */
export function containerResources(r: ContainerResources): V1ResourceRequirements {
  return {
    // Ephemeral storage bounds logs and emptyDirs, so one pod cannot fill a node's disk.
    requests: {
      cpu: `${r.cpuRequestMillis}m`,
      memory: `${r.memoryRequestMiB}Mi`,
      'ephemeral-storage': '64Mi',
    },
    limits: { cpu: `${r.cpuLimitMillis}m`, memory: `${r.memoryLimitMiB}Mi`, 'ephemeral-storage': '512Mi' },
  };
}
