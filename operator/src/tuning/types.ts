/**
 * The tuning engine's own inputs and outputs. They are independent of the PerformanceProfile CRD:
 * the controller maps the profile's spec onto a {@link TuningSpec} and its metric sources onto a
 * {@link MetricSnapshot}, so the engine, the offline commands and the simulator share one contract.
 */
import type { RateForecast, RateHistory } from './forecast.ts';

/** Service-level objectives the policies aim for (`spec.slo` of the profile, as fractions). */
export interface SloTargets {
  /** p95LatencyMs: 95th-percentile request latency must stay below this, in milliseconds. */
  readonly p95LatencyMs: number;
  /** errorRate: share of failed requests must stay below this (0..1). */
  readonly errorRate: number;
  /** cacheHitRate: Redis hit rate must stay above this (0..1). */
  readonly cacheHitRate: number;
  /** poolUsage: mean share of the pool's connections checked out must stay below this (0..1). */
  readonly poolUsage: number;
  /** requestsPerReplica: prior for what one replica serves within the SLO, in requests/s. */
  readonly requestsPerReplica: number;
}

/** An inclusive integer range for one knob. */
export interface KnobRange {
  /** min: smallest value the engine may set. */
  readonly min: number;
  /** max: largest value the engine may set. */
  readonly max: number;
}

/** The range of the HPA's replica bounds: `floor ≤ minReplicas ≤ maxReplicas ≤ ceiling`. */
export interface ReplicaRange {
  /** floor: the lowest `minReplicas` the engine may set. */
  readonly floor: number;
  /** ceiling: the highest `maxReplicas` the engine may set. */
  readonly ceiling: number;
}

/**
 * Bounds for every knob; policies and the gate never leave them. Names follow the
 * PerformanceProfile's `spec.knobs`; the defaults are the CRD's (tuning-spec-from-profile.ts).
 */
export interface KnobBounds {
  /** poolSize: persistent DB connections per replica (`DB_POOL_SIZE`). */
  readonly poolSize: KnobRange;
  /** maxOverflow: extra on-demand DB connections per replica (`DB_MAX_OVERFLOW`). */
  readonly maxOverflow: KnobRange;
  /** redisMaxmemoryMiB: Redis `maxmemory` per node, in MiB (also capped at 0.75 × the memory limit). */
  readonly redisMaxmemoryMiB: KnobRange;
  /** replicas: floor for `minReplicas` and ceiling for `maxReplicas` of the HPA. */
  readonly replicas: ReplicaRange;
  /** hpaTargetCpuPercent: the HPA's average CPU utilization target, in whole percent. */
  readonly hpaTargetCpuPercent: KnobRange;
  /** hpaTargetRequestsPerPod: the HPA's request-rate target, in whole requests per second per pod. */
  readonly hpaTargetRequestsPerPod: KnobRange;
}

/** The database every replica's pool connects to. */
export interface DatabaseBudget {
  /** maxConnections: PostgreSQL `max_connections`. */
  readonly maxConnections: number;
  /** reservedConnections: connections kept free for admins and other clients. */
  readonly reservedConnections: number;
  /**
   * connectionsHeldPerRequest: connections one request holds at the same time; above 1 a pool
   * smaller than `workersPerReplica × (held − 1) + 1` can deadlock. Observed from the target.
   */
  readonly connectionsHeldPerRequest: number;
  /** workersPerReplica: concurrent request workers in one replica (`ASYNC_WORKERS`). Observed from the target. */
  readonly workersPerReplica: number;
}

/** How often and how boldly the engine may change a knob. */
export interface PolicyTimings {
  /** evaluationIntervalSeconds: time between two evaluations. */
  readonly evaluationIntervalSeconds: number;
  /** cooldownSeconds: minimum time between two changes of the same knob. */
  readonly cooldownSeconds: number;
  /** stabilizationWindowSeconds: a change opposite to the knob's last change waits this long. */
  readonly stabilizationWindowSeconds: number;
  /** verificationWindowSeconds: after a change, an SLO that got worse within this time rolls it back. */
  readonly verificationWindowSeconds: number;
  /** maxMetricAgeSeconds: a snapshot older than this is stale and changes nothing. */
  readonly maxMetricAgeSeconds: number;
  /** maxStepFraction: one change moves a knob by at most this share of its value (at least 1 unit). */
  readonly maxStepFraction: number;
  /** deadbandFraction: proposals closer than this share of the current value are ignored. */
  readonly deadbandFraction: number;
}

/**
 * The HPA's tolerance on the ratio of a metric to its target, per direction: it removes pods only
 * below 1 − scaleDown and adds them only above 1 + scaleUp.
 */
export interface HpaTolerance {
  readonly scaleUp: number;
  readonly scaleDown: number;
}

/** Everything the engine needs to know about one tuned workload besides its metrics. */
export interface TuningSpec {
  /** slo: the targets. */
  readonly slo: SloTargets;
  /** knobs: bounds for each knob. */
  readonly knobs: KnobBounds;
  /** database: the connection budget shared by all replicas. */
  readonly database: DatabaseBudget;
  /** redisMemoryLimitMiB: the Redis container's memory limit; `maxmemory` stays ≤ 0.75 of it. */
  readonly redisMemoryLimitMiB: number;
  /** pdbMinAvailable: the PodDisruptionBudget's `minAvailable`; `minReplicas` never goes below it. Observed from the target. */
  readonly pdbMinAvailable: number;
  /** timings: evaluation interval, cooldown, step and window settings. */
  readonly timings: PolicyTimings;
  /**
   * untunedKnobs: the knobs the engine holds whatever it measures, each with the reason (no Redis,
   * no pool, a pool without overflow, a setting the operator cannot write). Their current value is
   * taken as given (0 where it is unknown) and kept out of the knobs' bounds, so an untuned pool
   * adds no connections to the budget. @default every knob is tuned
   */
  readonly untunedKnobs?: Readonly<Partial<Record<KnobName, string>>>;
  /**
   * hpaTolerance: the HPA's tolerance per direction, from its `spec.behavior` where it sets one
   * (KEP-4951), else the cluster's default. @default 0.1 both ways (`DEFAULT_HPA_TOLERANCE`)
   */
  readonly hpaTolerance?: HpaTolerance;
  /** burst: the burst response (`spec.policy.burst`). */
  readonly burst: BurstPolicy;
  /** forecast: the forecast floor (`spec.policy.forecast`). */
  readonly forecast: ForecastPolicy;
}

/** Whether the forecast floor is off, only reported, or raises `minReplicas` (forecast-floor.ts). */
export type ForecastMode = 'Off' | 'Recommend' | 'Auto';

/** The forecast floor's settings. */
export interface ForecastPolicy {
  /** mode: Off, Recommend (computed and reported) or Auto (it raises minReplicas). */
  readonly mode: ForecastMode;
  /** leadSeconds: how far ahead the floor is raised: the pods' start-up, one HPA sync and one evaluation. */
  readonly leadSeconds: number;
}

/** When a request rate is a burst (burst-policy.ts). */
export interface BurstPolicy {
  /** ratio: a rate at this many times what the ready pods serve at the HPA's target is a burst. */
  readonly ratio: number;
}

/** Redis signals from `INFO`, summed over the cluster's masters and turned into rates. */
export interface RedisSignals {
  /** usedMemoryBytes: `used_memory`. */
  readonly usedMemoryBytes: number;
  /** maxMemoryBytes: `maxmemory` as Redis reports it. */
  readonly maxMemoryBytes: number;
  /** hitsPerSecond: rate of `keyspace_hits`. */
  readonly hitsPerSecond: number;
  /** missesPerSecond: rate of `keyspace_misses`. */
  readonly missesPerSecond: number;
  /** evictedKeysPerSecond: rate of `evicted_keys` (misses memory could have prevented). */
  readonly evictedKeysPerSecond: number;
  /** expiredKeysPerSecond: rate of `expired_keys` (misses memory cannot prevent). */
  readonly expiredKeysPerSecond: number;
}

/** One measurement of the workload, averaged over `windowSeconds` and taken at `takenAtSeconds`. */
export interface MetricSnapshot {
  /** takenAtSeconds: when the window ended, in seconds on the caller's clock. */
  readonly takenAtSeconds: number;
  /** windowSeconds: the averaging window. */
  readonly windowSeconds: number;
  /** requestsPerSecond: API requests per second over all replicas. */
  readonly requestsPerSecond: number;
  /** p95LatencyMs: 95th-percentile latency. */
  readonly p95LatencyMs: number;
  /** errorRate: share of requests that failed (0..1). */
  readonly errorRate: number;
  /** readyReplicas: replicas serving traffic. */
  readonly readyReplicas: number;
  /** cpuUtilization: mean CPU use of ready replicas as a share of their request (0..). */
  readonly cpuUtilization: number;
  /** dbQueriesPerSecond: queries sent to the database over all replicas. */
  readonly dbQueriesPerSecond: number;
  /** dbActiveConnections: connections checked out of the pools (`database_connections_active`), summed. */
  readonly dbActiveConnections: number;
  /** poolWaitMs: mean time a request waited for a pool connection. */
  readonly poolWaitMs: number;
  /** redis: cache signals; absent when the profile names no Redis (maxmemory is then not tuned). */
  readonly redis?: RedisSignals;
}

/** A snapshot with its Redis signals, as a profile that names Redis has (and every history point). */
export type CacheSnapshot = MetricSnapshot & { readonly redis: RedisSignals };

/** The values of the tuned knobs. */
export interface KnobValues {
  /** poolSize: `DB_POOL_SIZE` per replica. */
  readonly poolSize: number;
  /** maxOverflow: `DB_MAX_OVERFLOW` per replica. */
  readonly maxOverflow: number;
  /** redisMaxmemoryMiB: Redis `maxmemory` in MiB. */
  readonly redisMaxmemoryMiB: number;
  /** minReplicas: HPA `spec.minReplicas`. */
  readonly minReplicas: number;
  /** maxReplicas: HPA `spec.maxReplicas`. */
  readonly maxReplicas: number;
  /**
   * hpaTargetCpuPercent: the HPA's average CPU utilization target (`spec.metrics`, the Resource cpu
   * metric of type Utilization), in whole percent. The one place the target in force is held:
   * every policy turns load into replicas with it ({@link hpaTargetOf}).
   */
  readonly hpaTargetCpuPercent: number;
  /**
   * hpaTargetRequestsPerPod: the averageValue target of the HPA's request-rate metric (a Pods,
   * Object or External metric, `spec.knobs.hpaTarget.requestRate`), in whole requests per second
   * per pod; 0 when the HPA has none. The HPA follows whichever of its metrics asks for more pods,
   * so every policy turns load into replicas with both ({@link perPodRpsAtTargets}).
   */
  readonly hpaTargetRequestsPerPod: number;
}

/** The name of one knob. */
export type KnobName = keyof KnobValues;

/** Every knob, in the order decisions are reported. */
export const KNOB_NAMES: readonly KnobName[] = [
  'poolSize',
  'maxOverflow',
  'redisMaxmemoryMiB',
  'minReplicas',
  'maxReplicas',
  'hpaTargetCpuPercent',
  'hpaTargetRequestsPerPod',
];

/** The HPA's CPU target in force, as a fraction (0..1). */
export function hpaTargetOf(current: Pick<KnobValues, 'hpaTargetCpuPercent'>): number {
  return current.hpaTargetCpuPercent / 100;
}

/** The HPA's targets in force: its CPU target and its request-rate target (0: none). */
export type HpaTargets = Pick<KnobValues, 'hpaTargetCpuPercent' | 'hpaTargetRequestsPerPod'>;

/** Requests per second per ready pod, or 0 without a ready pod. */
export function requestsPerPod(
  snapshot: Pick<MetricSnapshot, 'requestsPerSecond' | 'readyReplicas'>,
): number {
  return snapshot.readyReplicas > 0 ? snapshot.requestsPerSecond / snapshot.readyReplicas : 0;
}

/**
 * The HPA's usage ratio: each metric's measured value over its target, the largest of them, as the
 * HPA computes it (it follows the metric that asks for the most pods). Above 1 the HPA adds pods
 * (past its tolerance); below 1 it removes them.
 */
export function hpaUsageRatio(
  snapshot: Pick<MetricSnapshot, 'cpuUtilization' | 'requestsPerSecond' | 'readyReplicas'>,
  targets: HpaTargets,
): number {
  const cpu = snapshot.cpuUtilization / hpaTargetOf(targets);
  const rate =
    targets.hpaTargetRequestsPerPod > 0 ? requestsPerPod(snapshot) / targets.hpaTargetRequestsPerPod : 0;
  return Math.max(cpu, rate);
}

/**
 * Requests per second one pod carries when the HPA holds it at its targets: the CPU target's share
 * of what a pod serves at full CPU, or the request-rate target where that is lower (the HPA then
 * keeps more pods). What every policy turns load into replicas with.
 */
export function perPodRpsAtTargets(targets: HpaTargets, requestsPerSecondAtFullCpu: number): number {
  const cpu = requestsPerSecondAtFullCpu * hpaTargetOf(targets);
  return targets.hpaTargetRequestsPerPod > 0 ? Math.min(cpu, targets.hpaTargetRequestsPerPod) : cpu;
}

/** The HPA's targets in words, for reasons: "the 70 % CPU target", "the 70 % CPU and 120 rps-a-pod targets". */
export function describeHpaTargets(targets: HpaTargets): string {
  return targets.hpaTargetRequestsPerPod > 0
    ? `the ${targets.hpaTargetCpuPercent} % CPU and ${targets.hpaTargetRequestsPerPod} rps-a-pod targets`
    : `the ${targets.hpaTargetCpuPercent} % CPU target`;
}

/** What a policy would like one knob to be, and why. */
export interface Proposal {
  /** knob: which knob. */
  readonly knob: KnobName;
  /** value: the wanted value, before the gate. */
  readonly value: number;
  /** reason: one human-readable sentence with the numbers behind it. */
  readonly reason: string;
  /**
   * skipsCooldown: the gate lets this raise through the knob's cooldown and step cap (not the
   * stabilization window). Only the burst response sets it.
   */
  readonly skipsCooldown?: boolean;
  /**
   * resolution: the width of the bins the policy measures in, in the knob's units. The gate's
   * deadband (`deadbandFraction` of the value) never holds a move of one bin: where one bin is
   * less, the bin is the deadband. The HPA target rule sets it.
   */
  readonly resolution?: number;
  /**
   * objectiveCost: for `redisMaxmemoryMiB`, set when the growth is for the cache hit-rate
   * objective alone: the GiB it adds and why no pod or latency saving comes with it.
   */
  readonly objectiveCost?: ObjectiveCost;
}

/**
 * Memory grown for the cache hit-rate objective alone: no measurable latency or pod saving comes
 * with it (objective-cost.ts).
 */
export interface ObjectiveCost {
  /** objective: the declared objective the memory is for. */
  readonly objective: 'cacheHitRate';
  /** target: the objective's value (0..1). */
  readonly target: number;
  /** fromMiB / toMiB: the `maxmemory` in force and the one the objective asks for. */
  readonly fromMiB: number;
  readonly toMiB: number;
  /** extraGiB: what the objective adds, in GiB. */
  readonly extraGiB: number;
  /** why: the measured facts that make the saving nil, one clause. */
  readonly why: string;
}

/** The gate's verdict on one knob. */
export type Verdict = 'apply' | 'hold' | 'rollback';

/** One knob after the gate: the value to set and why. */
export interface GatedDecision {
  /** knob: which knob. */
  readonly knob: KnobName;
  /** from: the current value. */
  readonly from: number;
  /** to: the value to set (equal to `from` when held). */
  readonly to: number;
  /** verdict: apply a change, hold the current value, or roll back a recent change. */
  readonly verdict: Verdict;
  /** reason: the policy's reason followed by what the gate did to it. */
  readonly reason: string;
}

/** A change that was applied, kept so the gate can enforce cooldowns, windows and rollbacks. */
export interface AppliedChange {
  /** knob: which knob changed. */
  readonly knob: KnobName;
  /** from: value before. */
  readonly from: number;
  /** to: value after. */
  readonly to: number;
  /** atSeconds: when it was applied. */
  readonly atSeconds: number;
  /** sloMetBefore: whether p95 and error rate met their targets in the snapshot that led to it. */
  readonly sloMetBefore: boolean;
  /** requestsPerSecondBefore: the load in that snapshot, so a breach explained by load is not blamed on the change. */
  readonly requestsPerSecondBefore: number;
  /** rollback: whether this change itself undid an earlier one (never rolled back again). */
  readonly rollback: boolean;
}

/** What the engine remembers between evaluations; the caller keeps it and passes it back. */
export interface TuningHistory {
  /** rates: the request rate in 5-minute buckets over up to 15 days, for the forecast (forecast.ts). */
  readonly rates?: RateHistory;
  /** changes: applied changes, oldest first. */
  readonly changes: readonly AppliedChange[];
  /** snapshots: recent valid snapshots, oldest first, for trough and peak estimates. */
  readonly snapshots: readonly MetricSnapshot[];
}

/** The engine's answer for one evaluation. */
export interface Evaluation {
  /** proposals: what the policies wanted, before the gate. */
  readonly proposals: readonly Proposal[];
  /** decisions: one per knob, after the gate. */
  readonly decisions: readonly GatedDecision[];
  /** next: the knob values after applying every `apply`/`rollback` decision. */
  readonly next: KnobValues;
  /** metricsUsable: false when the snapshot was stale, missing or nonsensical (fail static). */
  readonly metricsUsable: boolean;
  /** forecast: the forecast, its error and the floor it asks for; absent when off or metrics are unusable. */
  readonly forecast?: ForecastFloor;
}

/** The forecast floor's report (forecast-floor.ts). */
export interface ForecastFloor {
  /** forecast: the rate forecast, or why there is none. */
  readonly forecast: RateForecast;
  /** minReplicas: the floor the forecast asks for, when there is one. */
  readonly minReplicas?: number;
  /** applied: whether it raises the minReplicas proposal (mode Auto, above the reactive rule). */
  readonly applied: boolean;
  /** reason: one sentence with the numbers. */
  readonly reason: string;
}
