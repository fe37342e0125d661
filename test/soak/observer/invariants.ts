/**
 * What the soak's observer checks, as pure functions of what it read: each second's sample
 * (checkSample: connections, bounds, the maxmemory ceiling and agreement) and, at the end, the
 * whole run (judgeRun: changes lost or recorded twice, reversals, failed requests outside fault
 * windows, recovery per fault type, the operator's RSS trend). This code is the observer's own:
 * it imports nothing of the operator, so a bug shared with the operator cannot hide a breach.
 */

const MIB = 1024 * 1024;

/** The observed knobs, by the names the profile's status and history use. */
export const OBSERVED_KNOBS = [
  'poolSize',
  'maxOverflow',
  'redisMaxmemoryMiB',
  'minReplicas',
  'maxReplicas',
] as const;
/** ObservedKnob is one of OBSERVED_KNOBS. */
export type ObservedKnob = (typeof OBSERVED_KNOBS)[number];
/** Knob values read from the target; null is unreadable at that moment. */
export type KnobReading = Record<ObservedKnob, number | null>;

/** The ceiling of maxmemory as a share of the Redis container's memory limit (design.md). */
export const MAXMEMORY_SHARE_OF_LIMIT = 0.75;

/** What the observer reads of the profile: its bounds and policy from spec, its conditions from status. */
export interface ProfileView {
  readonly bounds: Readonly<Record<ObservedKnob, { readonly min: number; readonly max: number }>>;
  readonly containerMemoryLimitMiB: number;
  /** connectionBudget is spec.database.maxConnections − reservedConnections. */
  readonly connectionBudget: number;
  readonly evaluationIntervalSeconds: number;
  readonly stabilizationWindowSeconds: number;
  /** conditions maps each condition type to its status ('True', 'False', 'Unknown'). */
  readonly conditions: Readonly<Record<string, string>>;
  /** current is status.current. */
  readonly current: Readonly<Partial<Record<ObservedKnob, number>>>;
}

/** One second's reading of the system. */
export interface Sample {
  /** t is the wall clock in ms when the reading began. */
  readonly t: number;
  /** pgConnections is PostgreSQL's own count of client backends (pg_stat_activity), the observer's excluded. */
  readonly pgConnections: number | null;
  /** redis is maxmemory in bytes per node; null where the node did not answer. */
  readonly redis: readonly { readonly port: number; readonly maxmemoryBytes: number | null }[];
  readonly knobs: KnobReading;
  /** profile is null while the API server does not answer. */
  readonly profile: ProfileView | null;
  /** rss is each running operator process's resident memory in bytes. */
  readonly rss: readonly { readonly pid: number; readonly identity: string; readonly bytes: number }[];
}

/** A breach of an invariant: when it began, which, and what was seen. */
export interface Breach {
  readonly t: number;
  readonly invariant: string;
  readonly detail: string;
}

/** What checkSample carries from one sample to the next. */
export interface CheckMemory {
  /** active holds the breaches still going on (a long breach is one, not one per second). */
  readonly active: Set<string>;
  /** divergedSince is when the reachable Redis nodes began to disagree on maxmemory. */
  divergedSince: number | null;
}

/** newCheckMemory is the memory of a run before its first sample. */
export const newCheckMemory = (): CheckMemory => ({ active: new Set(), divergedSince: null });

/**
 * convergeGraceMs is how long the reachable Redis nodes may disagree on maxmemory: the cycle
 * that sets it on each node and the next one, when a node came back with an older value.
 */
export const convergeGraceMs = (evaluationIntervalSeconds: number) =>
  (2 * evaluationIntervalSeconds + 10) * 1000;

/** majorityMaxmemoryMiB is the maxmemory (MiB) more than half of the answering nodes hold, or null. */
export function majorityMaxmemoryMiB(redis: Sample['redis']): number | null {
  const values = redis.map((n) => n.maxmemoryBytes).filter((v): v is number => v !== null);
  const counts = new Map<number, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  for (const [v, n] of counts) if (n * 2 > values.length) return v / MIB;
  return null;
}

/** checkSample returns the breaches that begin at this sample. */
export function checkSample(sample: Sample, memory: CheckMemory): Breach[] {
  const now = new Map<string, string>();
  const p = sample.profile;
  if (p && sample.pgConnections !== null && sample.pgConnections > p.connectionBudget) {
    now.set(
      'postgres-connections',
      `${sample.pgConnections} connections > maxConnections − reservedConnections = ${p.connectionBudget}`,
    );
  }
  if (p) {
    for (const knob of OBSERVED_KNOBS) {
      const value = sample.knobs[knob];
      const { min, max } = p.bounds[knob];
      if (value !== null && (value < min || value > max)) {
        now.set(`knob-bounds:${knob}`, `${knob} ${value} outside its bounds ${min}..${max}`);
      }
    }
    const ceilingBytes = MAXMEMORY_SHARE_OF_LIMIT * p.containerMemoryLimitMiB * MIB;
    for (const node of sample.redis) {
      const bytes = node.maxmemoryBytes;
      // 0 is "no limit" to Redis: above any ceiling.
      if (bytes !== null && (bytes === 0 || bytes > ceilingBytes)) {
        now.set(
          `maxmemory-ceiling:${node.port}`,
          `node ${node.port}: maxmemory ${bytes === 0 ? 'unlimited (0)' : `${bytes / MIB} MiB`} > ${MAXMEMORY_SHARE_OF_LIMIT} × ${p.containerMemoryLimitMiB} MiB`,
        );
      }
    }
  }
  const reachable = sample.redis.filter((n) => n.maxmemoryBytes !== null);
  const distinct = new Set(reachable.map((n) => n.maxmemoryBytes));
  if (distinct.size > 1) {
    memory.divergedSince ??= sample.t;
    const grace = convergeGraceMs(p?.evaluationIntervalSeconds ?? 60);
    if (sample.t - memory.divergedSince > grace) {
      now.set(
        'maxmemory-agreement',
        `reachable nodes disagree for over ${grace / 1000} s: ${reachable.map((n) => `${n.port}=${(n.maxmemoryBytes ?? 0) / MIB}MiB`).join(', ')}`,
      );
    }
  } else {
    memory.divergedSince = null;
  }
  const begun: Breach[] = [];
  for (const [key, detail] of now) {
    if (!memory.active.has(key)) begun.push({ t: sample.t, invariant: key.split(':')[0] as string, detail });
  }
  memory.active.clear();
  for (const key of now.keys()) memory.active.add(key);
  return begun;
}

/** A history entry as the observer reads it from status.history. */
export interface HistoryEntry {
  readonly time: string;
  readonly knob: string;
  readonly from: number;
  readonly to: number;
  readonly outcome: string;
}

/** An Event about the profile: its reason, note, and how many times it happened. */
export interface EventSeen {
  /** time is the Event's eventTime (ms), or null when it has none. */
  readonly time: number | null;
  readonly reason: string;
  readonly note: string;
  readonly count: number;
}

/** A fault as the runner recorded it (wall clock ms). */
export interface FaultRecord {
  readonly type: string;
  readonly start: number;
  readonly end: number;
  readonly detail: string;
}

/** A slice of the load generator's work (wall clock ms). */
export interface LoadSlice {
  readonly from: number;
  readonly to: number;
  readonly requests: number;
  readonly failed: number;
}

/** Outcomes that changed a knob on the target. */
const CHANGE_OUTCOMES = new Set(['Applied', 'RolledBack']);

const keyOf = (knob: string, from: number, to: number) => `${knob} ${from} → ${to}`;

/** observedChanges lists each knob's value changes between successive readable samples. */
export function observedChanges(
  samples: readonly Sample[],
): { t: number; knob: ObservedKnob; from: number; to: number }[] {
  const changes: { t: number; knob: ObservedKnob; from: number; to: number }[] = [];
  for (const knob of OBSERVED_KNOBS) {
    let last: number | null = null;
    for (const s of samples) {
      const value = s.knobs[knob];
      if (value === null) continue;
      if (last !== null && value !== last) changes.push({ t: s.t, knob, from: last, to: value });
      last = value;
    }
  }
  return changes.sort((a, b) => a.t - b.t);
}

/** The changes matched three ways: on the target, in status.history, as Events. */
export interface ChangeAccount {
  /** lost: changed on the target without a history entry, or recorded without an Event. */
  readonly lost: number;
  /** duplicated: recorded more often than changed, or an Event more than once. */
  readonly duplicated: number;
  readonly details: string[];
}

/**
 * accountChanges matches every change seen on the target to exactly one history entry and one
 * Event (by knob, from and to), counting history from `since` (the observer's first sample).
 */
export function accountChanges(
  samples: readonly Sample[],
  history: readonly HistoryEntry[],
  events: readonly EventSeen[],
  since: number,
): ChangeAccount {
  const observed = new Map<string, number>();
  for (const c of observedChanges(samples)) {
    const k = keyOf(c.knob, c.from, c.to);
    observed.set(k, (observed.get(k) ?? 0) + 1);
  }
  const recorded = new Map<string, number>();
  for (const h of history) {
    if (!CHANGE_OUTCOMES.has(h.outcome) || Date.parse(h.time) < since) continue;
    const k = keyOf(h.knob, h.from, h.to);
    recorded.set(k, (recorded.get(k) ?? 0) + 1);
  }
  const told = new Map<string, number>();
  for (const e of events) {
    // Events from before the observer started belong to changes it does not count either.
    if (!CHANGE_OUTCOMES.has(e.reason) || (e.time !== null && e.time < since)) continue;
    // The note starts with "knob from → to" (and says "recorded late" when a successor recorded it).
    const match = /^(\w+) (\d+) → (\d+)/.exec(e.note);
    if (!match) continue;
    const k = keyOf(match[1] as string, Number(match[2]), Number(match[3]));
    if (!recorded.has(k)) continue;
    told.set(k, (told.get(k) ?? 0) + e.count);
  }
  let lost = 0;
  let duplicated = 0;
  const details: string[] = [];
  for (const k of new Set([...observed.keys(), ...recorded.keys()])) {
    const o = observed.get(k) ?? 0;
    const h = recorded.get(k) ?? 0;
    const e = told.get(k) ?? 0;
    if (o > h) details.push(`${k}: changed ${o}×, recorded ${h}×`);
    if (h > o) details.push(`${k}: recorded ${h}×, changed ${o}×`);
    if (h > e) details.push(`${k}: recorded ${h}×, ${e} Event(s)`);
    if (e > h) details.push(`${k}: ${e} Events for ${h} record(s)`);
    lost += Math.max(0, o - h) + Math.max(0, h - e);
    duplicated += Math.max(0, h - o) + Math.max(0, e - h);
  }
  return { lost, duplicated, details };
}

/** reversals finds a knob changed one way and then the other inside the stabilization window (rollbacks aside). */
export function reversals(history: readonly HistoryEntry[], stabilizationWindowSeconds: number): Breach[] {
  const breaches: Breach[] = [];
  const applied = history
    .filter((h) => h.outcome === 'Applied')
    .sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
  const last = new Map<string, HistoryEntry>();
  for (const h of applied) {
    const before = last.get(h.knob);
    if (before && Math.sign(h.to - h.from) !== Math.sign(before.to - before.from)) {
      const apart = (Date.parse(h.time) - Date.parse(before.time)) / 1000;
      if (apart < stabilizationWindowSeconds) {
        breaches.push({
          t: Date.parse(h.time),
          invariant: 'reversal',
          detail: `${h.knob} ${before.from}→${before.to} then ${h.from}→${h.to} ${apart} s apart, inside the ${stabilizationWindowSeconds} s stabilization window`,
        });
      }
    }
    last.set(h.knob, h);
  }
  return breaches;
}

/** Failed requests split by whether their slice of load touched a fault's window plus the grace. */
export interface FailedRequests {
  readonly requests: number;
  readonly failed: number;
  readonly inFaultWindows: number;
  readonly outsideFaultWindows: number;
  readonly graceSeconds: number;
}

/** splitFailedRequests counts failures in and out of [fault start, fault end + grace]. */
export function splitFailedRequests(
  load: readonly LoadSlice[],
  faults: readonly FaultRecord[],
  graceSeconds: number,
): FailedRequests {
  let requests = 0;
  let inside = 0;
  let outside = 0;
  for (const slice of load) {
    requests += slice.requests;
    const touches = faults.some((f) => slice.from <= f.end + graceSeconds * 1000 && slice.to >= f.start);
    if (touches) inside += slice.failed;
    else outside += slice.failed;
  }
  return {
    requests,
    failed: inside + outside,
    inFaultWindows: inside,
    outsideFaultWindows: outside,
    graceSeconds,
  };
}

/** healthy: Ready and MetricsAvailable true, not Degraded. */
export const isHealthy = (p: ProfileView) =>
  p.conditions.Ready === 'True' &&
  p.conditions.MetricsAvailable === 'True' &&
  p.conditions.Degraded !== 'True';

/** converged: every Redis node answers with one maxmemory, and every knob on the target is what status says. */
export function isConverged(s: Sample): boolean {
  if (!s.profile || s.redis.some((n) => n.maxmemoryBytes === null)) return false;
  if (new Set(s.redis.map((n) => n.maxmemoryBytes)).size !== 1) return false;
  return OBSERVED_KNOBS.every((k) => {
    const want = s.profile?.current[k];
    return want === undefined || s.knobs[k] === want;
  });
}

/** Recovery of one fault type: seconds from a fault's end to healthy and converged. */
export interface Recovery {
  readonly faults: number;
  readonly medianSeconds: number | null;
  readonly maxSeconds: number | null;
  /** notRecovered counts faults after which the run ended before health and convergence. */
  readonly notRecovered: number;
}

/** recoveryByType measures each fault's recovery in the samples, grouped by type. */
export function recoveryByType(
  samples: readonly Sample[],
  faults: readonly FaultRecord[],
): Record<string, Recovery> {
  const byType = new Map<string, (number | null)[]>();
  for (const f of faults) {
    const back = samples.find((s) => s.t >= f.end && s.profile && isHealthy(s.profile) && isConverged(s));
    const seconds = back ? Math.max(0, Math.round((back.t - f.end) / 100) / 10) : null;
    byType.set(f.type, [...(byType.get(f.type) ?? []), seconds]);
  }
  const result: Record<string, Recovery> = {};
  for (const [type, values] of byType) {
    const done = values.filter((v): v is number => v !== null).sort((a, b) => a - b);
    result[type] = {
      faults: values.length,
      // Recovery times are read to the tenth of a second; the mean of two is kept to the hundredth.
      medianSeconds: done.length ? Math.round(median(done) * 100) / 100 : null,
      maxSeconds: done.length ? (done.at(-1) as number) : null,
      notRecovered: values.length - done.length,
    };
  }
  return result;
}

function median(sorted: readonly number[]): number {
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** The operator's memory over the run: the longest-lived process's start, end and slope. */
export interface RssTrend {
  readonly identity: string | null;
  readonly startMiB: number | null;
  readonly endMiB: number | null;
  /** slopeMiBPerHour is the least-squares slope of its RSS: a leak shows as a steady rise. */
  readonly slopeMiBPerHour: number | null;
  readonly samples: number;
}

/** rssTrend fits a line to the RSS of the operator process seen in the most samples. */
export function rssTrend(samples: readonly Sample[]): RssTrend {
  const series = new Map<number, { identity: string; points: [number, number][] }>();
  for (const s of samples) {
    for (const r of s.rss) {
      const entry = series.get(r.pid) ?? { identity: r.identity, points: [] };
      entry.points.push([s.t, r.bytes / MIB]);
      series.set(r.pid, entry);
    }
  }
  const longest = [...series.values()].sort((a, b) => b.points.length - a.points.length)[0];
  if (!longest || longest.points.length < 2) {
    return {
      identity: longest?.identity ?? null,
      startMiB: null,
      endMiB: null,
      slopeMiBPerHour: null,
      samples: 0,
    };
  }
  const pts = longest.points;
  const n = pts.length;
  const mx = pts.reduce((a, [x]) => a + x, 0) / n;
  const my = pts.reduce((a, [, y]) => a + y, 0) / n;
  const sxy = pts.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0);
  const sxx = pts.reduce((a, [x]) => a + (x - mx) ** 2, 0);
  const round1 = (v: number) => Math.round(v * 10) / 10;
  return {
    identity: longest.identity,
    startMiB: round1(pts[0]?.[1] ?? 0),
    endMiB: round1(pts[n - 1]?.[1] ?? 0),
    slopeMiBPerHour: sxx === 0 ? 0 : round1((sxy / sxx) * 3_600_000),
    samples: n,
  };
}
