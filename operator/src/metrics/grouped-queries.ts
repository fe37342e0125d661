/**
 * Grouped instant queries: one answer to a default query shared by every profile on the same
 * Prometheus (same URL and credentials) in the same evaluation-interval bucket, with concurrent
 * askers of one query waiting on one request (single flight). {@link seriesOf} splits an answer
 * to one profile, pure; {@link SharedAnswers} holds the answers.
 */
import type { PrometheusClient, QueryData } from './prometheus-client.ts';
import { parseSampleValue, UnknownReason, type UnknownSignal, unknown } from './prometheus-result.ts';

/** GROUPED_ANSWER_LIMIT bounds the answers kept (each a query text on one Prometheus in one bucket). */
export const GROUPED_ANSWER_LIMIT = 512;

/**
 * seriesOf is the part of a grouped answer that belongs to one profile: the series of a vector
 * whose labels include every one of `labels`, as a vector again (none: empty; several: several),
 * so the profile's reading judges it exactly as it would judge the answer to its own query.
 * A scalar or an answer of another shape is returned as it is.
 */
export function seriesOf(data: QueryData, labels: Readonly<Record<string, string>>): QueryData {
  if (data.resultType !== 'vector' || !Array.isArray(data.result)) return data;
  const wanted = Object.entries(labels);
  const result = (data.result as { metric?: Record<string, string> }[]).filter((series) =>
    wanted.every(([name, value]) => series.metric?.[name] === value),
  );
  return { resultType: 'vector', result };
}

/**
 * overPods folds the series of a grouped-by-pod answer that belong to one profile (its
 * `namespace`, a pod whose name matches `podPattern`) with `fold` (`sum` as PromQL's `sum`, or
 * `max`): no such series is empty, never zero; the value is unchecked (NaN stays NaN, for the
 * caller's ratio to judge).
 */
export function overPods(
  signal: string,
  data: QueryData,
  namespace: string,
  podPattern: string,
  fold: 'sum' | 'max',
): { readonly value: number } | { readonly unknown: UnknownSignal } {
  if (data.resultType !== 'vector' || !Array.isArray(data.result)) {
    return unknown(
      signal,
      UnknownReason.Unparsable,
      `expected a vector, got ${JSON.stringify(data.resultType)}`,
    );
  }
  const pods = new RegExp(podPattern);
  let folded: number | undefined;
  for (const series of data.result as { metric?: Record<string, string>; value?: unknown }[]) {
    const pod = series.metric?.pod;
    if (series.metric?.namespace !== namespace || pod === undefined || !pods.test(pod)) continue;
    const value = Array.isArray(series.value) ? parseSampleValue(series.value[1]) : undefined;
    if (value === undefined) return unknown(signal, UnknownReason.Unparsable, 'a series has no sample');
    folded = folded === undefined ? value : fold === 'sum' ? folded + value : Math.max(folded, value);
  }
  return folded === undefined
    ? unknown(signal, UnknownReason.Empty, 'the query returned no series')
    : { value: folded };
}

/** One answer to a query text, per Prometheus and bucket, shared by every profile that asks. */
export class SharedAnswers {
  readonly #answers = new Map<string, { readonly until: number; readonly answer: Promise<QueryData> }>();
  readonly #limit: number;
  /** sent counts the queries sent to Prometheus (the rest were answered from a shared answer). */
  sent = 0;

  constructor(limit = GROUPED_ANSWER_LIMIT) {
    this.#limit = limit;
  }

  /**
   * ask answers `promql` on `client`'s Prometheus for the bucket of `windowSeconds` that
   * `timeSeconds` falls in: the first asker's request (at its time) answers every asker of that
   * bucket; a failed request is forgotten once it settles, so the next asker sends its own.
   * Answers of buckets that have ended are dropped, and at most the limit are kept. Without a
   * positive window nothing is shared.
   */
  ask(
    client: PrometheusClient,
    promql: string,
    timeSeconds: number,
    windowSeconds: number,
  ): Promise<QueryData> {
    if (!(windowSeconds > 0) || !Number.isFinite(timeSeconds)) {
      // No interval to align to: nothing is shared.
      this.sent++;
      return client.query(promql, timeSeconds);
    }
    const bucket = Math.floor(timeSeconds / windowSeconds);
    const key = `${client.identity}\n${windowSeconds}\n${bucket}\n${promql}`;
    const kept = this.#answers.get(key);
    if (kept) return kept.answer;
    for (const [k, { until }] of this.#answers) if (until <= timeSeconds) this.#answers.delete(k);
    this.sent++;
    const answer = client.query(promql, timeSeconds);
    this.#answers.set(key, { until: (bucket + 1) * windowSeconds, answer });
    answer.catch(() => {
      if (this.#answers.get(key)?.answer === answer) this.#answers.delete(key);
    });
    // Oldest first: a Map iterates in insertion order.
    for (const oldest of this.#answers.keys()) {
      if (this.#answers.size <= this.#limit) break;
      this.#answers.delete(oldest);
    }
    return answer;
  }

  /** size is the number of answers kept. */
  get size(): number {
    return this.#answers.size;
  }
}
