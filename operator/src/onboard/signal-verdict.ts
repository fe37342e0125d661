/**
 * How `perfpilot doctor` judges one signal's query: the same judgement the metric sources make
 * (prometheus-result.ts: one series, a number, not stale), said with what came back and how to
 * fix it. Pure.
 */
import type { Signal } from '../api/v1alpha1/index.ts';
import { checkFreshness, isNoEvents, readInstantValue, UnknownReason } from '../metrics/prometheus-result.ts';
import type { DoctorLine, Verdict } from './doctor-report.ts';

/** What Prometheus answered for one signal: the value query's data and the age query's, or an error. */
export type SignalAnswer =
  | { readonly data: unknown; readonly age?: unknown; readonly events?: unknown }
  | { readonly error: string }
  | { readonly problem: string };

/** The inputs of {@link judgeSignal}. */
export interface SignalCase {
  readonly signal: Signal;
  /** query is the PromQL that ran (or would have), placeholders filled in. */
  readonly query?: string;
  /** live: the signal is read at every evaluation (a failure stops tuning); otherwise it only rebuilds history. */
  readonly live: boolean;
  /** overridden: the profile replaced the default query. */
  readonly overridden: boolean;
  readonly stalenessSeconds: number;
  /** labels the default queries select, for the fix, e.g. `namespace="shop", job="risk-api"`. */
  readonly selector: string;
}

function seriesCount(data: unknown): number | undefined {
  const result = (data as { resultType?: string; result?: unknown } | undefined)?.result;
  return (data as { resultType?: string })?.resultType === 'vector' && Array.isArray(result)
    ? result.length
    : undefined;
}

function format(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toPrecision(4).replace(/\.?0+$/, '');
}

/**
 * judgeSignal turns one answer into a report line: ok with the value and its age, or the reason
 * (empty, N series, NaN, stale, unanswered) with a fix. A live signal's problem fails; a
 * history-only signal's warns.
 */
export function judgeSignal(c: SignalCase, answer: SignalAnswer): DoctorLine {
  const check = `signal ${c.signal}`;
  const more = c.query ? [`query: ${c.query}`] : [];
  const bad: Verdict = c.live ? 'fail' : 'warn';
  const role = c.live ? '' : ' (history only: the live value comes from elsewhere)';
  const where = `spec.metrics.prometheus.queries.${c.signal}`;
  if ('problem' in answer) {
    return {
      verdict: bad,
      check,
      detail: `not queried: ${answer.problem}${role}`,
      more,
      fix: 'make the tuning ConfigMap hold DB_POOL_SIZE and DB_MAX_OVERFLOW as whole numbers, or override the query without $poolCapacity',
    };
  }
  if ('error' in answer) {
    return {
      verdict: bad,
      check,
      detail: `unanswered: ${answer.error}`,
      more,
      fix: `check spec.metrics.prometheus.url and its credentials, and that this query is valid PromQL (${where})`,
    };
  }
  const value = readInstantValue(c.signal, answer.data);
  const age = answer.age === undefined ? undefined : readInstantValue(c.signal, answer.age);
  const events = answer.events === undefined ? undefined : readInstantValue(c.signal, answer.events);
  if (isNoEvents(value, age, events, c.stalenessSeconds)) {
    // As the operator reads it: a count that did not move while its series are fresh is not unknown.
    return {
      verdict: 'ok',
      check,
      detail:
        'no events: its count is 0 in the window and its series are fresh (the rules that need it hold)',
      more,
    };
  }
  const judged = age ? checkFreshness(value, age, c.signal, c.stalenessSeconds) : value;
  if ('value' in judged) {
    const ageText = age && 'value' in age ? `, newest sample ${Math.round(age.value)} s old` : '';
    return { verdict: 'ok', check, detail: `1 series: ${format(judged.value)}${ageText}`, more };
  }
  const count = seriesCount(answer.data);
  const fixes: Partial<Record<string, string>> = {
    [UnknownReason.Empty]: c.overridden
      ? `no series matches: check the metric name and labels of ${where} in Prometheus's graph page`
      : `no series matches: does Prometheus scrape this service with the labels ${c.selector} and the metric names above? If your service exports other names, override ${where}`,
    [UnknownReason.MultipleSeries]: `aggregate to one series (sum, max) or narrow the labels in ${where}`,
    [UnknownReason.NotANumber]:
      'the value is 0/0: nothing happened in the window (no traffic, no events); send traffic, or check the counters exist',
    [UnknownReason.Stale]: `the series stopped: check that Prometheus still scrapes the target (its Targets page) and that ${c.stalenessSeconds} s (spec.metrics.prometheus.stalenessSeconds) is longer than the scrape interval`,
  };
  const what =
    judged.unknown.reason === UnknownReason.Empty
      ? 'empty: the query returned no series'
      : judged.unknown.reason === UnknownReason.MultipleSeries
        ? `${count} series where one is expected`
        : judged.unknown.message.replace(`${c.signal}: `, '');
  return {
    verdict: bad,
    check,
    detail: `${what}${role}`,
    more,
    fix: fixes[judged.unknown.reason] ?? `check the query (${where})`,
  };
}
