/**
 * Which PromQL the metric sources run for a profile: the default query of each signal under the
 * profile's presets (metric-presets.ts) or the profile's override, with `$namespace`,
 * `$deployment` and `$poolCapacity` filled in, and for a default query the raw series whose newest
 * sample tells how fresh the signal is and the count that tells "no events" from a broken source. Pure.
 */
import type { Signal } from '../api/v1alpha1/default-promql.ts';
import { type PresetChoice, presetDefault, REDIS_EXPORTER_SIGNALS } from '../api/v1alpha1/metric-presets.ts';
import type { MetricsSpec, PrometheusSource } from '../api/v1alpha1/metrics-spec.ts';

/** The Prometheus signals of the engine's snapshot, live and in history. */
const ENGINE_SIGNALS: readonly Signal[] = [
  'requestsPerSecond',
  'p95LatencyMs',
  'errorRatePercent',
  'cpuUtilizationPercent',
  'dbQueriesPerSecond',
  'dbActiveConnections',
  'poolWaitSecondsMean',
];

/** The signals read at every evaluation: the engine's and those the profile's status reports. */
export const LIVE_SIGNALS: readonly Signal[] = [
  ...ENGINE_SIGNALS,
  'cacheHitRatePercent',
  'poolUsagePercent',
  'poolWaitSecondsP95',
];

/**
 * The signals whose range queries rebuild the engine's history: the engine's, ready replicas
 * (live, the HPA says) and Redis (live, INFO says; in history, redis_exporter's series).
 */
export const HISTORY_SIGNALS: readonly Signal[] = [
  ...ENGINE_SIGNALS,
  'readyReplicas',
  ...REDIS_EXPORTER_SIGNALS,
];

const API_SERIES = 'namespace="$namespace",job="$deployment"';
/** The matchers of a default query over the API's pods, matched by name (CPU's). */
const POD_SERIES = 'namespace="$namespace",pod=~"$deployment-.+"';

/** What the placeholders of a query stand for. */
export interface QueryVariables {
  /** namespace of the target. */
  readonly namespace: string;
  /** deployment is the target Deployment's name (the API's scrape job). */
  readonly deployment: string;
  /** poolCapacity is DB_POOL_SIZE + DB_MAX_OVERFLOW; unknown when the tuning ConfigMap could not be read. */
  readonly poolCapacity?: number;
}

/**
 * The labels a grouped default query keeps: the two matchers every default query of the API's
 * series has (`namespace="$namespace",job="$deployment"`), lifted into `by (namespace, job)`.
 */
export const GROUP_LABELS = ['namespace', 'job'] as const;

const GROUP_BY = GROUP_LABELS.join(', ');
const AGGREGATIONS =
  /\b(sum|max|min|avg|count|group|stddev|stdvar|topk|bottomk|quantile|count_values)\s*(by \([^)]*\)|without|\()/g;

/**
 * groupedTemplate turns a default query template into the query that answers every profile at
 * once: the `namespace` and `job` matchers dropped, `sum(`/`max(` grouped `by (namespace, job)`,
 * `sum by (le) (` by `(namespace, job, le)`, and the error rate's `or vector(0)` replaced by
 * zero times its denominator (so each profile with requests and no 5xx series still gets 0).
 * A trailing `/ $poolCapacity` is left to the caller (`divideBy`). Undefined when the template
 * cannot be grouped: a placeholder left (CPU matches pods by name prefix), another aggregation.
 */
export function groupedTemplate(
  template: string,
): { readonly query: string; readonly dividedByPoolCapacity: boolean } | undefined {
  if (!template.includes(API_SERIES)) return undefined;
  const capacity = / \/ \$poolCapacity$/;
  const dividedByPoolCapacity = capacity.test(template);
  let query = template
    .replace(capacity, '')
    .replaceAll(`{${API_SERIES},`, '{')
    .replaceAll(`{${API_SERIES}}`, '');
  if (query.includes('$')) return undefined;
  query = query
    .replace(/\b(sum|max)\(/g, `$1 by (${GROUP_BY}) (`)
    .replaceAll('sum by (le) (', `sum by (${GROUP_BY}, le) (`);
  // Every aggregation must now keep the profile's labels.
  for (const [, , grouping] of query.matchAll(AGGREGATIONS)) {
    if (!grouping?.startsWith(`by (${GROUP_BY}`)) return undefined;
  }
  const orZero = /^(.*) or vector\(0\)\) \/ (.+)$/.exec(query);
  if (orZero) query = `${orZero[1]} or 0 * ${orZero[2]}) / ${orZero[2]}`;
  if (query.includes('vector(')) return undefined;
  return { query, dividedByPoolCapacity };
}

/**
 * A default query asked of every profile on one Prometheus at once: the answer holds one series
 * per `labels` (namespace, job), split to each profile by {@link seriesOf}.
 */
export interface GroupedQuery {
  /** query is the grouped value query; its series carry `namespace` and `job`. */
  readonly query: string;
  /** divideBy: the profile's own divisor (`$poolCapacity`), applied to its series' value. */
  readonly divideBy?: number;
  /** timestampQuery yields, per (namespace, job), the timestamp of the newest raw sample. */
  readonly timestampQuery?: string;
  /** labels select this profile's series in both answers. */
  readonly labels: Readonly<Record<(typeof GROUP_LABELS)[number], string>>;
}

const BY_POD = 'namespace, pod';

/**
 * podRatioTemplate turns a default query of the form `k * sum(A) / sum(B)` over the API's pods
 * (`namespace="$namespace",pod=~"$deployment-.+"`, CPU's) into the two queries that answer every
 * profile at once, `sum by (namespace, pod) (A)` and `… (B)`, the pods' matchers dropped; each
 * profile sums its own pods' series ({@link PodRatioQuery}). Undefined for any other form.
 */
export function podRatioTemplate(
  template: string,
): { readonly scale: number; readonly numerator: string; readonly denominator: string } | undefined {
  const form = /^(\d+) \* sum\((.+)\) \/ sum\((.+)\)$/.exec(template);
  if (!form) return undefined;
  const [, scale, a, b] = form as unknown as [string, string, string, string];
  const drop = (x: string) =>
    x.includes(`{${POD_SERIES},`) ? x.replaceAll(`{${POD_SERIES},`, '{') : undefined;
  const [numerator, denominator] = [drop(a), drop(b)];
  if (numerator === undefined || denominator === undefined) return undefined;
  if (
    `${numerator}${denominator}`.includes('$') ||
    /\b(sum|max|min|avg|count)\b/.test(`${numerator}${denominator}`)
  )
    return undefined;
  return {
    scale: Number(scale),
    numerator: `sum by (${BY_POD}) (${numerator})`,
    denominator: `sum by (${BY_POD}) (${denominator})`,
  };
}

/**
 * A default query over the API's pods asked of every profile at once: the profile's value is
 * `scale × Σ numerator / Σ denominator` over the series of its namespace whose pod matches
 * `podPattern` (the default query's own `$deployment-.+`), its age from the newest timestamp.
 */
export interface PodRatioQuery {
  readonly scale: number;
  readonly numerator: string;
  readonly denominator: string;
  /** timestampQuery yields, per (namespace, pod), the timestamp of the newest raw sample. */
  readonly timestampQuery: string;
  readonly namespace: string;
  /** podPattern is the pod-name regular expression, anchored as PromQL anchors `=~`. */
  readonly podPattern: string;
}

/** One signal's queries: the value, and (for a default query) the age of its newest raw sample. */
export interface SignalQuery {
  readonly signal: Signal;
  /** query is the PromQL that yields the signal's value. */
  readonly query: string;
  /** ageQuery yields the age in seconds of the newest sample the default query reads. */
  readonly ageQuery?: string;
  /** eventsQuery yields the count a default query divides by: 0 with fresh series is "no events". */
  readonly eventsQuery?: string;
  /** overridden is true when the profile replaced the default query. */
  readonly overridden: boolean;
  /** grouped: the same signal from a query shared by every profile (default queries that group). */
  readonly grouped?: GroupedQuery;
  /** groupedPods: the same signal from queries shared by every profile, split by pod name (CPU). */
  readonly groupedPods?: PodRatioQuery;
}

/**
 * renderQuery fills in `$namespace`, `$deployment` and `$poolCapacity`; returns undefined when the
 * query needs a pool capacity that is not known.
 */
export function renderQuery(template: string, vars: QueryVariables): string | undefined {
  if (template.includes('$poolCapacity') && vars.poolCapacity === undefined) return undefined;
  return template
    .replaceAll('$namespace', vars.namespace)
    .replaceAll('$deployment', vars.deployment)
    .replaceAll('$poolCapacity', String(vars.poolCapacity ?? ''));
}

/** The parts of a profile's Prometheus source that choose its queries. */
export type QuerySource = Pick<PrometheusSource, 'queries' | 'preset' | 'poolPreset'>;

/** choiceOf reads the presets a profile chose; `liveRedis` when Redis is read through redis_exporter. */
export function choiceOf(source: QuerySource | undefined, liveRedis = false): PresetChoice {
  return {
    ...(source?.preset ? { preset: source.preset } : {}),
    ...(source?.poolPreset ? { poolPreset: source.poolPreset } : {}),
    ...(liveRedis ? { liveRedis } : {}),
  };
}

/**
 * signalQuery is the PromQL for one signal under a profile's Prometheus source (its presets and
 * overrides), or a reason why it cannot be built (a `$poolCapacity` query without a known pool).
 * `liveRedis`: the Redis signals are read live (redis_exporter), so they carry an age query too.
 */
export function signalQuery(
  source: QuerySource | undefined,
  signal: Signal,
  vars: QueryVariables,
  liveRedis = false,
): SignalQuery | { readonly signal: Signal; readonly problem: string } {
  const override = (source?.queries as Partial<Record<Signal, string>> | undefined)?.[signal];
  const preset = presetDefault(signal, choiceOf(source, liveRedis));
  const query = renderQuery(override ?? preset.query, vars);
  if (query === undefined) {
    return { signal, problem: 'its query needs $poolCapacity, and the pool size is not known' };
  }
  const freshness = override === undefined ? newestSampleOf(preset.freshness) : undefined;
  const ageQuery = freshness ? `time() - max(${renderQuery(freshness, vars)})` : undefined;
  const eventsQuery = override === undefined && preset.events ? renderQuery(preset.events, vars) : undefined;
  const grouped = override === undefined ? groupedQuery(preset.query, freshness, vars) : undefined;
  const groupedPods =
    override === undefined && !grouped ? podRatioQuery(preset.query, freshness, vars) : undefined;
  return {
    signal,
    query,
    overridden: override !== undefined,
    ...(ageQuery ? { ageQuery } : {}),
    ...(eventsQuery ? { eventsQuery } : {}),
    ...(grouped ? { grouped } : {}),
    ...(groupedPods ? { groupedPods } : {}),
  };
}

/** newestSampleOf is the timestamps of a signal's raw series, for `max(…)`: one selector's, or any of several. */
function newestSampleOf(series: string | readonly string[] | undefined): string | undefined {
  if (series === undefined) return undefined;
  return (typeof series === 'string' ? [series] : series).map((s) => `timestamp(${s})`).join(' or ');
}

/** Where a signal's effective query comes from. */
export type QueryOrigin = 'override' | 'preset';

/** One signal's effective query under a profile, for `perfpilot doctor` and the docs. */
export interface EffectiveQuery {
  /** query is the PromQL that runs, placeholders filled; undefined with `problem`. */
  readonly query?: string;
  /** origin: the profile's override, or the default of its presets. */
  readonly origin: QueryOrigin;
  /** ageQuery, for a default query: the age of its newest raw sample (stale beyond stalenessSeconds). */
  readonly ageQuery?: string;
  /** eventsQuery, for a default ratio: its count; 0 with fresh series is "no events", not unknown. */
  readonly eventsQuery?: string;
  /** problem says why the query cannot be built (a `$poolCapacity` query without a known pool). */
  readonly problem?: string;
}

/**
 * effectiveQueries resolves every signal a profile reads (its presets, then its overrides, with
 * `$namespace`, `$deployment` and `$poolCapacity` filled in): the live signals, and the Redis
 * signals when `metrics.redis.source` is `Exporter`. `vars` comes from the profile's namespace
 * and target (and the pool capacity, when known).
 */
export function effectiveQueries(
  metrics: Pick<MetricsSpec, 'prometheus' | 'redis'>,
  vars: QueryVariables,
): Partial<Record<Signal, EffectiveQuery>> {
  const liveRedis = metrics.redis?.source === 'Exporter';
  const signals = liveRedis ? [...LIVE_SIGNALS, ...REDIS_EXPORTER_SIGNALS] : LIVE_SIGNALS;
  const out: Partial<Record<Signal, EffectiveQuery>> = {};
  for (const signal of signals) {
    const built = signalQuery(metrics.prometheus, signal, vars, liveRedis);
    const overridden = (metrics.prometheus?.queries as Partial<Record<Signal, string>> | undefined)?.[signal];
    const origin: QueryOrigin = overridden === undefined ? 'preset' : 'override';
    out[signal] =
      'problem' in built
        ? { origin, problem: built.problem }
        : {
            query: built.query,
            origin,
            ...(built.ageQuery ? { ageQuery: built.ageQuery } : {}),
            ...(built.eventsQuery ? { eventsQuery: built.eventsQuery } : {}),
          };
  }
  return out;
}

function podRatioQuery(
  template: string,
  freshness: string | undefined,
  vars: QueryVariables,
): PodRatioQuery | undefined {
  const ratio = podRatioTemplate(template);
  if (!ratio || !freshness?.includes(`{${POD_SERIES},`)) return undefined;
  return {
    ...ratio,
    timestampQuery: `max by (${BY_POD}) (${freshness.replaceAll(`{${POD_SERIES},`, '{')})`,
    namespace: vars.namespace,
    podPattern: `^(?:${vars.deployment}-.+)$`,
  };
}

function groupedQuery(
  template: string,
  freshness: string | undefined,
  vars: QueryVariables,
): GroupedQuery | undefined {
  const value = groupedTemplate(template);
  if (!value) return undefined;
  if (value.dividedByPoolCapacity && vars.poolCapacity === undefined) return undefined;
  const stamp = freshness ? groupedTemplate(`max(${freshness})`) : undefined;
  // A default query whose freshness series cannot be grouped keeps its own queries.
  if (freshness && !stamp) return undefined;
  return {
    query: value.query,
    ...(value.dividedByPoolCapacity ? { divideBy: vars.poolCapacity as number } : {}),
    ...(stamp ? { timestampQuery: stamp.query } : {}),
    labels: { namespace: vars.namespace, job: vars.deployment },
  };
}
