/**
 * The knobs where they live (design.md): DB_POOL_SIZE and DB_MAX_OVERFLOW in the API's tuning
 * ConfigMap, minReplicas and maxReplicas in its HPA. Reading them is the observe step (from the
 * operator's informer caches, as controller-runtime's cached client reads, or from the API server
 * through {@link apiTargetReader}); writing them is replica-bounds.ts and pool-settings.ts
 * (server-side apply with field manager `perfpilot`); applyKnobs composes them for the
 * finalizer's restore.
 */
import type { V1ConfigMap, V1Deployment, V2HorizontalPodAutoscaler } from '@kubernetes/client-node';
import {
  configMapNameOf,
  hpaNameOf,
  type KnobValues,
  type PerformanceProfile,
} from '../api/v1alpha1/index.ts';
import type { TargetClients } from './context.ts';
import { applyPoolSettings, MAX_OVERFLOW_KEY, POOL_SIZE_KEY, parsePoolKnob } from './pool-settings.ts';
import { applyReplicaBounds } from './replica-bounds.ts';
import { readIfExists } from './server-side-apply.ts';

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

/** A read of one object by namespace and name: undefined when it does not exist. */
export type ObjectRead<T> = (namespace: string, name: string) => Promise<T | undefined> | T | undefined;

/** TargetReader reads the objects of a profile's target. */
export interface TargetReader {
  readonly deployment: ObjectRead<V1Deployment>;
  readonly hpa: ObjectRead<V2HorizontalPodAutoscaler>;
  readonly configMap: ObjectRead<V1ConfigMap>;
}

/** apiTargetReader reads the target from the API server: one GET per object. */
export function apiTargetReader(clients: TargetClients): TargetReader {
  return {
    deployment: async (namespace, name) =>
      await readIfExists(() => clients.apps.readNamespacedDeployment({ namespace, name })),
    hpa: async (namespace, name) =>
      await readIfExists(() =>
        clients.autoscaling.readNamespacedHorizontalPodAutoscaler({ namespace, name }),
      ),
    configMap: async (namespace, name) =>
      await readIfExists(() => clients.core.readNamespacedConfigMap({ namespace, name })),
  };
}

/** observeTarget reads the Deployment, its HPA and its tuning ConfigMap, and the knobs they hold. */
export async function observeTarget(
  read: TargetReader,
  profile: PerformanceProfile,
): Promise<ObservedTarget> {
  const namespace = profile.metadata.namespace ?? 'default';
  const { targetRef } = profile.spec;
  const hpaName = hpaNameOf(targetRef);
  const configMapName = configMapNameOf(targetRef);
  const [deployment, hpa, configMap] = await Promise.all([
    read.deployment(namespace, targetRef.name),
    read.hpa(namespace, hpaName),
    read.configMap(namespace, configMapName),
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
      const value = parsePoolKnob(raw);
      if (value !== undefined) current[knob] = value;
      else
        problems.push(
          `ConfigMap ${configMapName} ${key} is ${raw === undefined ? 'missing' : `"${raw}"`}, not a whole number ≥ 0`,
        );
    }
  }
  return { deployment, hpa, configMap, missing, problems, current };
}

/**
 * applyKnobs writes the given knobs to the target, forcing the fields back from other managers:
 * it restores the original knobs when a profile in Auto mode is deleted, which its owner asked
 * for. HPA bounds, then the pool knobs with a roll of the pods (no cooldown: this is the last
 * change). Knobs left undefined keep their current values. Returns the names of the objects changed.
 * Forcing takes fields from other managers, but an apply that would remove fields perfpilot owns
 * by mistake is still refused: that throws, so the finalizer stays until the owner fixes it.
 */
export async function applyKnobs(
  clients: TargetClients,
  profile: PerformanceProfile,
  values: KnobValues,
  now: Date,
): Promise<string[]> {
  const namespace = profile.metadata.namespace ?? 'default';
  const { targetRef } = profile.spec;
  // Read fresh, not from a cache: these values decide what the restore writes.
  const { current } = await observeTarget(apiTargetReader(clients), profile);
  const changed: string[] = [];
  const force = { force: true };
  // Server-side apply removes fields this manager applied before and omits now, so every apply
  // names all the knobs of its object, changed or not.
  const minReplicas = values.minReplicas ?? current.minReplicas;
  const maxReplicas = values.maxReplicas ?? current.maxReplicas;
  if (minReplicas !== undefined && maxReplicas !== undefined) {
    const hpa = { namespace, name: hpaNameOf(targetRef) };
    const result = await applyReplicaBounds({ clients }, hpa, { minReplicas, maxReplicas }, force);
    if (result.kind === 'conflict') throw new Error(`restore refused on ${result.object}: ${result.message}`);
    if (result.kind === 'applied') changed.push(result.object);
  }
  const poolSize = values.poolSize ?? current.poolSize;
  const maxOverflow = values.maxOverflow ?? current.maxOverflow;
  if (poolSize !== undefined && maxOverflow !== undefined) {
    const target = { namespace, deployment: targetRef.name, configMap: configMapNameOf(targetRef) };
    const result = await applyPoolSettings(
      { clients },
      target,
      { poolSize, maxOverflow },
      { now, cooldownSeconds: 0 },
      force,
    );
    if (result.kind === 'conflict') throw new Error(`restore refused on ${result.object}: ${result.message}`);
    if (result.kind === 'applied') changed.push(...result.changed);
  }
  return changed;
}
