/**
 * Fixtures for the operator's integration tests: the CRD from crds/, and a target stack (the
 * API Deployment, its HPA and tuning ConfigMap) as the toolkit would deploy it, built with
 * chainable builders. Used by benchmarks too, so nothing here depends on the test runner.
 */
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ApiextensionsV1Api,
  AppsV1Api,
  AutoscalingV2Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  PatchStrategy,
} from '@kubernetes/client-node';
import {
  API_VERSION,
  CRD_NAME,
  GROUP,
  KIND,
  type PerformanceProfile,
  PLURAL,
  VERSION,
} from '../../operator/src/api/v1alpha1/index.ts';
import type { ControlPlane } from '../cluster/control-plane.ts';
import { waitFor } from '../cluster/processes.ts';

const crdPath = fileURLToPath(new URL('../../crds/performanceprofiles.perfpilot.dev.yaml', import.meta.url));

/**
 * installCrd applies the committed PerformanceProfile CRD with kubectl and waits until it is
 * Established. (client-node's typed CRD model would drop the schema's `default` and
 * `x-kubernetes-*` keys of a plain YAML object, so the file goes through kubectl as it is.)
 */
export async function installCrd(cp: ControlPlane): Promise<void> {
  await cp.kubectl(['apply', '--server-side', '--field-manager=perfpilot-test', '-f', crdPath]);
  const api = cp.kubeConfig.makeApiClient(ApiextensionsV1Api);
  await waitFor(
    `${CRD_NAME} Established`,
    async () => {
      const got = await api.readCustomResourceDefinition({ name: CRD_NAME });
      return got.status?.conditions?.find((c) => c.type === 'Established')?.status === 'True'
        ? true
        : undefined;
    },
    { timeoutMs: 20_000 },
  );
}

/** Knob values of a target stack. */
export interface StackKnobs {
  poolSize: number;
  maxOverflow: number;
  minReplicas: number;
  maxReplicas: number;
}

/** SEED_KNOBS are the toolkit's defaults: pool 20 + 30, HPA 2..10. */
export const SEED_KNOBS: StackKnobs = { poolSize: 20, maxOverflow: 30, minReplicas: 2, maxReplicas: 10 };
/** The CPU utilization target of a target stack's HPA, in percent (the operator reads it as a knob). */
export const STACK_HPA_TARGET_PERCENT = 70;
/** SEED_KNOBS with the HPA's CPU target: what the operator observes on a seed stack. */
export const SEED_KNOBS_OBSERVED = { ...SEED_KNOBS, hpaTargetCpuPercent: STACK_HPA_TARGET_PERCENT };

/** Options of createTargetStack. */
export interface TargetStackOptions {
  /** replicas of the Deployment when created. @default unset (1, until the HPA scales it) */
  readonly replicas?: number;
  /** cpuRequest of the API container, e.g. `1`; an HPA's CPU utilization needs one. @default none */
  readonly cpuRequest?: string;
  /** hpa: create the HPA (false: the test writes its own). @default true */
  readonly hpa?: boolean;
}

/** createTargetStack creates the API Deployment `name`, its HPA and `<name>-tuning` ConfigMap. */
export async function createTargetStack(
  kubeConfig: KubeConfig,
  namespace: string,
  name: string,
  knobs: StackKnobs = SEED_KNOBS,
  options: TargetStackOptions = {},
): Promise<void> {
  const labels = { 'app.kubernetes.io/name': name };
  await kubeConfig.makeApiClient(CoreV1Api).createNamespacedConfigMap({
    namespace,
    body: {
      metadata: { name: `${name}-tuning` },
      data: {
        DB_POOL_SIZE: String(knobs.poolSize),
        DB_MAX_OVERFLOW: String(knobs.maxOverflow),
        ASYNC_WORKERS: '4',
      },
    },
  });
  await kubeConfig.makeApiClient(AppsV1Api).createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name, labels },
      spec: {
        ...(options.replicas !== undefined ? { replicas: options.replicas } : {}),
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            securityContext: {
              runAsNonRoot: true,
              runAsUser: 10001,
              seccompProfile: { type: 'RuntimeDefault' },
            },
            containers: [
              {
                name: 'api',
                image: 'ghcr.io/perfpilot/risk-api:0.1.0',
                envFrom: [{ configMapRef: { name: `${name}-tuning` } }],
                ...(options.cpuRequest !== undefined
                  ? { resources: { requests: { cpu: options.cpuRequest } } }
                  : {}),
                securityContext: {
                  allowPrivilegeEscalation: false,
                  capabilities: { drop: ['ALL'] },
                  readOnlyRootFilesystem: true,
                },
              },
            ],
          },
        },
      },
    },
  });
  if (options.hpa === false) return;
  await kubeConfig.makeApiClient(AutoscalingV2Api).createNamespacedHorizontalPodAutoscaler({
    namespace,
    body: {
      metadata: { name },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
        minReplicas: knobs.minReplicas,
        maxReplicas: knobs.maxReplicas,
        metrics: [
          {
            type: 'Resource',
            resource: {
              name: 'cpu',
              target: { type: 'Utilization', averageUtilization: STACK_HPA_TARGET_PERCENT },
            },
          },
        ],
      },
    },
  });
}

/** readStackKnobs reads the knobs back from the HPA and the tuning ConfigMap. */
export async function readStackKnobs(
  kubeConfig: KubeConfig,
  namespace: string,
  name: string,
): Promise<StackKnobs> {
  const hpa = await kubeConfig
    .makeApiClient(AutoscalingV2Api)
    .readNamespacedHorizontalPodAutoscaler({ namespace, name });
  const cm = await kubeConfig
    .makeApiClient(CoreV1Api)
    .readNamespacedConfigMap({ namespace, name: `${name}-tuning` });
  return {
    poolSize: Number(cm.data?.DB_POOL_SIZE),
    maxOverflow: Number(cm.data?.DB_MAX_OVERFLOW),
    minReplicas: hpa.spec?.minReplicas ?? 1,
    maxReplicas: hpa.spec?.maxReplicas ?? 0,
  };
}

/** A PerformanceProfile under construction. */
export class ProfileBuilder {
  readonly #profile: PerformanceProfile;

  constructor(namespace: string, name: string, target: string) {
    this.#profile = {
      apiVersion: API_VERSION,
      kind: KIND,
      metadata: { namespace, name },
      spec: { targetRef: { name: target } } as PerformanceProfile['spec'],
    };
  }

  /** mode sets spec.mode. */
  mode(mode: 'Observe' | 'Recommend' | 'Auto'): this {
    this.#profile.spec.mode = mode;
    return this;
  }

  /** paused sets the pause annotation. */
  paused(): this {
    this.#profile.metadata.annotations = {
      ...this.#profile.metadata.annotations,
      'perfpilot.dev/paused': 'true',
    };
    return this;
  }

  /** build returns the object to create. */
  build(): PerformanceProfile {
    return structuredClone(this.#profile);
  }
}

/** profiles wraps CustomObjectsApi for PerformanceProfiles. */
export function profileApi(kubeConfig: KubeConfig) {
  const custom = kubeConfig.makeApiClient(CustomObjectsApi);
  const base = { group: GROUP, version: VERSION, plural: PLURAL };
  return {
    create: async (profile: PerformanceProfile) =>
      (await custom.createNamespacedCustomObject({
        ...base,
        namespace: profile.metadata.namespace ?? 'default',
        body: profile,
      })) as PerformanceProfile,
    get: async (namespace: string, name: string) =>
      (await custom.getNamespacedCustomObject({ ...base, namespace, name })) as PerformanceProfile,
    /**
     * update reads the profile, changes it and replaces it, again from a fresh read when the
     * operator wrote in between (409), as `kubectl edit` makes a person do.
     */
    update: async (namespace: string, name: string, change: (profile: PerformanceProfile) => void) => {
      for (let attempt = 1; ; attempt++) {
        const profile = (await custom.getNamespacedCustomObject({
          ...base,
          namespace,
          name,
        })) as PerformanceProfile;
        change(profile);
        try {
          return (await custom.replaceNamespacedCustomObject({
            ...base,
            namespace,
            name,
            body: profile,
          })) as PerformanceProfile;
        } catch (err) {
          if ((err as { code?: number }).code !== 409 || attempt >= 10) throw err;
        }
      }
    },
    delete: async (namespace: string, name: string) =>
      await custom.deleteNamespacedCustomObject({ ...base, namespace, name }),
  };
}

/** kubectlApplyYaml writes `yaml` to the control plane's run directory and runs `kubectl apply <args> -f` on it. */
export async function kubectlApplyYaml(
  cp: ControlPlane,
  name: string,
  yaml: string,
  args: readonly string[] = [],
): Promise<void> {
  const path = join(cp.dir, name);
  writeFileSync(path, yaml);
  await cp.kubectl(['apply', ...args, '-f', path]);
}

/**
 * TUNED_FIELDS_REMOVED are the kustomize patches of the GitOps guide's overlay (docs/guides/gitops.md): the stack without the
 * fields perfpilot tunes, so that once perfpilot co-owns them, applying the overlay leaves it the
 * only owner.
 */
export const TUNED_FIELDS_REMOVED = `patches:
  - target: { kind: HorizontalPodAutoscaler, name: risk-api }
    patch: |
      - op: remove
        path: /spec/minReplicas
      - op: remove
        path: /spec/maxReplicas
  - target: { kind: ConfigMap, name: risk-api-tuning }
    patch: |
      - op: remove
        path: /data/DB_POOL_SIZE
      - op: remove
        path: /data/DB_MAX_OVERFLOW
  - target: { kind: Deployment, name: risk-api }
    patch: |
      - op: remove
        path: /spec/template/metadata/annotations/perfpilot.dev~1config-hash
  - target: { kind: ConfigMap, name: redis-cluster-config }
    patch: |
      - op: remove
        path: /data/maxmemory.conf
`;

/**
 * handOverToPerfpilot runs the GitOps guide's hand-over for the manifest files given (paths): the files
 * by server-side apply (kubectl takes what client-side apply owned), `coOwned` (the tuned fields at
 * their current values) as perfpilot, then the files without the tuned fields, so kubectl lets go
 * of them and perfpilot is their only manager.
 */
export async function handOverToPerfpilot(
  cp: ControlPlane,
  files: readonly string[],
  coOwned: string,
): Promise<void> {
  for (const file of files) await cp.kubectl(['apply', '--server-side', '--force-conflicts', '-f', file]);
  await kubectlApplyYaml(cp, 'co-owned.yaml', coOwned, ['--server-side', '--field-manager=perfpilot']);
  const base = join(cp.dir, 'handover-base');
  const overlay = join(cp.dir, 'handover-overlay');
  rmSync(base, { recursive: true, force: true });
  mkdirSync(base);
  mkdirSync(overlay, { recursive: true });
  const names = files.map((file, i) => {
    const name = `${i}-${basename(file)}`;
    copyFileSync(file, join(base, name));
    return name;
  });
  writeFileSync(join(base, 'kustomization.yaml'), `resources:\n${names.map((n) => `  - ${n}`).join('\n')}\n`);
  writeFileSync(
    join(overlay, 'kustomization.yaml'),
    `resources:\n  - ../handover-base\n${TUNED_FIELDS_REMOVED}`,
  );
  await cp.kubectl(['apply', '--server-side', '-k', overlay]);
}

/** applyAs server-side applies `object` as field manager `manager`, taking fields from other managers with `force`. */
export async function applyAs(
  kubeConfig: KubeConfig,
  manager: string,
  object: object,
  force = false,
): Promise<void> {
  await KubernetesObjectApi.makeApiClient(kubeConfig).patch(
    object as KubernetesObject,
    undefined,
    undefined,
    manager,
    force,
    PatchStrategy.ServerSideApply,
  );
}

/**
 * claimTunedFields makes perfpilot the only manager of the fields it tunes on a target stack
 * (the HPA's bounds and the tuning ConfigMap's pool keys), as the GitOps guide's hand-over leaves them.
 * The stack's creator (a plain create) cannot let go of a field by omitting it, so perfpilot
 * takes the fields with force at other values (a forced apply of an equal value would leave them
 * shared with the creator), then applies the stack's values; minReplicas goes down, not up, so
 * the HPA does not scale the Deployment meanwhile (its scale-down waits 5 minutes).
 */
export async function claimTunedFields(
  kubeConfig: KubeConfig,
  namespace: string,
  name: string,
  knobs: StackKnobs,
): Promise<void> {
  const objects = KubernetesObjectApi.makeApiClient(kubeConfig);
  const apply = (object: object, force: boolean) =>
    objects.patch(
      object as KubernetesObject,
      undefined,
      undefined,
      'perfpilot',
      force,
      PatchStrategy.ServerSideApply,
    );
  for (const [k, force] of [
    [
      {
        ...knobs,
        minReplicas: Math.max(1, knobs.minReplicas - 1),
        maxReplicas: knobs.maxReplicas + 1,
        poolSize: knobs.poolSize + 1,
        maxOverflow: knobs.maxOverflow + 1,
      },
      true,
    ],
    [knobs, false],
  ] as const) {
    await apply(
      {
        apiVersion: 'autoscaling/v2',
        kind: 'HorizontalPodAutoscaler',
        metadata: { name, namespace },
        spec: { minReplicas: k.minReplicas, maxReplicas: k.maxReplicas },
      },
      force,
    );
    await apply(
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: `${name}-tuning`, namespace },
        data: { DB_POOL_SIZE: String(k.poolSize), DB_MAX_OVERFLOW: String(k.maxOverflow) },
      },
      force,
    );
  }
}
