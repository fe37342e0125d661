/**
 * What a maxmemory change did, from the demo's samples: the cache's hit rate and evictions in the
 * same phase (same load, same keys) over the rate window the operator judged before the change,
 * and once the new maxmemory had been in force for a rate window.
 */
import type { DecisionResult, PhaseResult } from './demo-result.ts';
import type { DemoSample } from './demo-sample.ts';
import { DEMO_RATE_WINDOW_SECONDS } from './demo-values.ts';

/** The cache over some samples. */
export interface CacheWindow {
  readonly fromSeconds: number;
  readonly toSeconds: number;
  /** redisHitRatePercent is the mean of the samples' Redis hit rates (keyspace hits / lookups). */
  readonly redisHitRatePercent: number | null;
  /** apiHitRatePercent is the API's hit rate (its 30 s window) at the window's last sample. */
  readonly apiHitRatePercent: number | null;
  readonly evictedKeysPerSecond: number | null;
}

/** One maxmemory change and the cache before and after it. */
export interface MaxmemoryEffect {
  readonly atSeconds: number;
  readonly phase: string;
  readonly fromMiB: number;
  readonly toMiB: number;
  /** before: the phase's samples at the old maxmemory in the rate window up to the change; null if none. */
  readonly before: CacheWindow | null;
  /** after: from a rate window after the change to the phase's end or the next change; null if too short. */
  readonly after: CacheWindow | null;
}

const mean = (values: readonly (number | null)[]) => {
  const known = values.filter((v): v is number => v !== null);
  return known.length === 0 ? null : known.reduce((s, v) => s + v, 0) / known.length;
};

function cacheWindow(samples: readonly DemoSample[]): CacheWindow | null {
  const first = samples[0];
  const last = samples.at(-1);
  if (!first || !last) return null;
  return {
    fromSeconds: first.atSeconds,
    toSeconds: last.atSeconds,
    redisHitRatePercent: mean(samples.map((s) => s.redisHitRatePercent)),
    apiHitRatePercent: last.hitRatePercent,
    evictedKeysPerSecond: mean(samples.map((s) => s.evictedKeysPerSecond)),
  };
}

/** maxmemoryEffects lists every applied maxmemory raise with the cache before and after it. */
export function maxmemoryEffects(
  samples: readonly DemoSample[],
  decisions: readonly DecisionResult[],
  phases: readonly PhaseResult[],
): MaxmemoryEffect[] {
  const raises = decisions.filter(
    (d) => d.knob === 'redisMaxmemoryMiB' && d.outcome === 'Applied' && d.to > d.from,
  );
  return raises.flatMap((d, i) => {
    const phase = phases.find((p) => p.fromSeconds <= d.atSeconds && d.atSeconds < p.toSeconds);
    if (!phase) return [];
    const next = raises[i + 1]?.atSeconds ?? Number.POSITIVE_INFINITY;
    const inPhase = samples.filter((s) => s.phase === phase.name);
    const before = inPhase.filter(
      (s) =>
        s.atSeconds <= d.atSeconds &&
        s.atSeconds > d.atSeconds - DEMO_RATE_WINDOW_SECONDS &&
        s.maxmemoryMiB === d.from,
    );
    const after = inPhase.filter(
      (s) => s.atSeconds >= d.atSeconds + DEMO_RATE_WINDOW_SECONDS && s.atSeconds < next,
    );
    return [
      {
        atSeconds: d.atSeconds,
        phase: phase.name,
        fromMiB: d.from,
        toMiB: d.to,
        before: cacheWindow(before),
        after: cacheWindow(after),
      },
    ];
  });
}
