/**
 * The knob controllers a run can compare: the seed's static values, the seed's
 * `DynamicConnectionPool` rule, a fixed configuration, and the tuning engine with the spec a
 * user's profile gets.
 */
import { DEFAULT_KNOB_BOUNDS } from '../api/v1alpha1/defaults.ts';
import { maxmemoryCeilingForLimitMiB } from '../api/v1alpha1/redis-maxmemory-ceiling.ts';
import { SEED_RULE_BASE_POOL_SIZE, SEED_STATIC_KNOBS } from '../tuning/seed-baselines.ts';
import {
  DEFAULT_TARGET_ENVIRONMENT,
  defaultedProfileSpec,
  tuningSpecFromProfile,
} from '../tuning/tuning-spec-from-profile.ts';
import type { KnobValues, TuningSpec } from '../tuning/types.ts';
import type { Scenario } from './scenario.ts';

/** How knobs are chosen during a run. */
export type KnobController =
  | { readonly kind: 'static'; readonly label: string; readonly knobs: KnobValues }
  | { readonly kind: 'seed-rules'; readonly label: string }
  | { readonly kind: 'engine'; readonly label: string; readonly spec: TuningSpec };

/** The controller of the `seed-static` baseline. */
export const SEED_STATIC: KnobController = { kind: 'static', label: 'seed-static', knobs: SEED_STATIC_KNOBS };
/** The controller of the `seed-rules` baseline. */
export const SEED_RULES: KnobController = { kind: 'seed-rules', label: 'seed-rules' };

/**
 * The TuningSpec the operator runs with for a scenario's environment: a profile that sets only
 * what the environment dictates (the DB budget, the Redis container limit and its maxmemory ceiling,
 * the replica ceiling; the forecast mode where the scenario names one), every other field defaulted by the CRD, mapped by the operator's own
 * mapper (tuning-spec-from-profile.ts) with the scenario's workers and HPA target. So the benchmark measures what ships.
 */
export function tuningSpecFor(scenario: Scenario): TuningSpec {
  const ceiling = maxmemoryCeilingForLimitMiB(scenario.redis.memoryLimitMiB);
  const profile = defaultedProfileSpec({
    targetRef: { name: scenario.name.toLowerCase().replace(/[^a-z0-9-]+/g, '-') || 'risk-api' },
    knobs: {
      redisMaxmemory: {
        minMiB: Math.min(DEFAULT_KNOB_BOUNDS.redisMaxmemory.minMiB, ceiling),
        maxMiB: ceiling,
        containerMemoryLimitMiB: scenario.redis.memoryLimitMiB,
      },
      replicas: { ceiling: scenario.app.replicaCeiling },
    },
    database: {
      maxConnections: scenario.db.maxConnections,
      reservedConnections: scenario.db.reservedConnections,
    },
    ...(scenario.forecast ? { policy: { forecast: scenario.forecast } } : {}),
  });
  return tuningSpecFromProfile(profile, {
    ...DEFAULT_TARGET_ENVIRONMENT,
    workersPerReplica: scenario.app.workers,
    hpaTargetCpuUtilization: scenario.app.hpaTargetCpuUtilization,
    podStartupSeconds: scenario.app.podStartupSeconds,
  });
}

/** The controller that runs the tuning engine for a scenario. */
export function engineController(scenario: Scenario): KnobController {
  return { kind: 'engine', label: 'ours', spec: tuningSpecFor(scenario) };
}

/** The knobs a controller starts with: its own for a static one, the seed's otherwise. */
export function startingKnobs(controller: KnobController): KnobValues {
  if (controller.kind === 'static') return controller.knobs;
  if (controller.kind === 'seed-rules') return { ...SEED_STATIC_KNOBS, poolSize: SEED_RULE_BASE_POOL_SIZE };
  return SEED_STATIC_KNOBS;
}
