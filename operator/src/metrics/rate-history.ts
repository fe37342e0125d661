/**
 * The forecast's rate history read back from Prometheus, pure: the time range of the one range
 * query the history rebuild runs, and its points turned into the engine's {@link RateHistory}.
 */
import { RATE_BUCKET_SECONDS, RATE_HISTORY_SECONDS, type RateHistory } from '../tuning/forecast.ts';

/** The range query that reads the rate history: from `startSeconds` to `endSeconds` every `stepSeconds`. */
export interface RateHistoryRange {
  readonly startSeconds: number;
  readonly endSeconds: number;
  readonly stepSeconds: number;
}

/**
 * rateHistoryRange is the range query behind the rate history at `nowSeconds`: points on the
 * bucket grid, the last one at the start of the bucket being filled now (it closes the bucket
 * before it), the first one closing the oldest bucket kept ({@link RATE_HISTORY_SECONDS} back).
 * 15 days at 300 s is 4,320 points, inside Prometheus's 11,000 a query.
 */
export function rateHistoryRange(nowSeconds: number): RateHistoryRange {
  const endSeconds = Math.floor(nowSeconds / RATE_BUCKET_SECONDS) * RATE_BUCKET_SECONDS;
  return {
    startSeconds: endSeconds - RATE_HISTORY_SECONDS + RATE_BUCKET_SECONDS,
    endSeconds,
    stepSeconds: RATE_BUCKET_SECONDS,
  };
}

/**
 * rateHistoryFromPoints turns the range query's points (time in seconds → request rate) into
 * closed buckets, oldest first: a point at `t` reads the rate over the window that ends at `t`,
 * so it is the bucket that ends there, starting at `t −` {@link RATE_BUCKET_SECONDS} (a point off
 * the grid goes to the bucket it falls in, less one). One bucket a point; a time without a point
 * is a gap, never a zero. Points are expected checked (no NaN, no negative): readRangeSeries
 * drops and counts those. Nothing is left open: the bucket being filled now is the evaluations'.
 */
export function rateHistoryFromPoints(points: ReadonlyMap<number, number>): RateHistory {
  const byBucket = new Map<number, number>();
  for (const [t, rps] of points) {
    byBucket.set(Math.floor(t / RATE_BUCKET_SECONDS) * RATE_BUCKET_SECONDS - RATE_BUCKET_SECONDS, rps);
  }
  const buckets = [...byBucket].sort(([a], [b]) => a - b).map(([atSeconds, rps]) => ({ atSeconds, rps }));
  return { buckets };
}
