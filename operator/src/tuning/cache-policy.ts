import { describeObjectiveCost, hitRateObjectiveCost } from './objective-cost.ts';
import { DEFAULT_HPA_TOLERANCE, maxMemoryCeilingMiB } from './tuning-spec.ts';
import {
  type AppliedChange,
  type HpaTargets,
  type HpaTolerance,
  hpaUsageRatio,
  type KnobValues,
  type MetricSnapshot,
  type ObjectiveCost,
  type TuningSpec,
} from './types.ts';

const MIB = 1024 * 1024;
/** The policy aims this far above the hit-rate target so that noise does not cross it. */
export const HIT_RATE_MARGIN = 0.02;
/** Prior exponent of the capacity-miss curve m(M) = m0 · (M0 / M)^b, used until a change lets us fit it. */
export const PRIOR_MISS_CURVE_EXPONENT = 0.5;
/** Memory kept above used memory when shrinking an idle cache. */
const IDLE_HEADROOM = 1.25;
/** A cache whose evictions cause fewer misses than this share of requests is not memory-bound. */
const NEGLIGIBLE_CAPACITY_MISSES = 0.002;
/**
 * While the HPA runs the fleet above its floor, CPU decides how many pods run, and every eviction
 * miss is a DB query and the CPU of a miss instead of a hit; memory then grows until eviction
 * misses are at most this share of lookups, even when the hit-rate target already holds. A GiB
 * of Redis memory costs far less than the CPU those misses take, so this trades memory for pods.
 */
export const CPU_BOUND_CAPACITY_MISS_AIM = 0.01;

/** What the memory policy knows of the fleet besides the cache. */
export interface MemoryContext {
  /** cpuBound: the HPA runs more replicas than the floor, or is about to, so CPU saved on misses is pods saved ({@link memoryContext}). @default false */
  readonly cpuBound?: boolean;
  /**
   * atFloor: the fleet runs at its `minReplicas` with CPU below the HPA target, so hits it would
   * lose cost no pod now; idle memory is then sized for today's use, not kept for the
   * remembered or forecast peak (it grows back once the fleet is CPU-bound). @default false
   */
  readonly atFloor?: boolean;
}

/**
 * What the fleet's state says about the worth of hits. CPU-bound: the HPA runs more replicas than
 * the floor, or the fleet at its floor runs within the HPA's tolerance of the CPU target, where the
 * next swing of load adds a pod (a step shows here first: in the minute it saturates the floor,
 * before the HPA's new pods are ready), so eviction misses cost pods or are about to. At the
 * floor: `minReplicas` replicas with CPU below the target, where idle memory is sized for today's
 * use.
 */
export function memoryContext(
  snapshot: MetricSnapshot,
  current: Pick<KnobValues, 'minReplicas'> & HpaTargets,
  tolerance: HpaTolerance = DEFAULT_HPA_TOLERANCE,
): MemoryContext {
  const usage = hpaUsageRatio(snapshot, current);
  const atMinimum = snapshot.readyReplicas <= current.minReplicas;
  return {
    cpuBound: !atMinimum || usage >= 1 - tolerance.scaleDown,
    atFloor: atMinimum && usage < 1,
  };
}

/** Hit-rate anatomy of one snapshot. */
export interface MissBreakdown {
  /** hitRate: hits / (hits + misses). */
  readonly hitRate: number;
  /** capacityMissRatio: share of lookups missed because the key was evicted (memory can cure these). */
  readonly capacityMissRatio: number;
  /** otherMissRatio: share missed because the key expired or was never cached (memory cannot). */
  readonly otherMissRatio: number;
}

/**
 * Splits misses by cause. In steady state every miss inserts a key and every inserted key leaves
 * by eviction or by TTL expiry, so evictions / (evictions + expirations) is the share of misses
 * that more memory would have turned into hits; the rest are TTL or first-touch misses.
 */
export function breakDownMisses(snapshot: MetricSnapshot): MissBreakdown | undefined {
  if (!snapshot.redis) return undefined;
  const { hitsPerSecond, missesPerSecond, evictedKeysPerSecond, expiredKeysPerSecond } = snapshot.redis;
  const lookups = hitsPerSecond + missesPerSecond;
  if (lookups <= 0) return undefined;
  const missRatio = missesPerSecond / lookups;
  const leaving = evictedKeysPerSecond + expiredKeysPerSecond;
  const evictedShare = leaving > 0 ? Math.min(1, evictedKeysPerSecond / leaving) : 0;
  const capacityMissRatio = missRatio * evictedShare;
  return { hitRate: 1 - missRatio, capacityMissRatio, otherMissRatio: missRatio - capacityMissRatio };
}

/**
 * Fits the exponent b of m(M) = m0 · (M0 / M)^b from the last memory change: the snapshot just
 * before it and the current one (capacity-miss ratios at two memory sizes). Falls back to the
 * prior when there is no usable pair; clamped to [0.2, 2] so one noisy pair cannot run away.
 */
export function fitMissCurveExponent(
  lastMemoryChange: AppliedChange | undefined,
  before: MetricSnapshot | undefined,
  now: MetricSnapshot,
): number {
  if (!lastMemoryChange || !before) return PRIOR_MISS_CURVE_EXPONENT;
  const a = breakDownMisses(before);
  const b = breakDownMisses(now);
  if (!a || !b || a.capacityMissRatio <= 0 || b.capacityMissRatio <= 0) return PRIOR_MISS_CURVE_EXPONENT;
  const ratio = lastMemoryChange.to / lastMemoryChange.from;
  if (Math.abs(Math.log(ratio)) < 0.05) return PRIOR_MISS_CURVE_EXPONENT;
  const fitted = Math.log(a.capacityMissRatio / b.capacityMissRatio) / Math.log(ratio);
  if (!Number.isFinite(fitted)) return PRIOR_MISS_CURVE_EXPONENT;
  return Math.min(2, Math.max(0.2, fitted));
}

/** Snapshots looked back on to tell whether the cache is in a steady state. */
export const CACHE_SETTLE_SNAPSHOTS = 10;
/** A hit rate that moved by more than this at the same maxmemory and load is not a steady state. */
export const CACHE_UNSETTLED_HIT_RATE_SWING = 0.05;
/** Snapshots whose load differs by more than this share are not compared. */
const CACHE_SETTLE_LOAD_BAND = 0.2;

/**
 * Why the cache is not in a steady state, or undefined when it is. At the same `maxmemory` and
 * load a cache's hit rate only moves when its content does: a key universe that was replaced (a
 * new day's keys, a new key format) collapses it and warms it back, while Redis reports evictions
 * of the dead keys throughout. The memory policy assumes a steady state (its miss curve does), so
 * it waits while the hit rate swings by more than {@link CACHE_UNSETTLED_HIT_RATE_SWING} between
 * comparable snapshots of the last {@link CACHE_SETTLE_SNAPSHOTS}: same `maxmemory`, load within
 * ±20 %, and Redis evicting (a cache that evicted nothing was still filling, which is not a change
 * of content: its first evictions are the signal to size it, not a reason to wait).
 */
export function cacheUnsettled(
  history: readonly MetricSnapshot[],
  snapshot: MetricSnapshot,
): string | undefined {
  const now = breakDownMisses(snapshot);
  if (!now) return undefined;
  let lowest = now.hitRate;
  let highest = now.hitRate;
  for (const s of history.slice(-CACHE_SETTLE_SNAPSHOTS)) {
    if (s.redis?.maxMemoryBytes !== snapshot.redis?.maxMemoryBytes) continue;
    // A cache that evicted nothing was still filling (or idle): its hit rate rose with its content
    // for want of memory, not because the content changed, so it says nothing about settling.
    if (!((s.redis?.evictedKeysPerSecond ?? 0) > 0)) continue;
    const load = s.requestsPerSecond / Math.max(snapshot.requestsPerSecond, 1e-9);
    if (Math.abs(load - 1) > CACHE_SETTLE_LOAD_BAND) continue;
    const hitRate = breakDownMisses(s)?.hitRate;
    if (hitRate === undefined) continue;
    lowest = Math.min(lowest, hitRate);
    highest = Math.max(highest, hitRate);
  }
  if (highest - lowest <= CACHE_UNSETTLED_HIT_RATE_SWING) return undefined;
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  return `cache not settled: hit rate between ${pct(lowest)} and ${pct(highest)} over the last ${CACHE_SETTLE_SNAPSHOTS} snapshots at the same maxmemory and load (its content changed); memory waits`;
}

/** What {@link recommendMaxMemory} sizes memory from. */
export interface MemoryInput {
  /** spec: the hit-rate target and the memory bounds. */
  readonly spec: TuningSpec;
  /** snapshot: the usable snapshot (hits, misses, evictions, expirations, used memory). */
  readonly snapshot: MetricSnapshot;
  /** currentMiB: the `maxmemory` in force. */
  readonly currentMiB: number;
  /** missCurveExponent: b of the capacity-miss curve m(M) = m0 · (M0 / M)^b. */
  readonly missCurveExponent: number;
  /** peakUsedBytes: the most memory used over the remembered history. */
  readonly peakUsedBytes: number;
  /** forecastPeakRps: the load the keys' footprint is scaled to before idle memory is released. */
  readonly forecastPeakRps: number;
  /** context: what the fleet's state says about the worth of hits. @default {} */
  readonly context?: MemoryContext;
  /**
   * regrowWindow: the seconds before memory released now can grow back (the gate's stabilization
   * window) and the load's growth over that long ({@link loadGrowth}), undefined while the history
   * has too few pairs. At the floor idle memory is sized for today's use grown by that much.
   */
  readonly regrowWindow?: { readonly seconds: number; readonly growth: number | undefined };
}

/** The wanted `maxmemory` and why; undefined value means "leave it". */
export interface MemoryNeed {
  /** valueMiB: the wanted maxmemory, or undefined to keep the current one. */
  readonly valueMiB: number | undefined;
  /** reason: the numbers behind it. */
  readonly reason: string;
  /** objectiveCost: set when the growth is for the hit-rate objective alone (no pod or latency saving). */
  readonly objectiveCost?: ObjectiveCost;
}

/**
 * Sizes Redis `maxmemory` for the hit-rate target. Memory is grown only for capacity misses
 * (evictions); when TTL or first-touch misses alone exceed the target's miss budget, memory
 * cannot reach the target and the policy says so instead of growing. The memory needed comes
 * from the capacity-miss curve m(M) = m0 · (M0 / M)^b, b fitted from the last change. Memory
 * shrinks only when it is idle: nothing is evicted, and neither the most memory used over the
 * remembered history (`peakUsedBytes`) nor today's use scaled to `forecastPeakRps` needs it
 * (plus headroom). Memory
 * that serves hits is not released: every hit it gives up becomes a DB query and CPU on a pod.
 * While the fleet is CPU-bound (`context.cpuBound`) memory also grows, target met or not, until
 * eviction misses are at most {@link CPU_BOUND_CAPACITY_MISS_AIM} of lookups.
 */
export function recommendMaxMemory({
  spec,
  snapshot,
  currentMiB,
  missCurveExponent,
  peakUsedBytes,
  forecastPeakRps,
  context = {},
  regrowWindow,
}: MemoryInput): MemoryNeed {
  const breakdown = breakDownMisses(snapshot);
  if (!breakdown || !snapshot.redis)
    return {
      valueMiB: undefined,
      reason: snapshot.redis ? 'no cache lookups in the window' : 'Redis not measured',
    };
  const { hitRate, capacityMissRatio, otherMissRatio } = breakdown;
  const aimMissRatio = 1 - Math.min(0.999, spec.slo.cacheHitRate + HIT_RATE_MARGIN);
  const ceiling = maxMemoryCeilingMiB(spec);
  const usedMiB = snapshot.redis.usedMemoryBytes / MIB;
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  const facts = `hit rate ${pct(hitRate)} (eviction misses ${pct(capacityMissRatio)}, TTL/first misses ${pct(otherMissRatio)})`;
  const clamp = (v: number) => Math.max(spec.knobs.redisMaxmemoryMiB.min, Math.min(ceiling, Math.round(v)));

  // With a TTL, the keys' footprint grows with the request rate, at most linearly (each key's
  // resident share λτ / (1 + λτ) is concave in λ), so scale what we saw to the forecast peak.
  const loadGrowth = Math.max(1, forecastPeakRps / Math.max(snapshot.requestsPerSecond, 1e-9));
  // At the floor, memory released now cannot come back before the stabilization window has passed,
  // so it is sized for the keys of the load that window may bring (its measured growth).
  const floorGrowth = regrowWindow?.growth ?? 1;
  const footprintMiB = context.atFloor
    ? usedMiB * floorGrowth
    : Math.max(usedMiB * loadGrowth, peakUsedBytes / MIB);
  if (capacityMissRatio < NEGLIGIBLE_CAPACITY_MISSES && footprintMiB * IDLE_HEADROOM < currentMiB) {
    // Nothing is evicted and the keys would not fill this much even at the forecast peak: the
    // memory is idle whatever the hit rate (TTL misses are not cured by memory), so release it.
    if (context.atFloor && regrowWindow && regrowWindow.growth === undefined) {
      return {
        valueMiB: undefined,
        reason: `${facts}: nothing evicted and the fleet at its floor, but memory released now waits out the ${regrowWindow.seconds} s stabilization window to grow back, and the load's growth over that window is not measured yet; memory is kept`,
      };
    }
    return {
      valueMiB: clamp(footprintMiB * IDLE_HEADROOM),
      reason: context.atFloor
        ? `${facts}: nothing evicted; ${Math.round(usedMiB)} MiB used and the fleet at its floor with CPU to spare; the load grew up to ${floorGrowth.toFixed(2)}× within the ${regrowWindow?.seconds ?? 0} s before memory could grow back, so ${Math.round(footprintMiB)} MiB + 25 %`
        : `${facts}: nothing evicted; ${Math.round(usedMiB)} MiB used, at most ${Math.round(footprintMiB)} MiB at the forecast peak of ${Math.round(forecastPeakRps)} rps; shrink to that + 25 %`,
    };
  }
  if (hitRate < spec.slo.cacheHitRate + HIT_RATE_MARGIN) {
    if (otherMissRatio >= aimMissRatio) {
      return {
        valueMiB: undefined,
        reason: `${facts}: TTL expiry alone exceeds the miss budget ${pct(aimMissRatio)}; memory cannot help`,
      };
    }
    if (capacityMissRatio < NEGLIGIBLE_CAPACITY_MISSES) {
      return { valueMiB: undefined, reason: `${facts}: almost nothing is evicted; memory is not the limit` };
    }
    const allowedCapacityMisses = aimMissRatio - otherMissRatio;
    const needed = currentMiB * (capacityMissRatio / allowedCapacityMisses) ** (1 / missCurveExponent);
    const valueMiB = clamp(needed);
    const reason = `${facts}: curve m ∝ M^-${missCurveExponent.toFixed(2)} needs ${Math.round(needed)} MiB for ${pct(1 - aimMissRatio)}`;
    const objectiveCost = hitRateObjectiveCost(
      spec,
      snapshot,
      context.cpuBound ?? false,
      currentMiB,
      valueMiB,
    );
    return objectiveCost
      ? { valueMiB, reason: `${reason}; ${describeObjectiveCost(objectiveCost)}`, objectiveCost }
      : { valueMiB, reason };
  }
  if (context.cpuBound && capacityMissRatio > CPU_BOUND_CAPACITY_MISS_AIM) {
    const needed = currentMiB * (capacityMissRatio / CPU_BOUND_CAPACITY_MISS_AIM) ** (1 / missCurveExponent);
    return {
      valueMiB: clamp(needed),
      reason: `${facts}: the fleet runs above its floor, so eviction misses cost pods; curve m ∝ M^-${missCurveExponent.toFixed(2)} needs ${Math.round(needed)} MiB for eviction misses ≤ ${pct(CPU_BOUND_CAPACITY_MISS_AIM)}`,
    };
  }
  return { valueMiB: undefined, reason: `${facts}: target holds` };
}
