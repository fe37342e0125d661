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
import { toleranceOf } from './hpa.ts';
import type { Scenario } from './scenario.ts';

/**
 * A static controller's knobs. Without `hpaTargetCpuPercent` (or `hpaTargetRequestsPerPod`) the run
 * keeps the scenario's own HPA target (`app.hpaTargetCpuUtilization`, `hpaRequestRate.targetPerPod`:
 * the user's), as the seed baselines do.
 */
export type StaticKnobs = Omit<KnobValues, 'hpaTargetCpuPercent' | 'hpaTargetRequestsPerPod'> & {
  readonly hpaTargetCpuPercent?: number;
  readonly hpaTargetRequestsPerPod?: number;
};

/** How knobs are chosen during a run. */
export type KnobController =
  | { readonly kind: 'static'; readonly label: string; readonly knobs: StaticKnobs }
  | { readonly kind: 'seed-rules'; readonly label: string }
  | { readonly kind: 'engine'; readonly label: string; readonly spec: TuningSpec };

const {
  hpaTargetCpuPercent: _toolkitTarget,
  hpaTargetRequestsPerPod: _noRateTarget,
  ...seedStaticKnobs
} = SEED_STATIC_KNOBS;

/** The controller of the `seed-static` baseline: the seed's values with the scenario's HPA target. */
export const SEED_STATIC: KnobController = { kind: 'static', label: 'seed-static', knobs: seedStaticKnobs };
/** The controller of the `seed-rules` baseline. */
export const SEED_RULES: KnobController = { kind: 'seed-rules', label: 'seed-rules' };

/**
 * The TuningSpec the operator runs with for a scenario's environment: a profile that sets only
 * what the environment dictates (the DB budget, the Redis container limit and its maxmemory ceiling,
 * the replica ceiling; the forecast mode where the scenario names one), every other field defaulted by the CRD, mapped by the operator's own
 * mapper (tuning-spec-from-profile.ts) with the scenario's workers and pod start-up. It turns the
 * HPA target knob on (`knobs.hpaTarget: {}`, the default 50..85 %), which a user's profile opts
 * into, so the benchmark measures the engine with it; the scenario's target is where it starts
 * ({@link startingKnobs}). Otherwise the benchmark measures what ships.
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
      hpaTarget: scenario.hpaRequestRate
        ? {
            requestRate: {
              metricName: SIM_REQUEST_RATE_METRIC,
              minPerPod: scenario.hpaRequestRate.minPerPod,
              maxPerPod: scenario.hpaRequestRate.maxPerPod,
            },
          }
        : {},
    },
    database: {
      maxConnections: scenario.db.maxConnections,
      reservedConnections: scenario.db.reservedConnections,
    },
    ...(scenario.forecast ? { policy: { forecast: scenario.forecast } } : {}),
  });
  // The operator reads the HPA's tolerance where its behavior sets one (findings.ts).
  const { scaleUp, scaleDown } = scenario.hpaBehavior;
  const ownTolerance = scaleUp.tolerance !== undefined || scaleDown.tolerance !== undefined;
  return tuningSpecFromProfile(profile, {
    ...DEFAULT_TARGET_ENVIRONMENT,
    workersPerReplica: scenario.app.workers,
    podStartupSeconds: scenario.app.podStartupSeconds,
    ...(ownTolerance ? { hpaTolerance: toleranceOf(scenario.hpaBehavior) } : {}),
  });
}

/** The controller that runs the tuning engine for a scenario. */
export function engineController(scenario: Scenario): KnobController {
  return { kind: 'engine', label: 'ours', spec: tuningSpecFor(scenario) };
}

/** The name the simulated HPA's request-rate metric goes by in the engine's profile. */
export const SIM_REQUEST_RATE_METRIC = 'http_requests_per_second';

/** The scenario's HPA CPU target (the user's), in whole percent. */
export function scenarioHpaTargetPercent(scenario: Scenario): number {
  return Math.round(scenario.app.hpaTargetCpuUtilization * 100);
}

/** The scenario's HPA targets as the user wrote them (no request-rate metric: 0). */
export function scenarioHpaTargets(
  scenario: Scenario,
): Pick<KnobValues, 'hpaTargetCpuPercent' | 'hpaTargetRequestsPerPod'> {
  return {
    hpaTargetCpuPercent: scenarioHpaTargetPercent(scenario),
    hpaTargetRequestsPerPod: scenario.hpaRequestRate?.targetPerPod ?? 0,
  };
}

/**
 * The knobs a controller starts with: its own for a static one, the seed's otherwise; the HPA
 * targets are the scenario's unless a static controller sets its own.
 */
export function startingKnobs(controller: KnobController, scenario: Scenario): KnobValues {
  const targets = scenarioHpaTargets(scenario);
  if (controller.kind === 'static') {
    return {
      ...controller.knobs,
      hpaTargetCpuPercent: controller.knobs.hpaTargetCpuPercent ?? targets.hpaTargetCpuPercent,
      hpaTargetRequestsPerPod: controller.knobs.hpaTargetRequestsPerPod ?? targets.hpaTargetRequestsPerPod,
    };
  }
  if (controller.kind === 'seed-rules')
    return { ...SEED_STATIC_KNOBS, poolSize: SEED_RULE_BASE_POOL_SIZE, ...targets };
  return { ...SEED_STATIC_KNOBS, ...targets };
}
