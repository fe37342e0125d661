/**
 * Judging what Prometheus answered, pure: a value the engine may use, or "unknown" with the
 * signal named and why. An empty result, several series where one is expected, NaN, ±Inf, a
 * negative value or a sample older than the staleness bound is unknown, never zero (KEDA's
 * users lost capacity to empty-means-zero, kedacore/keda#3065).
 */

/** Why a signal is unknown; also the `reason` label of the operator's counter. */
export const UnknownReason = {
  /** Empty: the query returned no series. */
  Empty: 'empty',
  /** MultipleSeries: several series where one is expected. */
  MultipleSeries: 'multiple_series',
  /** NotANumber: the value is NaN (often 0/0: no traffic in the window). */
  NotANumber: 'nan',
  /** Infinite: the value is +Inf or -Inf. */
  Infinite: 'infinite',
  /** Negative: the value is below zero. */
  Negative: 'negative',
  /** Stale: the newest sample is older than the staleness bound. */
  Stale: 'stale',
  /** Unanswered: the source did not answer (unreachable, timeout, HTTP error, bad query). */
  Unanswered: 'unanswered',
  /** Unparsable: the answer was not the shape asked for. */
  Unparsable: 'unparsable',
  /** NotQueried: the query could not be built (a needed variable is unknown). */
  NotQueried: 'not_queried',
  /** NotEnoughReadings: a rate needs two readings and there is one. */
  NotEnoughReadings: 'not_enough_readings',
} as const;
/** One of the reasons above. */
export type UnknownReason = (typeof UnknownReason)[keyof typeof UnknownReason];

/** A signal the sources could not measure, and why (for conditions, logs and metrics). */
export interface UnknownSignal {
  /** signal is the name of the signal, e.g. `p95LatencyMs` or `redis.evictedKeysPerSecond`. */
  readonly signal: string;
  /** reason classifies why. */
  readonly reason: UnknownReason;
  /** message says it for humans, naming the signal. */
  readonly message: string;
}

/** A reading: a usable value or an unknown. */
export type Reading = { readonly value: number } | { readonly unknown: UnknownSignal };

/** unknown builds an unknown reading with a message that names the signal. */
export function unknown(signal: string, reason: UnknownReason, detail: string): { unknown: UnknownSignal } {
  return { unknown: { signal, reason, message: `${signal}: ${detail}` } };
}

/** checkValue turns a number into a reading: NaN, ±Inf and negatives are unknown. */
export function checkValue(signal: string, value: number): Reading {
  if (Number.isNaN(value)) return unknown(signal, UnknownReason.NotANumber, 'the value is NaN');
  if (!Number.isFinite(value)) return unknown(signal, UnknownReason.Infinite, `the value is ${value}`);
  if (value < 0) return unknown(signal, UnknownReason.Negative, `the value is negative (${value})`);
  return { value };
}

/** Prometheus writes sample values as strings: "1.5", "NaN", "+Inf", "-Inf". */
export function parseSampleValue(text: unknown): number | undefined {
  if (typeof text !== 'string') return undefined;
  if (text === '+Inf' || text === 'Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  if (text === 'NaN') return Number.NaN;
  const value = Number(text);
  return text.trim() === '' || (Number.isNaN(value) && text !== 'NaN') ? undefined : value;
}

function isSample(value: unknown): value is [number, string] {
  return Array.isArray(value) && value.length === 2 && typeof value[0] === 'number';
}

/**
 * readInstantValue reads the one value of an instant query's `data` (`vector` with exactly one
 * series, or `scalar`) for `signal`.
 */
export function readInstantValue(signal: string, data: unknown): Reading {
  const { resultType, result } = (data ?? {}) as { resultType?: unknown; result?: unknown };
  if (resultType === 'scalar') {
    if (!isSample(result))
      return unknown(signal, UnknownReason.Unparsable, 'the scalar answer has no sample');
    const value = parseSampleValue(result[1]);
    if (value === undefined)
      return unknown(signal, UnknownReason.Unparsable, `"${result[1]}" is not a number`);
    return checkValue(signal, value);
  }
  if (resultType !== 'vector' || !Array.isArray(result)) {
    return unknown(
      signal,
      UnknownReason.Unparsable,
      `expected a vector or a scalar, got ${JSON.stringify(resultType)}`,
    );
  }
  if (result.length === 0) return unknown(signal, UnknownReason.Empty, 'the query returned no series');
  if (result.length > 1) {
    return unknown(
      signal,
      UnknownReason.MultipleSeries,
      `the query returned ${result.length} series where one is expected`,
    );
  }
  const sample = (result[0] as { value?: unknown }).value;
  if (!isSample(sample)) return unknown(signal, UnknownReason.Unparsable, 'the series has no sample');
  const value = parseSampleValue(sample[1]);
  if (value === undefined) return unknown(signal, UnknownReason.Unparsable, `"${sample[1]}" is not a number`);
  return checkValue(signal, value);
}

/**
 * checkFreshness judges a signal by the age of its newest raw sample (the answer to its age
 * query): older than `stalenessSeconds` is stale, and so is a value whose raw series has no
 * current sample (an exporter that stopped serving it: a rate over a range still sees its old
 * samples for minutes). A NaN over a stale series is stale too. An age that cannot be read
 * otherwise leaves the value reading as it is.
 */
export function checkFreshness(
  value: Reading,
  age: Reading,
  signal: string,
  stalenessSeconds: number,
): Reading {
  // A NaN over a stale series is stale first: the source stopped, nothing was divided by zero.
  if ('unknown' in value && value.unknown.reason !== UnknownReason.NotANumber) return value;
  if ('unknown' in age) {
    return age.unknown.reason === UnknownReason.Empty
      ? unknown(signal, UnknownReason.Stale, 'its raw series has no current sample (gone stale)')
      : value;
  }
  if (age.value > stalenessSeconds) {
    return unknown(
      signal,
      UnknownReason.Stale,
      `the newest sample is ${Math.round(age.value)} s old, more than the ${stalenessSeconds} s staleness bound`,
    );
  }
  return value;
}

/**
 * isNoEvents tells "no events" from a broken source for a NaN value: the signal's count (its
 * events query) must be exactly 0 and its newest raw sample younger than the staleness bound.
 * Anything else (no count, a count that moved, NaN in the count, a stale or unreadable age)
 * leaves the NaN unknown.
 */
export function isNoEvents(
  value: Reading,
  age: Reading | undefined,
  events: Reading | undefined,
  stalenessSeconds: number,
): boolean {
  if (!('unknown' in value) || value.unknown.reason !== UnknownReason.NotANumber) return false;
  if (!age || 'unknown' in age || age.value > stalenessSeconds) return false;
  return events !== undefined && 'value' in events && events.value === 0;
}

/** One series of a range query: usable points by time (seconds), and the points it rejected. */
export interface RangeSeries {
  readonly points: ReadonlyMap<number, number>;
  /** rejected counts points that were NaN, infinite or negative. */
  readonly rejected: number;
}

/**
 * readRangeSeries reads the one series of a range query's `data` (`matrix`): an empty matrix is an
 * empty series, several series are unknown, bad points are dropped and counted.
 */
export function readRangeSeries(signal: string, data: unknown): RangeSeries | { unknown: UnknownSignal } {
  const { resultType, result } = (data ?? {}) as { resultType?: unknown; result?: unknown };
  if (resultType !== 'matrix' || !Array.isArray(result)) {
    return unknown(signal, UnknownReason.Unparsable, `expected a matrix, got ${JSON.stringify(resultType)}`);
  }
  if (result.length > 1) {
    return unknown(
      signal,
      UnknownReason.MultipleSeries,
      `the range query returned ${result.length} series where one is expected`,
    );
  }
  const points = new Map<number, number>();
  let rejected = 0;
  const values = ((result[0] as { values?: unknown } | undefined)?.values ?? []) as unknown[];
  for (const sample of values) {
    const value = isSample(sample) ? parseSampleValue(sample[1]) : undefined;
    if (!isSample(sample) || value === undefined || 'unknown' in checkValue(signal, value)) {
      rejected++;
      continue;
    }
    points.set(sample[0], value);
  }
  return { points, rejected };
}
