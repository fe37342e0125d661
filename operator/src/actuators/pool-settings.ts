/**
 * The pool actuator of the ConfigMap form (pool-env.ts is the env form): the pool's keys
 * (DB_POOL_SIZE and DB_MAX_OVERFLOW unless the profile names others) in the API's tuning ConfigMap, then the
 * config-hash annotation on the Deployment's pod template, which rolls the pods so they read the
 * new values. A roll restarts every API pod, so it happens at most once per cooldown: the time of
 * the last roll is kept on the Deployment itself (CONFIG_ROLLED_AT_ANNOTATION), not in the operator.
 */
import type { V1ConfigMap, V1Deployment } from '@kubernetes/client-node';
import {
  CONFIG_HASH_ANNOTATION,
  configHash,
  DEFAULT_MAX_OVERFLOW_KEY,
  DEFAULT_POOL_SIZE_KEY,
} from '../api/v1alpha1/index.ts';
import type { ActuatorContext } from './context.ts';
import {
  type ApplyOptions,
  applyFields,
  type FieldConflict,
  readIfExists,
  recordAnnotation,
  recordMetadata,
} from './server-side-apply.ts';

/** POOL_SIZE_KEY is the tuning ConfigMap's default key (an environment variable of the API) for the pool size. */
export const POOL_SIZE_KEY = DEFAULT_POOL_SIZE_KEY;
/** MAX_OVERFLOW_KEY is the tuning ConfigMap's default key for the pool's overflow. */
export const MAX_OVERFLOW_KEY = DEFAULT_MAX_OVERFLOW_KEY;

/** The keys of the pool in its ConfigMap. */
export interface PoolKeys {
  /** size is the pool size's key. */
  readonly size: string;
  /** overflow is the overflow's key; absent for a pool with a size only. */
  readonly overflow?: string;
}

/** DEFAULT_POOL_KEYS are the toolkit's keys, DB_POOL_SIZE and DB_MAX_OVERFLOW. */
export const DEFAULT_POOL_KEYS: PoolKeys = { size: POOL_SIZE_KEY, overflow: MAX_OVERFLOW_KEY };

/**
 * CONFIG_ROLLED_AT_ANNOTATION on the API Deployment (not its pod template) holds the RFC 3339 time
 * the operator last changed the config hash; the cooldown between two rolls counts from it.
 */
export const CONFIG_ROLLED_AT_ANNOTATION = 'perfpilot.dev/config-rolled-at';

/** The pool knobs, per API replica. */
export interface PoolSettings {
  /** poolSize is DB_POOL_SIZE. */
  readonly poolSize: number;
  /** maxOverflow is DB_MAX_OVERFLOW; not written for a pool without an overflow setting. */
  readonly maxOverflow: number;
}

/** Where the pool knobs live: the tuning ConfigMap and the Deployment whose pods read it. */
export interface PoolTarget {
  readonly namespace: string;
  /** deployment is the API Deployment's name. */
  readonly deployment: string;
  /** configMap is the tuning ConfigMap's name. */
  readonly configMap: string;
  /** keys are the pool's keys in it. @default DEFAULT_POOL_KEYS */
  readonly keys?: PoolKeys;
}

/** When a roll may happen: the clock and the cooldown, both from the caller. */
export interface RolloutGuard {
  /** now is the time of this call. */
  readonly now: Date;
  /** cooldownSeconds is the least time between two rolls; 0 allows a roll at every call. */
  readonly cooldownSeconds: number;
}

/** The decision decideRollout takes. */
export type RolloutDecision =
  | { readonly roll: false; readonly reason: 'unchanged' }
  | { readonly roll: false; readonly reason: 'cooldown'; readonly notBefore: Date }
  | { readonly roll: true };

/** Inputs of decideRollout. */
export interface RolloutInput extends RolloutGuard {
  /** currentHash is the pod template's config-hash annotation, if any. */
  readonly currentHash: string | undefined;
  /** desiredHash is the config hash of the ConfigMap's data with the new pool knobs. */
  readonly desiredHash: string;
  /** lastRolledAt is CONFIG_ROLLED_AT_ANNOTATION as found, if any. */
  readonly lastRolledAt: string | undefined;
}

/**
 * decideRollout says whether the pods may roll now: not when the hash already matches, and not
 * within `cooldownSeconds` of the last roll. A last roll in the future (another replica's clock
 * ahead of ours) counts as just now; an unreadable one as none.
 */
export function decideRollout(input: RolloutInput): RolloutDecision {
  if (input.currentHash === input.desiredHash) return { roll: false, reason: 'unchanged' };
  const last = input.lastRolledAt === undefined ? Number.NaN : Date.parse(input.lastRolledAt);
  if (Number.isFinite(last)) {
    const now = input.now.getTime();
    const from = Math.min(last, now);
    const cooldownMs = input.cooldownSeconds * 1000;
    if (now - from < cooldownMs)
      return { roll: false, reason: 'cooldown', notBefore: new Date(from + cooldownMs) };
  }
  return { roll: true };
}

/**
 * heldRollout is decideRollout for a pool's Deployment, which holds the last roll in
 * CONFIG_ROLLED_AT_ANNOTATION: the result to return when the pods may not roll now (`unchanged`
 * or `deferred`, nothing written), or undefined when they may. Both pool forms roll this way.
 */
export function heldRollout(
  deployment: V1Deployment,
  hashes: Pick<RolloutInput, 'currentHash' | 'desiredHash'>,
  guard: RolloutGuard,
  before: Partial<PoolSettings>,
): Extract<PoolSettingsResult, { kind: 'unchanged' | 'deferred' }> | undefined {
  const decision = decideRollout({
    ...hashes,
    lastRolledAt: deployment.metadata?.annotations?.[CONFIG_ROLLED_AT_ANNOTATION],
    now: guard.now,
    cooldownSeconds: guard.cooldownSeconds,
  });
  if (decision.roll) return undefined;
  return decision.reason === 'unchanged'
    ? { kind: 'unchanged', before }
    : { kind: 'deferred', before, notBefore: decision.notBefore };
}

/** What applyPoolSettings did. `before` holds the knobs as read (absent when unreadable). */
export type PoolSettingsResult =
  | { readonly kind: 'unchanged'; readonly before: Partial<PoolSettings> }
  | {
      readonly kind: 'applied';
      readonly before: Partial<PoolSettings>;
      readonly after: PoolSettings;
      /** configHash is the pod template's new config-hash annotation (ConfigMap form), or the pool's new values (env form). */
      readonly configHash: string;
      /** rolledAt is the time written to CONFIG_ROLLED_AT_ANNOTATION. */
      readonly rolledAt: Date;
      /** changed names the objects written: the ConfigMap (unless it held the values) and the Deployment. */
      readonly changed: readonly string[];
    }
  | {
      /** deferred: the last roll was less than a cooldown ago; nothing was written. */
      readonly kind: 'deferred';
      readonly before: Partial<PoolSettings>;
      readonly notBefore: Date;
    }
  | {
      readonly kind: 'conflict';
      readonly before: Partial<PoolSettings>;
      /** object is the ConfigMap or the Deployment that was not written. */
      readonly object: string;
      readonly conflicts: readonly FieldConflict[];
      readonly message: string;
      /** configMapWritten is true when the ConfigMap took the values but the pods were not rolled. */
      readonly configMapWritten: boolean;
    }
  | { readonly kind: 'notFound'; readonly missing: readonly string[] }
  | {
      /** notActuatable: the setting is not one the operator may write (an env var from valueFrom). */
      readonly kind: 'notActuatable';
      readonly before: Partial<PoolSettings>;
      /** message names the object and the setting, and what to do. */
      readonly message: string;
    };

/** validatePoolSettings throws a RangeError naming the knob when it is not a possible pool. */
export function validatePoolSettings(settings: PoolSettings): void {
  if (!Number.isInteger(settings.poolSize) || settings.poolSize < 1) {
    throw new RangeError(`poolSize must be a whole number ≥ 1, got ${settings.poolSize}`);
  }
  if (!Number.isInteger(settings.maxOverflow) || settings.maxOverflow < 0) {
    throw new RangeError(`maxOverflow must be a whole number ≥ 0, got ${settings.maxOverflow}`);
  }
}

/** parsePoolKnob reads one pool knob of the tuning ConfigMap: a whole number ≥ 0, else undefined. */
export function parsePoolKnob(raw: string | undefined): number | undefined {
  const value = raw === undefined || raw.trim() === '' ? Number.NaN : Number(raw);
  return Number.isInteger(value) && value >= 0 ? value : undefined;
}

function poolOf(configMap: V1ConfigMap, keys: PoolKeys): Partial<PoolSettings> {
  const poolSize = parsePoolKnob(configMap.data?.[keys.size]);
  const maxOverflow = keys.overflow === undefined ? 0 : parsePoolKnob(configMap.data?.[keys.overflow]);
  return {
    ...(poolSize === undefined ? {} : { poolSize }),
    ...(maxOverflow === undefined ? {} : { maxOverflow }),
  };
}

/**
 * applyPoolSettings writes the pool knobs to the tuning ConfigMap and rolls the API's pods once
 * by changing the config-hash annotation of the pod template, unless the last roll was less than
 * `guard.cooldownSeconds` ago (`deferred`, nothing written). A template whose hash does not match
 * the ConfigMap (a crash between the two writes) is rolled on the next call. Both writes are
 * server-side applies as `perfpilot` holding only the operator's fields; a field owned by
 * another manager is `conflict`.
 */
export async function applyPoolSettings(
  ctx: Pick<ActuatorContext, 'clients'>,
  target: PoolTarget,
  settings: PoolSettings,
  guard: RolloutGuard,
  options: ApplyOptions = {},
): Promise<PoolSettingsResult> {
  validatePoolSettings(settings);
  const { namespace } = target;
  const [configMap, deployment] = await Promise.all([
    readIfExists(() => ctx.clients.core.readNamespacedConfigMap({ namespace, name: target.configMap })),
    readIfExists(() => ctx.clients.apps.readNamespacedDeployment({ namespace, name: target.deployment })),
  ]);
  if (!configMap || !deployment) {
    const missing = [
      ...(configMap ? [] : [`ConfigMap ${namespace}/${target.configMap}`]),
      ...(deployment ? [] : [`Deployment ${namespace}/${target.deployment}`]),
    ];
    return { kind: 'notFound', missing };
  }
  const keys = target.keys ?? DEFAULT_POOL_KEYS;
  const before = poolOf(configMap, keys);
  const pool: Record<string, string> = {
    [keys.size]: String(settings.poolSize),
    ...(keys.overflow === undefined ? {} : { [keys.overflow]: String(settings.maxOverflow) }),
  };
  const desiredHash = configHash({ ...(configMap.data ?? {}), ...pool });
  const currentHash = templateAnnotations(deployment)[CONFIG_HASH_ANNOTATION];
  const held = heldRollout(deployment, { currentHash, desiredHash }, guard, before);
  if (held) return held;
  const configMapChanged = Object.entries(pool).some(([key, value]) => configMap.data?.[key] !== value);
  if (configMapChanged) {
    const written = await applyFields(
      ctx.clients,
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: {
          name: target.configMap,
          namespace,
          ...recordMetadata(configMap as Parameters<typeof applyFields>[1], options.record),
        },
        data: pool,
      } as Parameters<typeof applyFields>[1],
      { ...options, live: configMap as Parameters<typeof applyFields>[1] },
    );
    if (written.kind === 'conflict') return { ...written, before, configMapWritten: false };
  }
  const rolledAt = guard.now;
  const rolled = await applyFields(
    ctx.clients,
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        name: target.deployment,
        namespace,
        annotations: {
          [CONFIG_ROLLED_AT_ANNOTATION]: rolledAt.toISOString(),
          ...recordAnnotation(deployment as Parameters<typeof applyFields>[1], options.record),
        },
      },
      spec: { template: { metadata: { annotations: { [CONFIG_HASH_ANNOTATION]: desiredHash } } } },
    } as Parameters<typeof applyFields>[1],
    { ...options, live: deployment as Parameters<typeof applyFields>[1] },
  );
  if (rolled.kind === 'conflict') return { ...rolled, before, configMapWritten: configMapChanged };
  const changed = [
    ...(configMapChanged ? [`ConfigMap ${namespace}/${target.configMap}`] : []),
    `Deployment ${namespace}/${target.deployment}`,
  ];
  return { kind: 'applied', before, after: { ...settings }, configHash: desiredHash, rolledAt, changed };
}

function templateAnnotations(deployment: V1Deployment): Record<string, string> {
  return deployment.spec?.template.metadata?.annotations ?? {};
}
