/**
 * Policy over everything `perfpilot synth` produces, on the default stack and on a stack with
 * monitoring off and other values changed, so a rule cannot hold only by accident of the defaults.
 *
 * kube-score, built from its Go module (test/tools/build.sh), scores the synthesized manifests:
 * every check below "all OK" fails the test, except the rules disabled below, each with its
 * reason. The hand-written checks after it are only those no tool we run checks: the Pod Security
 * Standards restricted profile on a stack no API server admits (the committed manifests also pass
 * the real admission in test/integration/manifests-dry-run.test.ts), the rules of kube-linter and
 * Polaris that kube-score lacks (neither is served by the Go module proxy, so neither is built
 * here), and that the NetworkPolicies let through every path between the stack's pods that one
 * side of it allows.
 */

import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { manifestCheckers } from '../../test/tools/binaries.ts';
import { defaultValues, resolveValues } from './load-values.ts';
import { METRICS_AUTH_RULES } from './metrics-auth-role.ts';
import { OPERATOR_NAME } from './operator.ts';
import { renderStack } from './synth.ts';
import type { Values } from './values.ts';

const run = promisify(execFile);

/**
 * KUBE_SCORE_DISABLED are the kube-score checks the stack does not follow, each with its reason.
 * The test also fails when a disabled check finds nothing any more: then its reason is stale.
 */
const KUBE_SCORE_DISABLED: Readonly<Record<string, string>> = {
  'container-image-pull-policy':
    'Every image is pinned to a version tag (the values refuse an image without a tag or digest, ' +
    'or tagged latest, and container-image-tag checks the result), so IfNotPresent starts the ' +
    'same image as Always, and a pod still starts while the registry is unreachable.',
};

/**
 * KUBE_SCORE_OPTIONAL are the optional kube-score checks the stack follows, so they run too. The
 * other optional ones (requests equal to limits, for CPU, memory and ephemeral storage) stay off
 * as kube-score ships them: CPU limits above the requests let a pod take the slack of its node.
 */
const KUBE_SCORE_OPTIONAL = ['container-seccomp-profile', 'container-ports-check'];

/** kube-score's top grade; below it come almost OK (7), warning (5) and critical (1). */
const GRADE_ALL_OK = 10;

interface KubeScoreObject {
  readonly object_name: string;
  readonly checks: readonly {
    readonly check: { readonly id: string };
    readonly grade: number;
    readonly skipped: boolean;
    readonly comments: readonly { readonly path: string; readonly summary: string }[] | null;
  }[];
}

interface Finding {
  readonly check: string;
  readonly text: string;
}

/** kubeScore scores the stack's manifests/ files as one input, as a user runs it on the directory. */
async function kubeScore(values: Values): Promise<KubeScoreObject[]> {
  const [{ kubeScore: binary }, version] = await Promise.all([
    manifestCheckers(),
    readFile(new URL('../../test/cluster/KUBERNETES_VERSION', import.meta.url), 'utf8'),
  ]);
  const dir = await mkdtemp(join(tmpdir(), 'perfpilot-kube-score-'));
  try {
    const files = renderStack(values).filter(
      (f) => f.path.startsWith('manifests/') && !f.path.endsWith('/kustomization.yaml'),
    );
    const paths = files.map((f) => join(dir, f.path.replaceAll('/', '_')));
    await Promise.all(files.map((f, i) => writeFile(paths[i] ?? '', f.content)));
    const args = [
      'score',
      '--output-format=json',
      // kube-score takes the minor version only (stable-version compares API versions with it).
      `--kubernetes-version=${version.trim().split('.').slice(0, 2).join('.')}`,
      ...KUBE_SCORE_OPTIONAL.map((test) => `--enable-optional-test=${test}`),
      ...paths,
    ];
    // kube-score exits 1 when a check fails; its report is on stdout either way.
    const stdout = await run(binary, args, { maxBuffer: 16 * 1024 * 1024 }).then(
      (r) => r.stdout,
      (err: { stdout?: string; stderr?: string }) => {
        if (!err.stdout) throw new Error(`kube-score failed: ${err.stderr}`, { cause: err });
        return err.stdout;
      },
    );
    return JSON.parse(stdout) as KubeScoreObject[];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** findingsOf lists every check below all OK, with kube-score's own words. */
function findingsOf(report: readonly KubeScoreObject[]): Finding[] {
  return report.flatMap((o) =>
    o.checks
      .filter((c) => !c.skipped && c.grade < GRADE_ALL_OK)
      .map((c) => ({
        check: c.check.id,
        text: `${o.object_name}: ${c.check.id} (grade ${c.grade}): ${(c.comments ?? [])
          .map((m) => `${m.path} ${m.summary}`.trim())
          .join('; ')}`,
      })),
  );
}

type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  // biome-ignore lint/suspicious/noExplicitAny: manifests are checked structurally, field by field
  [k: string]: any;
};

function objectsOf(values: Values): Manifest[] {
  return renderStack(values)
    .filter((f) => !f.path.endsWith('/kustomization.yaml'))
    .flatMap((f) => parseAllDocuments(f.content).map((d) => d.toJS() as Manifest));
}

const stacks: Record<string, Values> = {
  default: defaultValues(),
  variant: resolveValues({
    namespace: 'risk',
    monitoring: { enabled: false },
    redis: { masters: 5, replicasPerMaster: 2, storageClassName: 'fast-ssd' },
    hpa: { minReplicas: 3, maxReplicas: 20 },
    // One operator replica is allowed, and kube-score's deployment-replicas rightly warns on it.
    operator: { replicas: 3, profile: { mode: 'Auto' } },
  }),
  'all-namespaces': resolveValues({
    operator: {
      watchNamespaces: ['*'],
      secretNames: ['shop-redis'],
      rbac: { aggregateToDefaultRoles: true },
    },
  }),
  'listed-namespaces': resolveValues({
    namespace: 'perfpilot',
    operator: { watchNamespaces: ['perfpilot', 'shop'], secretNames: ['shop-redis'] },
  }),
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

type Direction = 'Ingress' | 'Egress';
interface Peer {
  podSelector?: { matchLabels: Record<string, string> };
  namespaceSelector?: unknown;
}
interface Rule {
  from?: Peer[];
  to?: Peer[];
  ports?: { port: number }[];
}

/** peersOf are a rule's peers: `from` for ingress, `to` for egress; undefined means any address. */
const peersOf = (rule: Rule, direction: Direction) => (direction === 'Ingress' ? rule.from : rule.to);
const rulesOf = (policy: Manifest, direction: Direction): Rule[] =>
  (direction === 'Ingress' ? policy.spec.ingress : policy.spec.egress) ?? [];

/**
 * admits tells whether `pod`'s NetworkPolicies let traffic with `peer` on `port` through in
 * `direction`. As in Kubernetes, a pod that no policy of that direction selects admits anything,
 * and policies add up: one rule that allows it is enough.
 */
function admits(policies: Manifest[], pod: PodOf, direction: Direction, peer: PodOf, port: number): boolean {
  const governing = policies.filter(
    (p) =>
      p.spec.policyTypes.includes(direction) &&
      matches(p.spec.podSelector.matchLabels, pod.template.metadata.labels),
  );
  if (governing.length === 0) return true;
  return governing.some((p) =>
    rulesOf(p, direction).some((rule) => {
      const peers = peersOf(rule, direction);
      const peerAllowed =
        peers === undefined ||
        peers.some(
          (x) =>
            x.podSelector !== undefined &&
            x.namespaceSelector === undefined &&
            matches(x.podSelector.matchLabels, peer.template.metadata.labels),
        );
      return peerAllowed && (rule.ports === undefined || rule.ports.some((p) => p.port === port));
    }),
  );
}

describe.each(Object.entries(stacks))('policy over the synthesized %s stack', (_name, values) => {
  const objects = objectsOf(values);
  const pods = podsOf(objects);
  const longRunning = pods.filter((p) => p.owner.kind === 'Deployment' || p.owner.kind === 'StatefulSet');
  const policies = objects.filter((o) => o.kind === 'NetworkPolicy');

  it('synthesizes workloads to check', () => {
    expect(pods.length).toBeGreaterThanOrEqual(4);
  });

  describe('kube-score', () => {
    let report: KubeScoreObject[];
    // The first run builds kube-score from its module: one to two minutes on two cores.
    beforeAll(async () => {
      report = await kubeScore(values);
    }, 600_000);

    it('scores every workload of the stack, probes and NetworkPolicies included', () => {
      const scored = new Set(report.map((o) => o.object_name.split('/').at(-1)));
      for (const pod of pods) expect(scored, id(pod.owner)).toContain(pod.owner.metadata.name);
      const ran = report.flatMap((o) => o.checks.filter((c) => !c.skipped).map((c) => c.check.id));
      expect(ran).toEqual(
        expect.arrayContaining([
          'pod-probes-identical',
          'pod-networkpolicy',
          'networkpolicy-targets-pod',
          'container-security-context-readonlyrootfilesystem',
          'horizontalpodautoscaler-has-target',
          ...KUBE_SCORE_OPTIONAL,
        ]),
      );
    });

    it('finds nothing below all OK, but for the rules disabled with their reason', () => {
      const findings = findingsOf(report);
      expect(findings.filter((f) => !(f.check in KUBE_SCORE_DISABLED)).map((f) => f.text)).toEqual([]);
    });

    it('still finds what each disabled rule is about (a stale reason fails here)', () => {
      const found = new Set(findingsOf(report).map((f) => f.check));
      for (const check of Object.keys(KUBE_SCORE_DISABLED)) expect(found, check).toContain(check);
    });
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

  describe('kube-linter rules kube-score lacks', () => {
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
        for (const rule of role.rules.filter((r: { resources?: string[] }) =>
          (r.resources ?? []).includes('secrets'),
        )) {
          expect(rule.verbs, id(role)).toEqual(['get']);
          expect(rule.resourceNames?.length, id(role)).toBeGreaterThan(0);
        }
      }
      // Cluster-wide, only what holds no Secret: the metrics reader and the profile roles for
      // people, the reviews behind a secure /metrics (a scraper's token and access: nothing stored
      // is read or written), and the operator's own ClusterRole only when it tunes every namespace.
      const clusterWide = objects.filter((o) => o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding');
      const allNamespaces = values.operator.watchNamespaces.includes('*');
      const metricsAuth = `${OPERATOR_NAME}-metrics-auth`;
      expect(clusterWide.map(id).sort()).toEqual(
        [
          'ClusterRole/performanceprofiles-editor',
          'ClusterRole/performanceprofiles-viewer',
          'ClusterRole/perfpilot-metrics-reader',
          ...(values.operator.metricsSecure
            ? [`ClusterRole/${metricsAuth}`, `ClusterRoleBinding/${metricsAuth}`]
            : []),
          ...(allNamespaces
            ? ['ClusterRole/perfpilot-operator', 'ClusterRoleBinding/perfpilot-operator']
            : []),
        ].sort(),
      );
      for (const role of clusterWide.filter(
        (o) => o.kind === 'ClusterRole' && o.metadata.name === metricsAuth,
      )) {
        expect(role.rules, id(role)).toEqual([...METRICS_AUTH_RULES]);
      }
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
      for (const policy of policies) {
        for (const direction of ['Ingress', 'Egress'] as const) {
          for (const rule of rulesOf(policy, direction)) {
            for (const peer of peersOf(rule, direction) ?? []) {
              if (!peer.podSelector) continue;
              const selector = peer.podSelector.matchLabels;
              const matched = pods.some((p) => matches(selector, p.template.metadata.labels));
              expect(matched, `${id(policy)} ${JSON.stringify(peer.podSelector)}`).toBe(true);
            }
          }
        }
      }
    });
  });

  describe('Polaris rules kube-score lacks', () => {
    it('livenessProbeMissing: every long-running container, not only one per pod, has a liveness probe', () => {
      for (const pod of longRunning) {
        for (const c of pod.template.spec.containers) {
          expect(c.livenessProbe, `${id(pod.owner)} ${c.name}`).toBeTruthy();
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

  it('NetworkPolicies let through every path between the stack’s pods that one side allows', () => {
    const paths: string[] = [];
    const blocked: string[] = [];
    for (const policy of policies) {
      const selected = pods.filter((p) =>
        matches(policy.spec.podSelector.matchLabels, p.template.metadata.labels),
      );
      for (const direction of ['Ingress', 'Egress'] as const) {
        const other: Direction = direction === 'Ingress' ? 'Egress' : 'Ingress';
        for (const rule of rulesOf(policy, direction)) {
          for (const peer of peersOf(rule, direction) ?? []) {
            // Peers in other namespaces (Prometheus) are outside the stack.
            if (!peer.podSelector || peer.namespaceSelector) continue;
            const selector = peer.podSelector.matchLabels;
            for (const far of pods.filter((p) => matches(selector, p.template.metadata.labels))) {
              for (const near of selected) {
                for (const { port } of rule.ports ?? []) {
                  const [from, to] = direction === 'Ingress' ? [far, near] : [near, far];
                  const path = `${id(from.owner)} -> ${id(to.owner)}:${port}`;
                  paths.push(path);
                  if (!admits(policies, far, other, near, port)) blocked.push(path);
                }
              }
            }
          }
        }
      }
    }
    expect(paths.length).toBeGreaterThan(0);
    expect([...new Set(blocked)]).toEqual([]);
  });

  it('every namespaced object lives in the stack namespace, but the operator’s Roles in the namespaces it tunes', () => {
    const ns = objects.find((o) => o.kind === 'Namespace')?.metadata.name;
    const clusterScoped = ['Namespace', 'CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding'];
    const tuned = values.operator.watchNamespaces.filter((n) => n !== '*');
    for (const o of objects.filter((o) => !clusterScoped.includes(o.kind))) {
      const elsewhere =
        (o.kind === 'Role' || o.kind === 'RoleBinding') && tuned.includes(o.metadata.namespace ?? '');
      expect(elsewhere || o.metadata.namespace === ns, `${id(o)} in ${o.metadata.namespace}`).toBe(true);
    }
    for (const o of objects.filter((o) => clusterScoped.includes(o.kind))) {
      expect(o.metadata.namespace, id(o)).toBeUndefined();
    }
  });
});
