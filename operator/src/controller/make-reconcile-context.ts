/**
 * The ReconcileContext the operator runs with: profiles read and written on the API server, the
 * target observed through the actuators' readers, metrics from Prometheus and Redis, and the knobs
 * written by the actuators, all on one kubeconfig and one Redis connection pool.
 */
import {
  ApiException,
  CustomObjectsApi,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import {
  apiTargetReader,
  applyKnobs,
  applyPoolEnv,
  applyPoolSettings,
  applyRedisMaxMemory,
  applyReplicaBounds,
  applyScaledObjectBounds,
  makeTargetClients,
  observeRedisMaxMemory,
  observeTarget,
  poolEnvTargetOf,
  type RedisTarget,
  type SecretReader,
  scaledObjectNameOf,
  summarizeMaxMemoryResult,
  type TargetReader,
} from '../actuators/index.ts';
import { SecretKeyMissingError } from '../actuators/secrets.ts';
import { readIfExists } from '../actuators/server-side-apply.ts';
import {
  ConditionReason,
  GROUP,
  hpaNameOf,
  maxMemoryPersistenceOf,
  type PerformanceProfile,
  PLURAL,
  poolPlaceOf,
  VERSION,
} from '../api/v1alpha1/index.ts';
import { hpaStatusOf, type MetricSources, measureSnapshot, rebuildHistory } from '../metrics/index.ts';
import type { RedisConnections } from '../redis/connections.ts';
import { patchJson } from '../runtime/kube-http.ts';
import { tuningSpecFromProfile } from '../tuning/tuning-spec-from-profile.ts';
import { PermanentError } from './error-policy.ts';
import type { ReconcileContext } from './reconcile-context.ts';

/** How long an unreadable Secret waits before it is read again: the operator does not watch Secrets. */
const SECRET_RECHECK_SECONDS = 300;

/**
 * classifyingSecretReader reads Secrets by name and turns a missing Secret or key into a
 * PermanentError naming both (retrying cannot help until someone creates it); other failures
 * (the API server unreachable) stay temporary. The value itself is never in any message.
 */
export function classifyingSecretReader(read: SecretReader): SecretReader {
  return async (ref) => {
    try {
      return await read(ref);
    } catch (err) {
      // An unreachable API server is no missing Secret: that stays temporary, and is retried.
      const missing =
        err instanceof SecretKeyMissingError ||
        (err instanceof ApiException && (err.code === 404 || err.code === 403));
      if (!missing) throw err;
      throw new PermanentError(
        ConditionReason.SecretUnreadable,
        `Secret ${ref.namespace}/${ref.name} key "${ref.key}" cannot be read${err instanceof ApiException ? ` (HTTP ${err.code})` : ''}`,
        { recheckAfterSeconds: SECRET_RECHECK_SECONDS, cause: err instanceof ApiException ? undefined : err },
      );
    }
  };
}

/** redisTargetOf is where the profile's Redis is, for the maxmemory actuator and observer. */
export function redisTargetOf(profile: PerformanceProfile): RedisTarget | undefined {
  const redis = profile.spec.metrics.redis;
  if (!redis) return undefined;
  return {
    namespace: profile.metadata.namespace ?? 'default',
    endpoints: redis.endpoints ?? [],
    ...(redis.sentinel ? { sentinel: redis.sentinel } : {}),
    ...(redis.username !== undefined ? { username: redis.username } : {}),
    ...(redis.passwordSecretRef ? { passwordSecretRef: redis.passwordSecretRef } : {}),
    ...(redis.configMapName ? { configMapName: redis.configMapName } : {}),
    ...(redis.persist ? { persist: redis.persist } : {}),
    ...(redis.tls ? { tls: true } : {}),
    ...(redis.tls?.caBundleSecretRef ? { caBundleSecretRef: redis.tls.caBundleSecretRef } : {}),
  };
}

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** STATUS_WRITE_TIMEOUT_MS bounds one status write; past it the reconcile fails and is retried. */
const STATUS_WRITE_TIMEOUT_MS = 30_000;

/** The parts of the context the operator builds itself. */
export type ReconcileParts = Pick<ReconcileContext, 'profile' | 'events' | 'logger' | 'metrics'> & {
  /** sources are the metric sources, built once per process on the shared Redis connections. */
  readonly sources: MetricSources;
  /** redis is the one Redis connection pool, shared by the sources and the maxmemory actuator. */
  readonly redis: RedisConnections;
  /** readSecret reads Secrets by name (see classifyingSecretReader). */
  readonly readSecret: SecretReader;
  /** targets reads the target's objects for the observe step. @default the API server, one GET each */
  readonly targets?: TargetReader;
};

/** makeReconcileContext wires the real clients, sources and actuators from a kubeconfig. */
export function makeReconcileContext(kubeConfig: KubeConfig, parts: ReconcileParts): ReconcileContext {
  const custom = kubeConfig.makeApiClient(CustomObjectsApi);
  const clients = makeTargetClients(kubeConfig);
  // KEDA's ScaledObjects are read from the API server: its CRD may not be installed, so no informer.
  const targets = { ...apiTargetReader(clients), ...parts.targets };
  const actuatorContext = { clients, redis: parts.redis, readSecret: parts.readSecret };
  const now = () => new Date();
  const at = (profile: PerformanceProfile) => ({
    group: GROUP,
    version: VERSION,
    plural: PLURAL,
    namespace: profile.metadata.namespace ?? 'default',
    name: profile.metadata.name ?? '',
  });
  const redisTarget = (profile: PerformanceProfile) => {
    const target = redisTargetOf(profile);
    if (!target) throw new RangeError('spec.metrics.redis is not set: maxmemory has no nodes to go to');
    return target;
  };
  return {
    profile: parts.profile,
    events: parts.events,
    logger: parts.logger,
    ...(parts.metrics ? { metrics: parts.metrics } : {}),
    now,
    histories: new Map(),
    unreported: new Map(),
    store: {
      get: async (namespace, name) => {
        try {
          return (await custom.getNamespacedCustomObject({
            group: GROUP,
            version: VERSION,
            plural: PLURAL,
            namespace,
            name,
          })) as PerformanceProfile;
        } catch (err) {
          if (err instanceof ApiException && err.code === 404) return undefined;
          throw err;
        }
      },
      patchMetadata: async (profile, metadata) =>
        (await custom.patchNamespacedCustomObject(
          {
            ...at(profile),
            body: { metadata: { resourceVersion: profile.metadata.resourceVersion, ...metadata } },
          },
          mergePatch,
        )) as PerformanceProfile,
      writeStatus: async (profile, status) => {
        const { namespace, name } = at(profile);
        try {
          await patchJson(
            kubeConfig,
            `/apis/${GROUP}/${VERSION}/namespaces/${encodeURIComponent(namespace)}/${PLURAL}/${encodeURIComponent(name)}/status`,
            // A merge patch replaces the status's lists whole; the conditions were computed from
            // the cached status, so the resourceVersion guards against writing over a newer one.
            { metadata: { resourceVersion: profile.metadata.resourceVersion }, status },
            PatchStrategy.MergePatch,
            STATUS_WRITE_TIMEOUT_MS,
          );
        } catch (err) {
          if (err instanceof ApiException && err.code === 404) return;
          throw err;
        }
      },
    },
    observe: async (profile) => {
      const target = await observeTarget(targets, profile);
      const redisAt = redisTargetOf(profile);
      if (!redisAt) return target;
      const persistence = maxMemoryPersistenceOf(redisAt);
      const configMapName = persistence.kind === 'configMap' ? persistence.name : undefined;
      const [redis, redisConfigMap] = await Promise.all([
        observeRedisMaxMemory(actuatorContext, redisAt),
        configMapName
          ? readIfExists(() =>
              clients.core.readNamespacedConfigMap({ namespace: redisAt.namespace, name: configMapName }),
            )
          : Promise.resolve(undefined),
      ]);
      const divergent = redis.divergent
        ? [
            `Redis nodes disagree on maxmemory: ${redis.nodes.map((n) => `${n.address}=${n.bytes}`).join(', ')}`,
          ]
        : [];
      return {
        ...target,
        problems: [...target.problems, ...divergent],
        current: {
          ...target.current,
          ...(redis.maxMemoryMiB !== undefined ? { redisMaxmemoryMiB: redis.maxMemoryMiB } : {}),
        },
        redis,
        ...(redisConfigMap ? { redisConfigMap } : {}),
      };
    },
    measure: async (profile, observed) =>
      await measureSnapshot(profile, parts.sources, () => now().getTime() / 1000, {
        ...(observed.current.poolSize !== undefined && observed.current.maxOverflow !== undefined
          ? { poolCapacity: observed.current.poolSize + observed.current.maxOverflow }
          : {}),
        ...(observed.hpa ? { hpa: hpaStatusOf(observed.hpa) } : {}),
        ...(poolPlaceOf(profile.spec.targetRef).kind === 'none' || observed.untunedKnobs?.poolSize
          ? { poolUntuned: true }
          : {}),
      }),
    rebuildHistory: async (profile, nowSeconds) => await rebuildHistory(profile, parts.sources, nowSeconds),
    actuators: {
      replicaBounds: async (profile, bounds, record) => {
        const namespace = profile.metadata.namespace ?? 'default';
        const hpaName = hpaNameOf(profile.spec.targetRef);
        const options = record === undefined ? {} : { record };
        // A KEDA-owned HPA is never written: its ScaledObject holds the bounds.
        const scaledObject = scaledObjectNameOf(profile, await targets.hpa(namespace, hpaName));
        return scaledObject === undefined
          ? await applyReplicaBounds(actuatorContext, { namespace, name: hpaName }, bounds, options)
          : await applyScaledObjectBounds(
              actuatorContext,
              { namespace, name: scaledObject },
              bounds,
              options,
            );
      },
      poolSettings: async (profile, settings, guard, record) => {
        const namespace = profile.metadata.namespace ?? 'default';
        const deployment = profile.spec.targetRef.name;
        const options = record === undefined ? {} : { record };
        const place = poolPlaceOf(profile.spec.targetRef);
        if (place.kind === 'none') return { kind: 'unchanged', before: {} };
        if (place.kind === 'env') {
          const target = poolEnvTargetOf(namespace, deployment, place);
          return await applyPoolEnv(actuatorContext, target, settings, guard, options);
        }
        const keys = { size: place.sizeKey, ...(place.overflowKey ? { overflow: place.overflowKey } : {}) };
        return await applyPoolSettings(
          actuatorContext,
          { namespace, deployment, configMap: place.name, keys },
          settings,
          guard,
          options,
        );
      },
      redisMaxMemory: async (profile, mib, tuning, record) =>
        await applyRedisMaxMemory(
          actuatorContext,
          redisTarget(profile),
          mib,
          { tuning },
          record === undefined ? {} : { record },
        ),
      restore: async (profile, original, at) => {
        const notes: string[] = [];
        const changed = await applyKnobs(clients, profile, original, at);
        notes.push(
          changed.length > 0
            ? `restored ${changed.join(', ')}`
            : 'HPA and pool already at their original values',
        );
        const target = redisTargetOf(profile);
        if (target && original.redisMaxmemoryMiB !== undefined) {
          const result = await applyRedisMaxMemory(actuatorContext, target, original.redisMaxmemoryMiB, {
            tuning: tuningSpecFromProfile(profile.spec),
          });
          notes.push(summarizeMaxMemoryResult(result));
        }
        return notes;
      },
    },
  };
}
