/**
 * The forecast floor. A daily peak that Prometheus has seen many times is no surprise, yet the
 * HPA only adds pods once they are hot, and each new pod serves after its start-up. This rule
 * forecasts the request rate from its own history with a seasonal median (the median of the
 * same time of day over past days, or of the same time of week once two weeks exist) times the
 * current level (how far the last hour runs above or below its own seasonal median; above it, no
 * further than the same hour ever ran in past seasons: a peak an hour early is not a level; and
 * no higher than the last quarter hour runs: a day that falls early is followed at once), and raises
 * `minReplicas` to what the highest forecast rate within the lead needs (the pods' start-up plus
 * one HPA sync and one evaluation), within the replica ceiling and the DB budget. It only raises:
 * the floor it asks for never lowers what the reactive rule asks for (AWS predictive scaling's
 * rule: never scale in on a forecast alone). With less than one full season it is off and says so.
 *
 * The model is chosen to be explained in one line of status. Its error over the last season is
 * measured and reported beside every forecast: the mean absolute percentage error of the
 * seasonal median, made for each point of the last season from the seasons before it.
 *
 * It imports nothing of the engine: types.ts imports its history and forecast types.
 */

/** Seconds in a day, the daily season. */
export const DAY_SECONDS = 86_400;
/** Seconds in a week, the weekly season (used once two weeks of history exist). */
export const WEEK_SECONDS = 7 * DAY_SECONDS;
/** The rate history's resolution: one mean a bucket of this many seconds. */
export const RATE_BUCKET_SECONDS = 300;
/** How much rate history is kept: two weeks and a day, enough for two weekly seasons. */
export const RATE_HISTORY_SECONDS = 15 * DAY_SECONDS;
/** The level is the median ratio of the rate to its seasonal median over this much recent time. */
export const FORECAST_LEVEL_SECONDS = 3600;
/**
 * The level is no higher than the median ratio over this much recent time: the hour's median lags
 * a day that falls early by half an hour, and a forecast above the load holds a pod it does not need.
 */
export const FORECAST_RECENT_LEVEL_SECONDS = 900;
/** The level is kept within these bounds, so one odd hour cannot run away with the forecast. */
export const FORECAST_LEVEL_BOUNDS = [0.5, 2] as const;

/** One bucket of the rate history: its start and its mean request rate. */
export interface RateBucket {
  readonly atSeconds: number;
  readonly rps: number;
}

/** The request rate's history, in buckets of {@link RATE_BUCKET_SECONDS}; the last one may be open. */
export interface RateHistory {
  /** buckets: closed buckets, oldest first. */
  readonly buckets: readonly RateBucket[];
  /** open: the bucket being filled: its start, the sum of its samples and their count. */
  readonly open?: { readonly atSeconds: number; readonly sum: number; readonly count: number };
}

/** A rate history with nothing in it. */
export const EMPTY_RATE_HISTORY: RateHistory = { buckets: [] };

/**
 * The history with one more sample of the rate. Closed buckets are copied only when a bucket
 * closes (once every {@link RATE_BUCKET_SECONDS}), so a long history stays cheap to carry.
 */
export function appendRate(history: RateHistory, atSeconds: number, rps: number): RateHistory {
  const start = Math.floor(atSeconds / RATE_BUCKET_SECONDS) * RATE_BUCKET_SECONDS;
  const { open } = history;
  if (open && open.atSeconds === start) {
    return {
      buckets: history.buckets,
      open: { atSeconds: start, sum: open.sum + rps, count: open.count + 1 },
    };
  }
  const closed = open
    ? [...history.buckets, { atSeconds: open.atSeconds, rps: open.sum / open.count }]
    : history.buckets;
  const oldest = start - RATE_HISTORY_SECONDS;
  const kept =
    closed.length > 0 && (closed[0]?.atSeconds ?? 0) < oldest
      ? closed.filter((b) => b.atSeconds >= oldest)
      : closed;
  return { buckets: kept, open: { atSeconds: start, sum: rps, count: 1 } };
}

/** A rate history built from snapshots (what the history rebuild reads from Prometheus). */
export function rateHistoryOf(
  snapshots: readonly { readonly takenAtSeconds: number; readonly requestsPerSecond: number }[],
): RateHistory {
  let history = EMPTY_RATE_HISTORY;
  for (const s of snapshots) history = appendRate(history, s.takenAtSeconds, s.requestsPerSecond);
  return history;
}

/** A forecast of the request rate, or why there is none. */
export type RateForecast =
  | {
      readonly on: true;
      /** season: the season the forecast repeats. */
      readonly season: 'daily' | 'weekly';
      /** seasons: how many past seasons the median is taken over. */
      readonly seasons: number;
      /** level: the last hour's rate over its seasonal median, within the bounds below. */
      readonly level: number;
      /**
       * levelKept: where the last hour ran above the highest level the same hour ran at in past
       * seasons (at least 1, at most {@link FORECAST_LEVEL_BOUNDS}' upper bound): the level
       * measured, that highest level (the level used), and how many past seasons showed the hour.
       */
      readonly levelKept?: {
        readonly measured: number;
        readonly high: number;
        readonly seasons: number;
      };
      /**
       * levelFell: where the last {@link FORECAST_RECENT_LEVEL_SECONDS} ran below the hour's level
       * (theirs is then the level measured, and `levelKept.measured` where that binds): the hour's
       * level and theirs.
       */
      readonly levelFell?: { readonly hour: number; readonly recent: number };
      /** peakRps / peakAtSeconds: the highest forecast rate within the horizon, and when. */
      readonly peakRps: number;
      readonly peakAtSeconds: number;
      /** errorPercent: the seasonal median's mean absolute percentage error over the last season; undefined with one season. */
      readonly errorPercent: number | undefined;
    }
  | { readonly on: false; readonly reason: string };

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** Bucket means by start time: a dense array from the oldest bucket, NaN where none was recorded. */
interface RateIndex {
  readonly oldest: number;
  readonly values: Float64Array;
}

function indexOf(buckets: readonly RateBucket[]): RateIndex {
  const oldest = buckets[0]?.atSeconds ?? 0;
  const last = buckets[buckets.length - 1]?.atSeconds ?? oldest;
  const values = new Float64Array((last - oldest) / RATE_BUCKET_SECONDS + 1).fill(Number.NaN);
  for (const b of buckets) values[(b.atSeconds - oldest) / RATE_BUCKET_SECONDS] = b.rps;
  return { oldest, values };
}

function rateAt(index: RateIndex, at: number): number | undefined {
  const v = index.values[(at - index.oldest) / RATE_BUCKET_SECONDS];
  return v === undefined || Number.isNaN(v) ? undefined : v;
}

/** The median of the rate at `at − k·season` for every k ≥ 1 the history holds, or undefined. */
function seasonalMedian(index: RateIndex, at: number, season: number): number | undefined {
  const values: number[] = [];
  for (let t = at - season; t >= index.oldest; t -= season) {
    const v = rateAt(index, t);
    if (v !== undefined) values.push(v);
  }
  return values.length > 0 ? median(values) : undefined;
}

/**
 * The level of the `seconds` (an hour unless told) whose last bucket starts at `lastBucket`: the
 * median over their buckets of the rate over its seasonal median, or undefined where no bucket
 * has both.
 */
function hourLevel(
  index: RateIndex,
  lastBucket: number,
  season: number,
  seconds = FORECAST_LEVEL_SECONDS,
): number | undefined {
  const ratios: number[] = [];
  for (let t = lastBucket; t > lastBucket - seconds; t -= RATE_BUCKET_SECONDS) {
    const actual = rateAt(index, t);
    const usual = seasonalMedian(index, t, season);
    if (actual !== undefined && usual !== undefined && usual > 0) ratios.push(actual / usual);
  }
  return ratios.length > 0 ? median(ratios) : undefined;
}

/** What depends only on the closed buckets: their index and the error over the last season. */
interface ClosedBucketFacts {
  readonly index: RateIndex;
  readonly errorPercent: number | undefined;
}

/**
 * Closed buckets change once every {@link RATE_BUCKET_SECONDS} while the forecast is asked every
 * evaluation, so their facts are kept per buckets array (which is replaced, never changed, when a
 * bucket closes). A cache of a pure function: the answer is the same without it.
 */
const closedFacts = new WeakMap<readonly RateBucket[], Map<number, ClosedBucketFacts>>();

function closedBucketFacts(buckets: readonly RateBucket[], season: number): ClosedBucketFacts {
  const bySeason = closedFacts.get(buckets) ?? new Map<number, ClosedBucketFacts>();
  closedFacts.set(buckets, bySeason);
  const known = bySeason.get(season);
  if (known) return known;
  const index = indexOf(buckets);
  const last = buckets[buckets.length - 1]?.atSeconds ?? 0;
  // The error over the last season: each bucket against the median of the seasons before it.
  let sum = 0;
  let count = 0;
  for (let t = last - season + RATE_BUCKET_SECONDS; t <= last; t += RATE_BUCKET_SECONDS) {
    const actual = rateAt(index, t);
    const usual = seasonalMedian(index, t, season);
    if (actual === undefined || usual === undefined || actual <= 0) continue;
    sum += Math.abs(usual - actual) / actual;
    count++;
  }
  const facts = { index, errorPercent: count > 0 ? (100 * sum) / count : undefined };
  bySeason.set(season, facts);
  return facts;
}

/**
 * The forecast of the request rate over `(now, now + horizonSeconds]`: the seasonal median of each
 * bucket times the current level, and the highest of them. Weekly once the history spans two
 * weeks, daily once it spans one day; off before that, with the reason.
 */
export function forecastRate(history: RateHistory, nowSeconds: number, horizonSeconds: number): RateForecast {
  const { buckets } = history;
  const first = buckets[0];
  const last = buckets[buckets.length - 1];
  if (!first || !last)
    return { on: false, reason: 'no request-rate history yet; the forecast needs one full day' };
  // The open bucket counts toward the span: a history sampled for exactly a day holds a day.
  const newest = Math.max(last.atSeconds, history.open?.atSeconds ?? last.atSeconds);
  const span = newest + RATE_BUCKET_SECONDS - first.atSeconds;
  if (span < DAY_SECONDS) {
    return {
      on: false,
      reason: `${(span / 3600).toFixed(1)} h of request-rate history; the forecast needs one full day (a season)`,
    };
  }
  const season = span >= 2 * WEEK_SECONDS ? WEEK_SECONDS : DAY_SECONDS;
  const facts = closedBucketFacts(buckets, season);
  const { index } = facts;
  // Only with two seasons is there a season before the last one to forecast it from.
  const errorPercent = span >= 2 * season ? facts.errorPercent : undefined;
  const bucketOf = (t: number) => Math.floor(t / RATE_BUCKET_SECONDS) * RATE_BUCKET_SECONDS;
  // The level: how the last hour runs against its own seasonal median.
  const lastHour = bucketOf(nowSeconds) - RATE_BUCKET_SECONDS;
  const today = hourLevel(index, lastHour, season);
  // The last quarter hour: a day that falls early shows there first, and the floor follows it down.
  const recent = hourLevel(index, lastHour, season, FORECAST_RECENT_LEVEL_SECONDS);
  // The same hour in each past season that has seasons before it: how far it ran above its own
  // median. Today's level raises the forecast no further than the highest of theirs (and 1): an
  // hour further above its seasonal median than the same hour ever ran is a shape the history has
  // not shown (a peak an hour early), not a level by which to scale the peak to come. A low level
  // only lowers the forecast, and the floor only raises what the reactive rule asks, so it stands.
  let high = 1;
  let seasonsSeen = 0;
  for (let end = lastHour - season; end - FORECAST_LEVEL_SECONDS >= first.atSeconds + season; end -= season) {
    const past = hourLevel(index, end, season);
    if (past === undefined) continue;
    high = Math.max(high, past);
    seasonsSeen++;
  }
  const [lowLevel, highBound] = FORECAST_LEVEL_BOUNDS;
  const highLevel = seasonsSeen > 0 ? Math.min(highBound, high) : highBound;
  const fell = today !== undefined && recent !== undefined && recent < today;
  const measured = fell ? recent : today;
  const level = measured !== undefined ? Math.min(highLevel, Math.max(lowLevel, measured)) : 1;
  let peakRps = 0;
  let peakAtSeconds = nowSeconds;
  for (let t = bucketOf(nowSeconds); t <= nowSeconds + horizonSeconds; t += RATE_BUCKET_SECONDS) {
    const usual = seasonalMedian(index, t, season);
    if (usual !== undefined && usual * level > peakRps) {
      peakRps = usual * level;
      peakAtSeconds = Math.max(nowSeconds, t);
    }
  }
  const seasons = Math.floor(span / season);
  return {
    on: true,
    season: season === WEEK_SECONDS ? 'weekly' : 'daily',
    seasons,
    level,
    ...(measured !== undefined && seasonsSeen > 0 && measured > highLevel
      ? { levelKept: { measured, high: highLevel, seasons: seasonsSeen } }
      : {}),
    ...(fell && today !== undefined && recent !== undefined ? { levelFell: { hour: today, recent } } : {}),
    peakRps,
    peakAtSeconds,
    errorPercent,
  };
}
