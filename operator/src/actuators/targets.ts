/**
 * The knobs where they live (design.md): DB_POOL_SIZE and DB_MAX_OVERFLOW in the API's tuning
 * ConfigMap, minReplicas and maxReplicas in its HPA. Reading them is the observe step; writing
 * them is server-side apply with field manager `perfpilot`, and a ConfigMap change rolls the
 * API's pods through the config-hash annotation on the Deployment's pod template.
 */
import {
  ApiException,
  AppsV1Api,
  AutoscalingV2Api,
  CoreV1Api,
  type KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  PatchStrategy,
  type V1ConfigMap,
  type V1Deployment,
  type V2HorizontalPodAutoscaler,
} from '@kubernetes/client-node';
import {
  CONFIG_HASH_ANNOTATION,
  configHash,
  configMapNameOf,
  FIELD_MANAGER,
  hpaNameOf,
  type KnobValues,
  type PerformanceProfile,
} from '../api/v1alpha1/index.ts';

/** The environment variables of the tuning ConfigMap that hold pool knobs. */
export const POOL_SIZE_KEY = 'DB_POOL_SIZE';
/** The environment variable of the tuning ConfigMap that holds the pool's overflow. */
export const MAX_OVERFLOW_KEY = 'DB_MAX_OVERFLOW';

/** The clients the actuators need. */
export interface TargetClients {
  readonly apps: AppsV1Api;
  readonly autoscaling: AutoscalingV2Api;
  readonly core: CoreV1Api;
  readonly objects: KubernetesObjectApi;
}

/** makeTargetClients builds the clients from a kubeconfig. */
export function makeTargetClients(kubeConfig: KubeConfig): TargetClients {
  return {
    apps: kubeConfig.makeApiClient(AppsV1Api),
    autoscaling: kubeConfig.makeApiClient(AutoscalingV2Api),
    core: kubeConfig.makeApiClient(CoreV1Api),
    objects: KubernetesObjectApi.makeApiClient(kubeConfig),
  };
}

/** What the observe step found of a profile's target. */
export interface ObservedTarget {
  readonly deployment?: V1Deployment;
  readonly hpa?: V2HorizontalPodAutoscaler;
  readonly configMap?: V1ConfigMap;
  /** missing names each object that does not exist, e.g. `HorizontalPodAutoscaler risk-api`. */
  readonly missing: readonly string[];
  /** problems names values that exist but cannot be read, e.g. a non-numeric DB_POOL_SIZE. */
  readonly problems: readonly string[];
  /** current holds the knob values read; a knob that could not be read is absent. */
  readonly current: KnobValues;
}

async function readOrMissing<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof ApiException && err.code === 404) return undefined;
    throw err;
  }
}

/** observeTarget reads the Deployment, its HPA and its tuning ConfigMap, and the knobs they hold. */
export async function observeTarget(
  clients: TargetClients,
  profile: PerformanceProfile,
): Promise<ObservedTarget> {
  const namespace = profile.metadata.namespace ?? 'default';
  const { targetRef } = profile.spec;
  const hpaName = hpaNameOf(targetRef);
  const configMapName = configMapNameOf(targetRef);
  const [deployment, hpa, configMap] = await Promise.all([
    readOrMissing(() => clients.apps.readNamespacedDeployment({ namespace, name: targetRef.name })),
    readOrMissing(() =>
      clients.autoscaling.readNamespacedHorizontalPodAutoscaler({ namespace, name: hpaName }),
    ),
    readOrMissing(() => clients.core.readNamespacedConfigMap({ namespace, name: configMapName })),
  ]);
  const missing: string[] = [];
  if (!deployment) missing.push(`Deployment ${targetRef.name}`);
  if (!hpa) missing.push(`HorizontalPodAutoscaler ${hpaName}`);
  if (!configMap) missing.push(`ConfigMap ${configMapName}`);
  const problems: string[] = [];
  const current: KnobValues = {};
  if (hpa?.spec) {
    // An HPA without minReplicas scales down to 1, the API's documented default.
    current.minReplicas = hpa.spec.minReplicas ?? 1;
    current.maxReplicas = hpa.spec.maxReplicas;
  }
  if (configMap) {
    for (const [key, knob] of [
      [POOL_SIZE_KEY, 'poolSize'],
      [MAX_OVERFLOW_KEY, 'maxOverflow'],
    ] as const) {
      const raw = configMap.data?.[key];
      const value = raw === undefined ? Number.NaN : Number(raw);
      if (Number.isInteger(value) && value >= 0) current[knob] = value;
      else
        problems.push(
          `ConfigMap ${configMapName} ${key} is ${raw === undefined ? 'missing' : `"${raw}"`}, not a whole number ≥ 0`,
        );
    }
  }
  return { deployment, hpa, configMap, missing, problems, current };
}

async function serverSideApply(clients: TargetClients, object: KubernetesObject): Promise<void> {
  await clients.objects.patch(
    object,
    undefined,
    undefined,
    FIELD_MANAGER,
    true,
    PatchStrategy.ServerSideApply,
  );
}

/**
 * applyKnobs writes the given knobs to the target: HPA bounds, and the pool knobs in the tuning
 * ConfigMap followed by the config-hash annotation that rolls the pods. Knobs left undefined are
 * not touched. Returns the names of the objects changed.
 */
export async function applyKnobs(
  clients: TargetClients,
  profile: PerformanceProfile,
  observed: ObservedTarget,
  values: KnobValues,
): Promise<string[]> {
  const namespace = profile.metadata.namespace ?? 'default';
  const { targetRef } = profile.spec;
  const changed: string[] = [];
  const { current } = observed;
  // Server-side apply removes fields this manager applied before and omits now, so every apply
  // names all the knobs of its object, changed or not.
  const minReplicas = values.minReplicas ?? current.minReplicas;
  const maxReplicas = values.maxReplicas ?? current.maxReplicas;
  if (
    (minReplicas !== current.minReplicas || maxReplicas !== current.maxReplicas) &&
    minReplicas !== undefined &&
    maxReplicas !== undefined
  ) {
    const name = hpaNameOf(targetRef);
    await serverSideApply(clients, {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name, namespace },
      spec: { minReplicas, maxReplicas },
    } as KubernetesObject);
    changed.push(`HorizontalPodAutoscaler ${name}`);
  }
  const poolSize = values.poolSize ?? current.poolSize;
  const maxOverflow = values.maxOverflow ?? current.maxOverflow;
  const pool: Record<string, string> = {};
  if (
    (poolSize !== current.poolSize || maxOverflow !== current.maxOverflow) &&
    poolSize !== undefined &&
    maxOverflow !== undefined
  ) {
    pool[POOL_SIZE_KEY] = String(poolSize);
    pool[MAX_OVERFLOW_KEY] = String(maxOverflow);
  }
  if (Object.keys(pool).length > 0) {
    const name = configMapNameOf(targetRef);
    await serverSideApply(clients, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name, namespace },
      data: pool,
    } as KubernetesObject);
    changed.push(`ConfigMap ${name}`);
    const data = { ...(observed.configMap?.data ?? {}), ...pool };
    await serverSideApply(clients, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: targetRef.name, namespace },
      spec: { template: { metadata: { annotations: { [CONFIG_HASH_ANNOTATION]: configHash(data) } } } },
    } as KubernetesObject);
    changed.push(`Deployment ${targetRef.name}`);
  }
  return changed;
}
