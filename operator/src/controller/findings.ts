/**
 * Pure helpers of the measure, decide and report steps: what a measurement means for
 * MetricsAvailable and SLOMet, the snapshot as status shows it, the engine's knobs and target
 * environment from what was observed, and the engine's applied changes from status history (so
 * a restarted operator keeps its cooldowns without state of its own).
 */
import type { V1ConfigMap, V2HorizontalPodAutoscaler } from '@kubernetes/client-node';
import { hpaToleranceOfObject } from '../actuators/targets.ts';
import {
  ConditionReason,
  type Decision,
  DecisionOutcome,
  KNOBS,
  type KnobValues,
  type MetricSnapshotStatus,
  type PerformanceProfile,
} from '../api/v1alpha1/index.ts';
import type { Measurement } from '../metrics/index.ts';
import { withoutCredentials } from '../metrics/prometheus-client.ts';
import { DEFAULT_TARGET_ENVIRONMENT, type TargetEnvironment } from '../tuning/tuning-spec-from-profile.ts';
import type { AppliedChange, KnobValues as EngineKnobs } from '../tuning/types.ts';
import type { MeasureOutcome } from './status.ts';
import { summarizeUnknown } from './unknown-summary.ts';

const MIB = 1024 * 1024;

/**
 * sourcesNamed names the profile's metric sources for messages: the Prometheus URL and the first
 * Redis seed (a cluster lists six; the condition has room for one).
 */
export function sourcesNamed(profile: PerformanceProfile): string {
  const { prometheus, redis } = profile.spec.metrics;
  const [seed, ...more] = redis?.endpoints ?? [];
  return [
    prometheus ? `Prometheus at ${withoutCredentials(prometheus.url)}` : '',
    seed ? `Redis at ${seed}${more.length > 0 ? ` (+${more.length} more)` : ''}` : '',
  ]
    .filter(Boolean)
    .join(' and ');
}

/**
 * measureOutcome turns a measurement into MetricsAvailable: True with a complete snapshot, False
 * saying what made signals unknown, cause first and grouped (a stale signal makes the reason
 * MetricsStale), Unknown without any source. The message is short; `detail` names every signal
 * and node for the Event, `unknown` holds each signal's own message for the log. An unknown
 * signal is never read as zero: without a snapshot nothing changes.
 */
export function measureOutcome(
  profile: PerformanceProfile,
  measurement: Measurement | undefined,
): MeasureOutcome {
  const { prometheus, redis } = profile.spec.metrics;
  if (!prometheus && !redis) {
    return {
      status: 'Unknown',
      reason: ConditionReason.NoMetricsSource,
      message:
        'spec.metrics names neither Prometheus nor Redis: nothing is measured, so nothing is recommended',
    };
  }
  if (!measurement) {
    return {
      status: 'Unknown',
      reason: ConditionReason.MetricsUnavailable,
      message: 'not measured: the target is not complete',
    };
  }
  if (measurement.snapshot) {
    return {
      status: 'True',
      reason: ConditionReason.MetricsFresh,
      message: `every signal measured from ${sourcesNamed(profile)}`,
    };
  }
  const stale = measurement.unknown.some((u) => u.reason === 'stale');
  const redisNodesRead = measurement.redis ? measurement.redis.masters + measurement.redis.replicas : 0;
  const summary = summarizeUnknown(measurement.unknown, { redisNodesRead });
  return {
    status: 'False',
    reason: stale ? ConditionReason.MetricsStale : ConditionReason.MetricsUnavailable,
    message: summary.message,
    // Redis causes name their nodes; a query's fault does not name the Prometheus it was asked of.
    detail: `${summary.full}; nothing changes until every signal is measured${prometheus ? ` (Prometheus at ${withoutCredentials(prometheus.url)})` : ''}`,
    unknown: measurement.unknown.map((u) => u.message),
  };
}

/** sloVerdict judges the SLOs of spec.slo on a measurement; undefined without a snapshot. */
export function sloVerdict(
  profile: PerformanceProfile,
  measurement: Measurement | undefined,
): { met: boolean; message: string } | undefined {
  if (!measurement?.snapshot) return undefined;
  const { slo } = profile.spec;
  const p = measurement.prometheus;
  const checks: [string, number | undefined, '≤' | '≥', number, string][] = [
    ['p95', p.p95LatencyMs, '≤', slo.p95LatencyMs, 'ms'],
    ['error rate', p.errorRatePercent, '≤', slo.errorRatePercent, '%'],
    ['cache hit rate', p.cacheHitRatePercent, '≥', slo.cacheHitRatePercent, '%'],
    ['pool usage', p.poolUsagePercent, '≤', slo.poolUsagePercent, '%'],
  ];
  const round = (v: number) => Math.round(v * 100) / 100;
  const violated: string[] = [];
  const held: string[] = [];
  for (const [name, value, op, target, unit] of checks) {
    if (value === undefined) continue;
    const ok = op === '≤' ? value <= target : value >= target;
    const text = `${name} ${round(value)} ${unit}`;
    if (ok) held.push(text);
    else violated.push(`${text} (objective ${op} ${target} ${unit})`);
  }
  return violated.length > 0
    ? { met: false, message: `violated: ${violated.join(', ')}` }
    : { met: true, message: `met: ${held.join(', ')}` };
}

/**
 * snapshotStatus is the measurement as status.lastSnapshot shows it, whether or not the engine
 * got a snapshot (a profile without Redis, or with one signal unknown, still shows the signals it
 * has); a missing field was not measured.
 */
export function snapshotStatus(measurement: Measurement, time: Date): MetricSnapshotStatus {
  const p = measurement.prometheus;
  const round = (v: number | undefined) =>
    v === undefined || Number.isNaN(v) ? undefined : Math.round(v * 1000) / 1000;
  const fields: Omit<MetricSnapshotStatus, 'time' | 'stale'> = {
    requestsPerSecond: round(p.requestsPerSecond),
    p95LatencyMs: round(p.p95LatencyMs),
    errorRatePercent: round(p.errorRatePercent),
    cacheHitRatePercent: round(p.cacheHitRatePercent),
    poolUsagePercent: round(p.poolUsagePercent),
    poolWaitSecondsP95: round(p.poolWaitSecondsP95),
    readyReplicas: measurement.snapshot?.readyReplicas ?? measurement.readyReplicas,
    // From INFO, else from redis_exporter's series (spec.metrics.redis.source Exporter reads no INFO).
    redisUsedMemoryMiB: round(
      (measurement.redis?.signals?.usedMemoryBytes ?? p.redisUsedMemoryBytes ?? Number.NaN) / MIB,
    ),
    redisEvictedKeysPerSecond: round(
      measurement.redis?.signals?.evictedKeysPerSecond ?? p.redisEvictedKeysPerSecond,
    ),
  };
  return {
    time: time.toISOString(),
    stale: measurement.unknown.some((u) => u.reason === 'stale'),
    ...Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)),
  };
}

/** completeKnobs returns the engine's knobs when every knob was observed, else the names missing. */
export function completeKnobs(current: KnobValues): { knobs: EngineKnobs } | { missing: string[] } {
  const missing = KNOBS.filter((k) => current[k] === undefined);
  if (missing.length > 0) return { missing };
  return { knobs: current as EngineKnobs };
}

/**
 * targetEnvironment reads what the engine needs from the target's own objects: ASYNC_WORKERS
 * from the tuning ConfigMap and the HPA's tolerance per direction from its `spec.behavior`; the
 * toolkit's values otherwise. (The HPA's CPU target is a knob, read with the others by observeTarget.)
 */
export function targetEnvironment(
  configMap: V1ConfigMap | undefined,
  hpa?: V2HorizontalPodAutoscaler,
): TargetEnvironment {
  const workers = Number(configMap?.data?.ASYNC_WORKERS);
  const hpaTolerance = hpaToleranceOfObject(hpa);
  return {
    ...DEFAULT_TARGET_ENVIRONMENT,
    ...(Number.isInteger(workers) && workers >= 1 ? { workersPerReplica: workers } : {}),
    ...(hpaTolerance ? { hpaTolerance } : {}),
  };
}

/**
 * appliedChangesFromStatus is the engine's list of applied changes, read back from status
 * history: what cooldowns, stabilization windows and rollbacks count from after a restart or a
 * new leader. Recommendations and blocked decisions changed nothing and are left out.
 */
export function appliedChangesFromStatus(history: readonly Decision[]): AppliedChange[] {
  return history
    .filter((d) => d.outcome === DecisionOutcome.Applied || d.outcome === DecisionOutcome.RolledBack)
    .map((d) => ({
      knob: d.knob,
      from: d.from,
      to: d.to,
      atSeconds: Date.parse(d.time) / 1000,
      sloMetBefore: d.sloMetBefore ?? false,
      requestsPerSecondBefore: d.snapshot?.requestsPerSecond ?? 0,
      rollback: d.outcome === DecisionOutcome.RolledBack,
    }))
    .filter((c) => Number.isFinite(c.atSeconds));
}

/** What LAST_CHANGE_ANNOTATION holds: whose change it was, and its status history entries. */
interface ChangeRecord {
  readonly profile: string;
  readonly changes: readonly Decision[];
}

/**
 * changeRecord is the LAST_CHANGE_ANNOTATION value for `changes` applied for `profile`: its uid
 * (a profile deleted and created again under its name does not inherit the record) and the
 * entries, as status history will hold them.
 */
export function changeRecord(profile: PerformanceProfile, changes: readonly Decision[]): string {
  const record: ChangeRecord = { profile: profile.metadata.uid ?? '', changes };
  return JSON.stringify(record);
}

const RECORDED_OUTCOMES: readonly string[] = [DecisionOutcome.Applied, DecisionOutcome.RolledBack];

/** parseChangeRecord reads a LAST_CHANGE_ANNOTATION value; entries that are not history entries are dropped. */
export function parseChangeRecord(text: string | undefined): ChangeRecord | undefined {
  if (text === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object') return undefined;
  const { profile, changes } = parsed as { profile?: unknown; changes?: unknown };
  if (typeof profile !== 'string' || !Array.isArray(changes)) return undefined;
  const valid = changes.filter(
    (d): d is Decision =>
      d !== null &&
      typeof d === 'object' &&
      (KNOBS as readonly unknown[]).includes(d.knob) &&
      Number.isFinite(d.from) &&
      Number.isFinite(d.to) &&
      RECORDED_OUTCOMES.includes(d.outcome) &&
      typeof d.reason === 'string' &&
      typeof d.time === 'string' &&
      Number.isFinite(Date.parse(d.time)),
  );
  return { profile, changes: valid };
}

const sameChange = (a: Decision, b: Decision) => a.knob === b.knob && a.time === b.time;

/**
 * unrecordedChanges are the changes the target's objects say were applied for this profile and
 * status history does not hold: applied by an operator that stopped (or lost the API server)
 * before it wrote status. A change is in history when an entry has its knob and time; one older
 * than the newest entry was recorded and has since left the bounded history. Oldest first, each
 * once (the pool's record is on both the ConfigMap and the Deployment).
 */
export function unrecordedChanges(
  profile: PerformanceProfile,
  records: readonly (string | undefined)[],
): Decision[] {
  const uid = profile.metadata.uid;
  if (!uid) return [];
  const history = profile.status?.history ?? [];
  const newest = Math.max(...history.map((d) => Date.parse(d.time)).filter(Number.isFinite), -Infinity);
  const found: Decision[] = [];
  for (const text of records) {
    const record = parseChangeRecord(text);
    if (record?.profile !== uid) continue;
    for (const change of record.changes) {
      if (Date.parse(change.time) < newest) continue;
      if (history.some((d) => sameChange(d, change)) || found.some((d) => sameChange(d, change))) continue;
      found.push(change);
    }
  }
  return found.sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
}

/** withChanges adds the entries' changes to the engine's applied changes, each once (knob and time). */
export function withChanges(
  changes: readonly AppliedChange[],
  entries: readonly Decision[],
): AppliedChange[] {
  const added = appliedChangesFromStatus(entries).filter(
    (c) => !changes.some((k) => k.knob === c.knob && k.atSeconds === c.atSeconds),
  );
  return [...changes, ...added].sort((a, b) => a.atSeconds - b.atSeconds);
}
