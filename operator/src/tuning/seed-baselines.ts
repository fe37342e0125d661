/**
 * The seed guide's settings, kept as baselines to measure the engine against. They are written
 * as the guide writes them; see shared/seeds/ ("Database Pool Configuration", "Redis Cache
 * Configuration" and "Connection Pool Tuning").
 */
import { ASSUMED_HPA_TARGET_CPU_PERCENT } from './tuning-spec-from-profile.ts';
import type { KnobValues } from './types.ts';

/**
 * `seed-static`: the guide's fixed values. Pool 20 + overflow 30 per pod (`DATABASE_CONFIG`),
 * `maxmemory 512mb` (redis.conf). The guide gives no HPA bounds; 2..10 and the 70 % CPU target are
 * the toolkit's defaults for the plain HPA the guide deploys.
 */
export const SEED_STATIC_KNOBS: KnobValues = {
  poolSize: 20,
  maxOverflow: 30,
  redisMaxmemoryMiB: 512,
  minReplicas: 2,
  maxReplicas: 10,
  hpaTargetCpuPercent: ASSUMED_HPA_TARGET_CPU_PERCENT,
  hpaTargetRequestsPerPod: 0,
};

/** `DynamicConnectionPool.base_pool_size` in the guide. */
export const SEED_RULE_BASE_POOL_SIZE = 10;
/** `DynamicConnectionPool.max_pool_size` in the guide. */
export const SEED_RULE_MAX_POOL_SIZE = 50;
/** The guide's floor in `max(self.base_pool_size // 2, 5)`. */
export const SEED_RULE_MIN_POOL_SIZE = 5;
/** The guide's "high load" threshold. */
export const SEED_RULE_HIGH_LOAD = 0.8;
/** The guide's "low load" threshold. */
export const SEED_RULE_LOW_LOAD = 0.3;

/**
 * `DynamicConnectionPool.get_optimal_pool_size()` exactly as the guide writes it:
 * load > 0.8 → min(base × 2, max) = 20; load < 0.3 → max(base // 2, 5) = 5; otherwise base = 10.
 * The base never changes, so between 0.3 and 0.8 the size snaps back to 10 whatever it was.
 * `currentLoad` is the pool's own load: connections checked out / current pool size.
 */
export function seedRulePoolSize(currentLoad: number): number {
  if (currentLoad > SEED_RULE_HIGH_LOAD) {
    return Math.min(SEED_RULE_BASE_POOL_SIZE * 2, SEED_RULE_MAX_POOL_SIZE);
  }
  if (currentLoad < SEED_RULE_LOW_LOAD) {
    return Math.max(Math.floor(SEED_RULE_BASE_POOL_SIZE / 2), SEED_RULE_MIN_POOL_SIZE);
  }
  return SEED_RULE_BASE_POOL_SIZE;
}
