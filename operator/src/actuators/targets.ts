/**
 * The knobs where they live (design.md): the pool in the API's tuning ConfigMap (DB_POOL_SIZE and
 * DB_MAX_OVERFLOW by default) or in its container's env vars, or nowhere tuned (spec.targetRef.pool);
 * minReplicas and maxReplicas in its HPA, or in the KEDA ScaledObject that owns the HPA; the CPU
 * target in the HPA's `spec.metrics` (the Resource cpu metric of type Utilization). Reading
 * them is the observe step (from the operator's informer caches, as controller-runtime's cached
 * client reads, or from the API server through {@link apiTargetReader}); writing them is
 * replica-bounds.ts, scaled-object-bounds.ts, pool-settings.ts and pool-env.ts (server-side apply
 * with field manager `perfpilot`); applyKnobs composes them for the finalizer's restore.
 */
import type {
  V1ConfigMap,
  V1Deployment,
  V2HorizontalPodAutoscaler,
  V2HPAScalingRules,
} from '@kubernetes/client-node';
// client-node's Quantity parser: its package has no exports map, and its index leaves this out.
import { quantityToScalar } from '@kubernetes/client-node/dist/util.js';
import {
  hpaNameOf,
  type Knob,
  type KnobValues,
  type PerformanceProfile,
  type PoolPlace,
  poolPlaceOf,
  requestRateMetricOf,
} from '../api/v1alpha1/index.ts';
import { DEFAULT_HPA_TOLERANCE } from '../tuning/tuning-spec.ts';
import type { HpaTolerance } from '../tuning/types.ts';
import type { TargetClients } from './context.ts';
import { applyPoolEnv, readPoolEnv } from './pool-env.ts';
import { applyPoolSettings, parsePoolKnob } from './pool-settings.ts';
import {
  applyReplicaBounds,
  cpuUtilizationTargetOf,
  hpaTargetNotActuatable,
  rateTargetNotActuatable,
  requestRateTargetOf,
  scaledObjectOwnerOf,
} from './replica-bounds.ts';
import {
  applyScaledObjectBounds,
  readScaledObject,
  type ScaledObject,
  scaledObjectBounds,
} from './scaled-object-bounds.ts';
import { readIfExists } from './server-side-apply.ts';

/** What the observe step found of a profile's target. */
export interface ObservedTarget {
  readonly deployment?: V1Deployment;
  readonly hpa?: V2HorizontalPodAutoscaler;
  /** configMap is the pool's ConfigMap (the ConfigMap form only). */
  readonly configMap?: V1ConfigMap;
  /** scaledObject is the KEDA ScaledObject that owns the HPA, when one does. */
  readonly scaledObject?: ScaledObject;
  /** missing names each object that does not exist, e.g. `HorizontalPodAutoscaler risk-api`. */
  readonly missing: readonly string[];
  /** problems names values that exist but cannot be read, e.g. a non-numeric DB_POOL_SIZE. */
  readonly problems: readonly string[];
  /** current holds the knob values read; a knob that could not be read is absent. */
  readonly current: KnobValues;
  /**
   * untunedKnobs are the knobs the target keeps the operator from writing, with the reason (a pool
   * env var set from valueFrom, or missing); the other knobs are still tuned.
   */
  readonly untunedKnobs?: Readonly<Partial<Record<Knob, string>>>;
}

/** A read of one object by namespace and name: undefined when it does not exist. */
export type ObjectRead<T> = (namespace: string, name: string) => Promise<T | undefined> | T | undefined;

/** TargetReader reads the objects of a profile's target. */
export interface TargetReader {
  readonly deployment: ObjectRead<V1Deployment>;
  readonly hpa: ObjectRead<V2HorizontalPodAutoscaler>;
  readonly configMap: ObjectRead<V1ConfigMap>;
  /** scaledObject reads KEDA ScaledObjects. @default none is found, as without KEDA */
  readonly scaledObject?: ObjectRead<ScaledObject>;
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
    scaledObject: async (namespace, name) => await readScaledObject(clients, { namespace, name }),
  };
}

/**
 * scaledObjectNameOf is the KEDA ScaledObject whose bounds are tuned: spec.targetRef.scaledObjectName,
 * else the one that owns the HPA; undefined when KEDA does not own it.
 */
export function scaledObjectNameOf(
  profile: PerformanceProfile,
  hpa: V2HorizontalPodAutoscaler | undefined,
): string | undefined {
  return profile.spec.targetRef.scaledObjectName ?? scaledObjectOwnerOf(hpa);
}

/**
 * observeTarget reads the Deployment, its HPA (and the KEDA ScaledObject that owns it), the
 * pool's place (its ConfigMap, or the Deployment's env), and the knobs they hold.
 */
export async function observeTarget(
  read: TargetReader,
  profile: PerformanceProfile,
): Promise<ObservedTarget> {
  const namespace = profile.metadata.namespace ?? 'default';
  const { targetRef } = profile.spec;
  const hpaName = hpaNameOf(targetRef);
  const place = poolPlaceOf(targetRef);
  const [deployment, hpa, configMap] = await Promise.all([
    read.deployment(namespace, targetRef.name),
    read.hpa(namespace, hpaName),
    place.kind === 'configMap' ? read.configMap(namespace, place.name) : undefined,
  ]);
  const scaledObjectName = scaledObjectNameOf(profile, hpa);
  const scaledObject =
    scaledObjectName === undefined ? undefined : await read.scaledObject?.(namespace, scaledObjectName);
  const missing: string[] = [];
  if (!deployment) missing.push(`Deployment ${targetRef.name}`);
  if (!hpa) missing.push(`HorizontalPodAutoscaler ${hpaName}`);
  if (place.kind === 'configMap' && !configMap) missing.push(`ConfigMap ${place.name}`);
  if (scaledObjectName !== undefined && !scaledObject) missing.push(`ScaledObject ${scaledObjectName}`);
  const problems: string[] = [];
  const current: KnobValues = {};
  const untunedKnobs: Partial<Record<Knob, string>> = {};
  if (scaledObject) {
    // KEDA writes the HPA from these: they are the bounds in force.
    Object.assign(current, scaledObjectBounds(scaledObject));
  } else if (hpa?.spec) {
    // An HPA without minReplicas scales down to 1, the API's documented default.
    current.minReplicas = hpa.spec.minReplicas ?? 1;
    current.maxReplicas = hpa.spec.maxReplicas;
  }
  // The CPU target in force, read even where it is not tuned: every rule turns load into replicas with it.
  const cpuTarget = cpuUtilizationTargetOf(hpa);
  if (cpuTarget !== undefined) current.hpaTargetCpuPercent = cpuTarget;
  // The request-rate target, where the profile names its metric: read even where KEDA holds it.
  const rateMetric = requestRateMetricOf(profile);
  const hpaTargetHeld =
    hpa && profile.spec.knobs.hpaTarget !== undefined
      ? hpaTargetNotActuatable(hpa, scaledObjectName, rateMetric !== undefined)
      : undefined;
  if (hpaTargetHeld !== undefined) untunedKnobs.hpaTargetCpuPercent = hpaTargetHeld;
  const rateTarget = rateMetric === undefined ? undefined : requestRateTargetOf(hpa, rateMetric);
  if (rateTarget !== undefined) current.hpaTargetRequestsPerPod = rateTarget;
  const rateHeld =
    hpa && rateMetric !== undefined ? rateTargetNotActuatable(hpa, rateMetric, scaledObjectName) : undefined;
  if (rateHeld !== undefined) untunedKnobs.hpaTargetRequestsPerPod = rateHeld;
  if (place.kind === 'configMap' && configMap) {
    const keys = [
      [place.sizeKey, 'poolSize'],
      ...(place.overflowKey === undefined ? [] : [[place.overflowKey, 'maxOverflow'] as const]),
    ] as const;
    if (place.overflowKey === undefined) current.maxOverflow = 0;
    for (const [key, knob] of keys) {
      const raw = configMap.data?.[key];
      const value = parsePoolKnob(raw);
      if (value !== undefined) current[knob] = value;
      else
        problems.push(
          `ConfigMap ${place.name} ${key} is ${raw === undefined ? 'missing' : `"${raw}"`}, not a whole number ≥ 0`,
        );
    }
  }
  if (place.kind === 'env' && deployment) {
    const reading = readPoolEnv(deployment, poolEnvTargetOf(namespace, targetRef.name, place));
    if (reading.kind === 'notActuatable') {
      untunedKnobs.poolSize = reading.message;
      untunedKnobs.maxOverflow = reading.message;
    } else {
      Object.assign(current, reading.pool);
      problems.push(...reading.problems);
    }
  }
  return {
    deployment,
    hpa,
    configMap,
    ...(scaledObject ? { scaledObject } : {}),
    missing,
    problems,
    current,
    ...(Object.keys(untunedKnobs).length > 0 ? { untunedKnobs } : {}),
  };
}

/** poolEnvTargetOf is the env form's place on a Deployment. */
export function poolEnvTargetOf(
  namespace: string,
  deployment: string,
  place: Extract<PoolPlace, { kind: 'env' }>,
) {
  return {
    namespace,
    deployment,
    container: place.container,
    sizeVar: place.sizeVar,
    ...(place.overflowVar === undefined ? {} : { overflowVar: place.overflowVar }),
  };
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
  const observed = await observeTarget(apiTargetReader(clients), profile);
  const { current } = observed;
  const changed: string[] = [];
  const force = { force: true };
  // Server-side apply removes fields this manager applied before and omits now, so every apply
  // names all the knobs of its object, changed or not.
  const minReplicas = values.minReplicas ?? current.minReplicas;
  const maxReplicas = values.maxReplicas ?? current.maxReplicas;
  // Where the CPU target is tuned, perfpilot may own the metrics list: the restore carries it.
  const cpu =
    profile.spec.knobs.hpaTarget !== undefined && observed.untunedKnobs?.hpaTargetCpuPercent === undefined
      ? (values.hpaTargetCpuPercent ?? current.hpaTargetCpuPercent)
      : undefined;
  const rateMetric = requestRateMetricOf(profile);
  const rate =
    rateMetric !== undefined && observed.untunedKnobs?.hpaTargetRequestsPerPod === undefined
      ? (values.hpaTargetRequestsPerPod ?? current.hpaTargetRequestsPerPod)
      : undefined;
  if (minReplicas !== undefined && maxReplicas !== undefined) {
    const bounds = {
      minReplicas,
      maxReplicas,
      ...(cpu !== undefined ? { cpuUtilizationPercent: cpu } : {}),
      ...(rateMetric !== undefined && rate !== undefined
        ? { requestRate: { metricName: rateMetric, perPod: rate } }
        : {}),
    };
    const scaledObject = observed.scaledObject?.metadata?.name;
    // A KEDA-owned HPA is KEDA's: the bounds go back to its ScaledObject.
    const result = scaledObject
      ? await applyScaledObjectBounds({ clients }, { namespace, name: scaledObject }, bounds, force)
      : await applyReplicaBounds({ clients }, { namespace, name: hpaNameOf(targetRef) }, bounds, force);
    if (result.kind === 'conflict') throw new Error(`restore refused on ${result.object}: ${result.message}`);
    if (result.kind === 'applied') changed.push(result.object);
  }
  const poolSize = values.poolSize ?? current.poolSize;
  const maxOverflow = values.maxOverflow ?? current.maxOverflow ?? 0;
  const place = poolPlaceOf(targetRef);
  if (poolSize !== undefined && place.kind !== 'none') {
    const settings = { poolSize, maxOverflow };
    const guard = { now, cooldownSeconds: 0 };
    const result =
      place.kind === 'env'
        ? await applyPoolEnv(
            { clients },
            poolEnvTargetOf(namespace, targetRef.name, place),
            settings,
            guard,
            force,
          )
        : await applyPoolSettings(
            { clients },
            {
              namespace,
              deployment: targetRef.name,
              configMap: place.name,
              keys: { size: place.sizeKey, ...(place.overflowKey ? { overflow: place.overflowKey } : {}) },
            },
            settings,
            guard,
            force,
          );
    if (result.kind === 'conflict') throw new Error(`restore refused on ${result.object}: ${result.message}`);
    if (result.kind === 'applied') changed.push(...result.changed);
  }
  return changed;
}

/** A direction's tolerance as a number, or undefined where unset or not a non-negative Quantity. */
export function scalingToleranceOf(rules: V2HPAScalingRules | undefined): number | undefined {
  if (rules?.tolerance === undefined) return undefined;
  try {
    const value = Number(quantityToScalar(String(rules.tolerance)));
    return Number.isFinite(value) && value >= 0 ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * hpaToleranceOfObject is the HPA's tolerance per direction where its `spec.behavior` sets one
 * (KEP-4951, GA in v1.37), the cluster's default for the other; undefined where it sets neither.
 */
export function hpaToleranceOfObject(hpa: V2HorizontalPodAutoscaler | undefined): HpaTolerance | undefined {
  const scaleUp = scalingToleranceOf(hpa?.spec?.behavior?.scaleUp);
  const scaleDown = scalingToleranceOf(hpa?.spec?.behavior?.scaleDown);
  if (scaleUp === undefined && scaleDown === undefined) return undefined;
  return {
    scaleUp: scaleUp ?? DEFAULT_HPA_TOLERANCE.scaleUp,
    scaleDown: scaleDown ?? DEFAULT_HPA_TOLERANCE.scaleDown,
  };
}
