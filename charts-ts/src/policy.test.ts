/**
 * Policy tests over everything `perfpilot synth` produces, each named after the rule it enforces
 * (Pod Security Standards restricted, kube-score, kube-linter, Polaris). They run on the default
 * stack and on a stack with monitoring off and other values changed, so a rule cannot hold only
 * by accident of the defaults.
 */
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { defaultValues, resolveValues } from './load-values.ts';
import { renderStack } from './synth.ts';

type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  // biome-ignore lint/suspicious/noExplicitAny: manifests are checked structurally, field by field
  [k: string]: any;
};

function objectsOf(values = defaultValues()): Manifest[] {
  return renderStack(values)
    .filter((f) => !f.path.endsWith('/kustomization.yaml'))
    .flatMap((f) => parseAllDocuments(f.content).map((d) => d.toJS() as Manifest));
}

const stacks = {
  default: objectsOf(),
  variant: objectsOf(
    resolveValues({
      namespace: 'risk',
      monitoring: { enabled: false },
      redis: { masters: 5, replicasPerMaster: 2, storageClassName: 'fast-ssd' },
      hpa: { minReplicas: 3, maxReplicas: 20 },
      operator: { replicas: 1, profile: { mode: 'Auto' } },
    }),
  ),
};

const WORKLOADS = new Set(['Deployment', 'StatefulSet', 'Job', 'DaemonSet', 'CronJob']);

interface PodOf {
  readonly owner: Manifest;
  // biome-ignore lint/suspicious/noExplicitAny: see Manifest
  readonly template: { metadata: { labels: Record<string, string> }; spec: any };
}

function podsOf(objects: Manifest[]): PodOf[] {
  return objects.filter((o) => WORKLOADS.has(o.kind)).map((o) => ({ owner: o, template: o.spec.template }));
}

// biome-ignore lint/suspicious/noExplicitAny: see Manifest
function containersOf(pod: PodOf): any[] {
  return [...(pod.template.spec.initContainers ?? []), ...pod.template.spec.containers];
}

function matches(selector: Record<string, string>, labels: Record<string, string> = {}): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

const id = (o: Manifest) => `${o.kind}/${o.metadata.name}`;

describe.each(Object.entries(stacks))('policy over the synthesized %s stack', (_name, objects) => {
  const pods = podsOf(objects);
  const longRunning = pods.filter((p) => p.owner.kind === 'Deployment' || p.owner.kind === 'StatefulSet');

  it('synthesizes workloads to check', () => {
    expect(pods.length).toBeGreaterThanOrEqual(4);
  });

  describe('Pod Security Standards restricted', () => {
    it('namespace enforces, audits and warns on restricted', () => {
      const ns = objects.find((o) => o.kind === 'Namespace');
      for (const mode of ['enforce', 'audit', 'warn']) {
        expect(ns?.metadata.labels?.[`pod-security.kubernetes.io/${mode}`]).toBe('restricted');
      }
    });

    it('runAsNonRoot with a non-zero user in every pod', () => {
      for (const pod of pods) {
        expect(pod.template.spec.securityContext.runAsNonRoot, id(pod.owner)).toBe(true);
        for (const c of containersOf(pod)) {
          const user = c.securityContext?.runAsUser ?? pod.template.spec.securityContext.runAsUser;
          expect(user, `${id(pod.owner)} ${c.name}`).toBeGreaterThan(0);
        }
      }
    });

    it('allowPrivilegeEscalation false, capabilities drop ALL, not privileged', () => {
      for (const pod of pods) {
        for (const c of containersOf(pod)) {
          expect(c.securityContext.allowPrivilegeEscalation, `${id(pod.owner)} ${c.name}`).toBe(false);
          expect(c.securityContext.capabilities.drop, `${id(pod.owner)} ${c.name}`).toEqual(['ALL']);
          expect(c.securityContext.capabilities.add ?? [], `${id(pod.owner)} ${c.name}`).toEqual([]);
          expect(c.securityContext.privileged ?? false, `${id(pod.owner)} ${c.name}`).toBe(false);
        }
      }
    });

    it('seccompProfile RuntimeDefault', () => {
      for (const pod of pods) {
        expect(pod.template.spec.securityContext.seccompProfile, id(pod.owner)).toEqual({
          type: 'RuntimeDefault',
        });
      }
    });

    it('no host namespaces, host ports or hostPath volumes', () => {
      for (const pod of pods) {
        const spec = pod.template.spec;
        expect([spec.hostNetwork, spec.hostPID, spec.hostIPC].filter(Boolean), id(pod.owner)).toEqual([]);
        expect(
          (spec.volumes ?? []).filter((v: { hostPath?: unknown }) => v.hostPath),
          id(pod.owner),
        ).toEqual([]);
        for (const c of containersOf(pod)) {
          expect(
            (c.ports ?? []).filter((p: { hostPort?: number }) => p.hostPort),
            id(pod.owner),
          ).toEqual([]);
        }
      }
    });
  });

  describe('kube-score', () => {
    it('container-resources: CPU and memory requests and limits on every container', () => {
      for (const pod of pods) {
        for (const c of containersOf(pod)) {
          for (const kind of ['requests', 'limits']) {
            expect(c.resources?.[kind]?.cpu, `${id(pod.owner)} ${c.name} ${kind}`).toBeTruthy();
            expect(c.resources?.[kind]?.memory, `${id(pod.owner)} ${c.name} ${kind}`).toBeTruthy();
          }
        }
      }
    });

    it('container-ephemeral-storage-request-and-limit', () => {
      for (const pod of pods) {
        for (const c of containersOf(pod)) {
          expect(c.resources.requests['ephemeral-storage'], `${id(pod.owner)} ${c.name}`).toBeTruthy();
          expect(c.resources.limits['ephemeral-storage'], `${id(pod.owner)} ${c.name}`).toBeTruthy();
        }
      }
    });

    it('container-image-tag: every image pinned, none latest', () => {
      for (const pod of pods) {
        for (const c of containersOf(pod)) {
          expect(c.image, `${id(pod.owner)} ${c.name}`).toMatch(/(:[\w][\w.-]*|@sha256:[a-f0-9]{64})$/);
          expect(c.image, `${id(pod.owner)} ${c.name}`).not.toMatch(/:latest$/);
        }
      }
    });

    it('container-security-context-user-group-id: user and group above 10000', () => {
      for (const pod of pods) {
        for (const c of containersOf(pod)) {
          const sc = { ...pod.template.spec.securityContext, ...c.securityContext };
          expect(sc.runAsUser, `${id(pod.owner)} ${c.name}`).toBeGreaterThan(10000);
          expect(sc.runAsGroup, `${id(pod.owner)} ${c.name}`).toBeGreaterThan(10000);
        }
      }
    });

    it('container-security-context-readonlyrootfilesystem', () => {
      for (const pod of pods) {
        for (const c of containersOf(pod)) {
          expect(c.securityContext.readOnlyRootFilesystem, `${id(pod.owner)} ${c.name}`).toBe(true);
        }
      }
    });

    it('pod-probes: readiness and liveness probes on every long-running container', () => {
      for (const pod of longRunning) {
        for (const c of pod.template.spec.containers) {
          expect(c.readinessProbe, `${id(pod.owner)} ${c.name}`).toBeTruthy();
          expect(c.livenessProbe, `${id(pod.owner)} ${c.name}`).toBeTruthy();
        }
      }
    });

    it('deployment-has-poddisruptionbudget / statefulset-has-poddisruptionbudget', () => {
      const pdbs = objects.filter((o) => o.kind === 'PodDisruptionBudget');
      for (const pod of longRunning) {
        const pdb = pdbs.filter((p) => matches(p.spec.selector.matchLabels, pod.template.metadata.labels));
        expect(pdb.map(id), id(pod.owner)).toHaveLength(1);
        expect(pdb[0]?.spec.maxUnavailable, id(pod.owner)).toBe(1);
      }
    });

    it('pod-networkpolicy: a NetworkPolicy selects every pod', () => {
      const policies = objects.filter((o) => o.kind === 'NetworkPolicy');
      for (const pod of pods) {
        const selecting = policies.filter((p) =>
          matches(p.spec.podSelector.matchLabels, pod.template.metadata.labels),
        );
        expect(selecting.length, id(pod.owner)).toBeGreaterThanOrEqual(1);
      }
    });

    it('networkpolicy-targets-pod: every NetworkPolicy selects a pod', () => {
      for (const policy of objects.filter((o) => o.kind === 'NetworkPolicy')) {
        const targets = pods.filter((p) =>
          matches(policy.spec.podSelector.matchLabels, p.template.metadata.labels),
        );
        expect(targets.length, id(policy)).toBeGreaterThanOrEqual(1);
      }
    });

    it('horizontalpodautoscaler-has-target and deployment-targeted-by-hpa-does-not-have-replicas', () => {
      const hpas = objects.filter((o) => o.kind === 'HorizontalPodAutoscaler');
      expect(hpas).toHaveLength(1);
      for (const hpa of hpas) {
        const target = objects.find(
          (o) => o.kind === hpa.spec.scaleTargetRef.kind && o.metadata.name === hpa.spec.scaleTargetRef.name,
        );
        expect(target, id(hpa)).toBeDefined();
        expect(target?.spec, id(hpa)).not.toHaveProperty('replicas');
        expect(hpa.spec.minReplicas, id(hpa)).toBeGreaterThanOrEqual(2);
        expect(hpa.spec.behavior, id(hpa)).toBeDefined();
      }
    });

    it('service-targets-pod: every Service selects a pod', () => {
      for (const svc of objects.filter((o) => o.kind === 'Service')) {
        const targets = pods.filter((p) => matches(svc.spec.selector, p.template.metadata.labels));
        expect(targets.length, id(svc)).toBeGreaterThanOrEqual(1);
      }
    });

    it('deployment-has-host-podantiaffinity / statefulset-has-host-podantiaffinity', () => {
      for (const pod of longRunning) {
        const anti =
          pod.template.spec.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
        expect(
          anti.map((a: { podAffinityTerm: { topologyKey: string } }) => a.podAffinityTerm.topologyKey),
          id(pod.owner),
        ).toContain('kubernetes.io/hostname');
      }
    });
  });

  describe('kube-linter', () => {
    it('no-read-only-root-fs, run-as-non-root, privilege-escalation-container (see the restricted tests) hold for init containers too', () => {
      for (const pod of pods) {
        for (const c of pod.template.spec.initContainers ?? []) {
          expect(c.securityContext.readOnlyRootFilesystem, `${id(pod.owner)} ${c.name}`).toBe(true);
        }
      }
    });

    it('latest-tag: no image uses latest', () => {
      const images = pods.flatMap((p) => containersOf(p).map((c) => c.image as string));
      expect(images.filter((i) => i.endsWith(':latest') || !/[:@]/.test(i.split('/').pop() ?? ''))).toEqual(
        [],
      );
    });

    it('default-service-account and non-existent-service-account', () => {
      const accounts = new Set(
        objects.filter((o) => o.kind === 'ServiceAccount').map((o) => o.metadata.name),
      );
      for (const pod of longRunning) {
        const sa = pod.template.spec.serviceAccountName;
        expect(sa, id(pod.owner)).toBeTruthy();
        expect(sa, id(pod.owner)).not.toBe('default');
        expect(accounts.has(sa), `${id(pod.owner)} ${sa}`).toBe(true);
      }
    });

    it('wildcard-in-rules: no RBAC rule uses *', () => {
      for (const role of objects.filter((o) => o.kind === 'Role' || o.kind === 'ClusterRole')) {
        for (const rule of role.rules) {
          for (const field of ['apiGroups', 'resources', 'verbs', 'resourceNames']) {
            expect(rule[field] ?? [], `${id(role)} ${field}`).not.toContain('*');
          }
        }
      }
    });

    it('access-to-secrets: Secrets only by name, only get', () => {
      for (const role of objects.filter((o) => o.kind === 'Role' || o.kind === 'ClusterRole')) {
        for (const rule of role.rules.filter((r: { resources: string[] }) =>
          r.resources.includes('secrets'),
        )) {
          expect(rule.verbs, id(role)).toEqual(['get']);
          expect(rule.resourceNames?.length, id(role)).toBeGreaterThan(0);
        }
      }
      expect(objects.filter((o) => o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding')).toEqual([]);
    });

    it('env-var-secret: passwords and URLs with credentials come from Secrets, never literals', () => {
      for (const pod of pods) {
        for (const c of containersOf(pod)) {
          for (const env of c.env ?? []) {
            if (/PASSWORD|SECRET|TOKEN|DATABASE_URL|AUTH/.test(env.name)) {
              expect(env.valueFrom?.secretKeyRef, `${id(pod.owner)} ${env.name}`).toBeDefined();
            }
          }
        }
      }
      expect(objects.filter((o) => o.kind === 'Secret')).toEqual([]);
    });

    it('pdb-max-unavailable: every PDB selects a pod and allows a disruption', () => {
      for (const pdb of objects.filter((o) => o.kind === 'PodDisruptionBudget')) {
        expect(
          pods.some((p) => matches(pdb.spec.selector.matchLabels, p.template.metadata.labels)),
          id(pdb),
        ).toBe(true);
        expect(pdb.spec.maxUnavailable, id(pdb)).toBeGreaterThanOrEqual(1);
      }
    });

    it('dangling-networkpolicypeer-podselector: every peer pod selector matches a pod', () => {
      for (const policy of objects.filter((o) => o.kind === 'NetworkPolicy')) {
        for (const rule of policy.spec.ingress) {
          for (const peer of rule.from ?? []) {
            if (!peer.podSelector) continue;
            const matched = pods.some((p) =>
              matches(peer.podSelector.matchLabels, p.template.metadata.labels),
            );
            expect(matched, `${id(policy)} ${JSON.stringify(peer.podSelector)}`).toBe(true);
          }
        }
      }
    });
  });

  describe('Polaris', () => {
    it('hostIPCSet, hostPIDSet, hostNetworkSet: no pod shares a host namespace', () => {
      for (const pod of pods) {
        const spec = pod.template.spec;
        expect(
          [spec.hostIPC ?? false, spec.hostPID ?? false, spec.hostNetwork ?? false],
          id(pod.owner),
        ).toEqual([false, false, false]);
      }
    });

    it('pullPolicyNotAlways is acceptable here: every image is pinned, so IfNotPresent is deterministic', () => {
      for (const pod of pods) {
        for (const c of containersOf(pod)) {
          expect(c.imagePullPolicy, `${id(pod.owner)} ${c.name}`).toBe('IfNotPresent');
          expect(c.image, `${id(pod.owner)} ${c.name}`).toMatch(/:[\w][\w.-]*$|@sha256:/);
        }
      }
    });

    it('automountServiceAccountToken is off for pods that do not call the API server', () => {
      for (const pod of pods.filter((p) => !p.owner.metadata.name.includes('operator'))) {
        expect(pod.template.spec.automountServiceAccountToken, id(pod.owner)).toBe(false);
      }
    });

    it('topologySpreadConstraint: the cache nodes spread across hosts', () => {
      const redis = objects.find((o) => o.kind === 'StatefulSet');
      expect(redis?.spec.template.spec.topologySpreadConstraints?.[0]).toMatchObject({
        maxSkew: 1,
        topologyKey: 'kubernetes.io/hostname',
        whenUnsatisfiable: 'DoNotSchedule',
      });
    });
  });

  it('every namespaced object lives in the stack namespace', () => {
    const ns = objects.find((o) => o.kind === 'Namespace')?.metadata.name;
    for (const o of objects.filter((o) => !['Namespace', 'CustomResourceDefinition'].includes(o.kind))) {
      expect(o.metadata.namespace, id(o)).toBe(ns);
    }
  });
});
