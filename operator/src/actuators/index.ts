/**
 * The actuators (I/O only: decisions stay in tuning/): what reconcile calls to observe and change
 * the three knobs. Each takes the parts of an ActuatorContext it uses and returns a typed result
 * (applied, unchanged, deferred, conflict, notFound, partial, refused) instead of throwing for
 * outcomes reconcile must report; only a failing API server, Redis seed discovery aside, throws.
 */
export { type ActuatorContext, makeTargetClients, type TargetClients } from './context.ts';
export { applyPoolEnv, type PoolEnvTarget, readPoolEnv } from './pool-env.ts';
export {
  applyPoolSettings,
  CONFIG_ROLLED_AT_ANNOTATION,
  DEFAULT_POOL_KEYS,
  decideRollout,
  MAX_OVERFLOW_KEY,
  POOL_SIZE_KEY,
  type PoolKeys,
  type PoolSettings,
  type PoolSettingsResult,
  type PoolTarget,
  type RolloutDecision,
  type RolloutGuard,
} from './pool-settings.ts';
export {
  applyRedisMaxMemory,
  BYTES_PER_MIB,
  type MaxMemoryCeiling,
  observeRedisMaxMemory,
  type PersistResult,
  type RedisMaxMemoryObservation,
  type RedisMaxMemoryResult,
  type RedisTarget,
  redisMaxMemoryCeilingMiB,
  summarizeMaxMemoryResult,
} from './redis-maxmemory.ts';
export {
  applyReplicaBounds,
  cpuUtilizationTargetOf,
  disagreementOf,
  type HpaFields,
  hpaApplyBody,
  hpaTargetNotActuatable,
  KEDA_API_VERSION,
  metricsWithCpuTarget,
  metricsWithRateTarget,
  type ObjectRef,
  RATE_METRIC_AGREEMENT,
  type RateMetricComparison,
  type ReplicaBounds,
  type ReplicaBoundsResult,
  rateMetricComparison,
  rateMetricDisagreement,
  rateTargetNotActuatable,
  requestRateReadingOf,
  requestRateTargetOf,
  SCALED_OBJECT_KIND,
  SCALES_ON_REQUEST_RATE,
  scaledObjectOwnerOf,
} from './replica-bounds.ts';
export {
  applyScaledObjectBounds,
  readScaledObject,
  type ScaledObject,
  scaledObjectBounds,
} from './scaled-object-bounds.ts';
export { kubeSecretReader, type SecretReader } from './secrets.ts';
export { conflictSummary, type FieldConflict } from './server-side-apply.ts';
export {
  apiTargetReader,
  applyKnobs,
  type ObservedTarget,
  observeTarget,
  poolEnvTargetOf,
  scaledObjectNameOf,
  type TargetReader,
} from './targets.ts';
