/**
 * The HPA's CPU target as a knob. The HPA adds a pod when the pods' mean CPU passes its target
 * (by its tolerance), so a cool target holds pods the SLO does not need. This rule picks the
 * hottest target at which the measured p95 still met the SLO, with headroom for the load's growth
 * while the HPA's new pods start: the pods run at the target until the load grows, and for one
 * lead (a pod's start-up, one HPA sync and one evaluation, `spec.forecast.leadSeconds`) they carry
 * the growth alone. Both numbers are measured from the profile's own history, not assumed:
 *
 * - safe utilization u: the snapshots (ready pods > 0) are binned by CPU utilization in
 *   {@link UTILIZATION_BIN_POINTS}-point bins; a bin with at least {@link MIN_SAMPLES_PER_BIN}
 *   snapshots is judged (fewer are too few), and it meets the SLO when its {@link P95_QUANTILE}
 *   quantile of p95 is within {@link P95_MARGIN} of the SLO and the same quantile of the error
 *   rate within its SLO. CPU limits p95 from the coolest judged bin from which every hotter judged
 *   bin misses too; u is the hottest CPU measured in the judged bins below it that met the SLO. (A
 *   bin that misses while a hotter one meets the SLO missed for another reason: a cold cache, the
 *   database; a cooler target would not help it.)
 * - growth g: the {@link GROWTH_QUANTILE} quantile of rps(t + lead) / rps(t) over the history
 *   (rps(t + lead) interpolated between the snapshots either side), at least 1, from at least
 *   {@link MIN_GROWTH_PAIRS} pairs.
 * - proposal: floor(100 · u / g), within the knob's bounds. Only a measured miss where CPU limits
 *   p95 lowers the target in force; without one the target is only raised (the pods' p95 was met
 *   at every utilization measured, so nothing says a cooler target would help).
 *
 * It extrapolates by one bin, or two to pass the HPA's tolerance: when no judged bin misses and the hottest one's p95 is
 * within {@link PROBE_P95_SHARE} of the SLO, u is taken one {@link UTILIZATION_BIN_POINTS}-point bin
 * beyond the hottest CPU measured (an HPA holds its pods within its tolerance of the target, so
 * without a probe they are never seen hotter). A probe the HPA would ignore (pods at the current
 * CPU stay within its tolerance of the new target, {@link hpaActsFrom}) goes on to the first target
 * the HPA acts on, if that target times the growth is within {@link PROBE_MAX_BINS} bins of the
 * hottest CPU measured: else
 * the pods stay where they are, are never seen hotter, and the target stops after one step. The
 * target so climbs as the pods are seen running hotter within the SLO (the gate's deadband,
 * cooldown and step cap pace it), and the gate rolls back a hotter target after which the SLO broke.
 */
import { hpaToleranceOf, withinHpaTolerance } from './tuning-spec.ts';
import {
  type HpaTolerance,
  type KnobRange,
  type MetricSnapshot,
  requestsPerPod,
  type TuningSpec,
} from './types.ts';

/** Width of one CPU utilization bin, in percentage points. */
export const UTILIZATION_BIN_POINTS = 5;
/** Snapshots a bin needs before it is judged. */
export const MIN_SAMPLES_PER_BIN = 5;
/** The quantile of a bin's per-snapshot p95 (and error rate) that must meet the SLO. */
export const P95_QUANTILE = 0.9;
/** That quantile of p95 must stay within this share of the p95 SLO (a margin for noise). */
export const P95_MARGIN = 0.9;
/** The quantile of the load's growth over one lead that the headroom covers. */
export const GROWTH_QUANTILE = 0.95;
/** With no miss measured, the hottest judged bin's p95 within this share of the SLO allows one bin more. */
export const PROBE_P95_SHARE = 0.5;
/**
 * A probe that the HPA would ignore may go on to the first target the HPA acts on (see
 * {@link hpaActsFrom}) if pods there, grown by the load's growth over one lead, run at most this
 * many bins past the hottest CPU measured.
 */
export const PROBE_MAX_BINS = 2;
/** Pairs of snapshots one lead apart the growth estimate needs. */
export const MIN_GROWTH_PAIRS = 30;

/** What the rule asks for one of the HPA's targets. */
export interface HpaTargetNeed {
  /** value: the wanted target in whole units (percent, rps a pod), within the bounds; absent when the history is too short. */
  readonly value?: number;
  /** reason: one sentence with the numbers, or what is missing. */
  readonly reason: string;
}

/** The value at quantile q (0..1) of the values, nearest rank. */
function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] ?? 0;
}

/**
 * One HPA target the rule tunes: how the pods' level is read against it, its bins, and its words.
 * The HPA's tolerance is a ratio, so the same rule serves a CPU Utilization target and a
 * request-rate AverageValue target.
 */
export interface TargetScale {
  /** name: the target in reasons ("HPA target", "HPA request-rate target"). */
  readonly name: string;
  /** levelOf: the pods' level in the target's units (CPU in percent, requests per second per pod). */
  readonly levelOf: (snapshot: MetricSnapshot) => number;
  /** binWidth: one bin's width, in those units. */
  readonly binWidth: number;
  /** unit: after a target ("70 %", "120 rps a pod"). */
  readonly unit: string;
  /** levelUnit: after a level of the pods ("69 % CPU", "110 rps a pod"). */
  readonly levelUnit: string;
  /** bin: one bin in words ("5-point", "25-rps"). */
  readonly bin: string;
  /** measure: what the bins measure ("CPU", "rate"). */
  readonly measure: string;
  /** limiter: what a failing tail says limits p95 ("CPU", "the request rate per pod"). */
  readonly limiter: string;
  /** unitsPerLevel: levels are read in these units of the metric's own (percent of a CPU fraction). */
  readonly unitsPerLevel: number;
  /** ceiling: the highest level a probe may reach (100 % CPU; no ceiling for a rate). */
  readonly ceiling: number;
  /** bounds: the knob's bounds. */
  readonly bounds: KnobRange;
}

/** The CPU Utilization target's scale: CPU in percent, {@link UTILIZATION_BIN_POINTS}-point bins. */
export function cpuTargetScale(spec: TuningSpec): TargetScale {
  return {
    name: 'HPA target',
    levelOf: (s) => s.cpuUtilization * 100,
    binWidth: UTILIZATION_BIN_POINTS,
    unit: ' %',
    levelUnit: ' % CPU',
    bin: `${UTILIZATION_BIN_POINTS}-point`,
    measure: 'CPU',
    limiter: 'CPU',
    unitsPerLevel: 100,
    ceiling: 100,
    bounds: spec.knobs.hpaTargetCpuPercent,
  };
}

/** Bins of a request-rate target: this many span its bounds' maximum. */
export const RATE_BINS_TO_MAX = 20;

/**
 * The request-rate target's scale: requests per second per ready pod, in bins of
 * 1 / {@link RATE_BINS_TO_MAX} of the knob's maximum (whole requests, at least 1): as wide against
 * the range as a CPU bin against 100 %.
 */
export function rateTargetScale(spec: TuningSpec): TargetScale {
  const width = Math.max(1, Math.round(spec.knobs.hpaTargetRequestsPerPod.max / RATE_BINS_TO_MAX));
  return {
    name: 'HPA request-rate target',
    levelOf: requestsPerPod,
    binWidth: width,
    unit: ' rps a pod',
    levelUnit: ' rps a pod',
    bin: `${width}-rps`,
    measure: 'rate',
    limiter: 'the request rate per pod',
    unitsPerLevel: 1,
    ceiling: Number.POSITIVE_INFINITY,
    bounds: spec.knobs.hpaTargetRequestsPerPod,
  };
}

/** The safe level, or why there is none. */
export interface SafeLevel {
  /** level: the hottest level measured (in the scale's units) in the last bin that met the SLO. */
  readonly level?: number;
  /** judgedBins: bins with enough snapshots to judge. */
  readonly judgedBins: number;
  /** failedBin: the first judged bin that missed the SLO, its lower edge, and its p95 quantile. */
  readonly failedBin?: { readonly from: number; readonly p95Ms: number; readonly errorRate: number };
  /** probe: with no miss, the hottest judged bin's p95 quantile and whether it is low enough for one bin more. */
  readonly probe?: { readonly p95Ms: number; readonly allowed: boolean };
}

/** The hottest measured level below the bins where that level limits p95 (see the module comment). */
export function safeLevel(
  spec: TuningSpec,
  snapshots: readonly MetricSnapshot[],
  scale: TargetScale,
): SafeLevel {
  const bins = new Map<number, { level: number; snapshot: MetricSnapshot }[]>();
  for (const s of snapshots) {
    const level = s.readyReplicas > 0 ? scale.levelOf(s) : Number.NaN;
    if (!Number.isFinite(level)) continue;
    const bin = Math.floor(level / scale.binWidth);
    const list = bins.get(bin) ?? [];
    list.push({ level, snapshot: s });
    bins.set(bin, list);
  }
  const judged = [...bins.keys()]
    .sort((a, b) => a - b)
    .filter((bin) => (bins.get(bin)?.length ?? 0) >= MIN_SAMPLES_PER_BIN)
    .map((bin) => {
      const samples = bins.get(bin) ?? [];
      const p95Ms = quantile(
        samples.map((s) => s.snapshot.p95LatencyMs),
        P95_QUANTILE,
      );
      const errorRate = quantile(
        samples.map((s) => s.snapshot.errorRate),
        P95_QUANTILE,
      );
      const met = p95Ms <= P95_MARGIN * spec.slo.p95LatencyMs && errorRate <= spec.slo.errorRate;
      const hottest = Math.max(...samples.map((s) => s.level));
      return { from: bin * scale.binWidth, p95Ms, errorRate, met, hottest };
    });
  // The failing tail: from the coolest judged bin after which no judged bin meets the SLO.
  let tail = judged.length;
  while (tail > 0 && !judged[tail - 1]?.met) tail--;
  const failed = judged[tail];
  const below = judged.slice(0, tail).filter((b) => b.met);
  const level = below.length > 0 ? Math.max(...below.map((b) => b.hottest)) : undefined;
  const hottest = judged[judged.length - 1];
  const probe =
    !failed && hottest
      ? { p95Ms: hottest.p95Ms, allowed: hottest.p95Ms <= PROBE_P95_SHARE * spec.slo.p95LatencyMs }
      : undefined;
  return {
    ...(level !== undefined ? { level } : {}),
    ...(probe ? { probe } : {}),
    judgedBins: judged.length,
    ...(failed ? { failedBin: { from: failed.from, p95Ms: failed.p95Ms, errorRate: failed.errorRate } } : {}),
  };
}

/** The safe utilization: {@link safeLevel} on the CPU scale, as a fraction, the failed bin's edge in percent. */
export function safeUtilization(
  spec: TuningSpec,
  snapshots: readonly MetricSnapshot[],
): Omit<SafeLevel, 'level' | 'failedBin'> & {
  readonly utilization?: number;
  readonly failedBin?: { readonly fromPercent: number; readonly p95Ms: number; readonly errorRate: number };
} {
  const { level, failedBin, ...rest } = safeLevel(spec, snapshots, cpuTargetScale(spec));
  return {
    ...rest,
    ...(level !== undefined ? { utilization: level / 100 } : {}),
    ...(failedBin
      ? { failedBin: { fromPercent: failedBin.from, p95Ms: failedBin.p95Ms, errorRate: failedBin.errorRate } }
      : {}),
  };
}

/**
 * The lowest whole target at or above `level` at which the HPA removes pods running at `level`
 * (a whole target is `unitsPerLevel` × a level: 100 for a CPU fraction's percent): it changes nothing while their ratio is within its scale-down
 * tolerance of 1, so a hotter target removes a pod only once level < target · (1 − tolerance).
 */
export function hpaActsFromLevel(level: number, tolerance: HpaTolerance, unitsPerLevel = 1): number {
  // With a scale-down tolerance of 1 or more the HPA never removes a pod.
  if (tolerance.scaleDown >= 1) return Number.POSITIVE_INFINITY;
  let target = Math.max(1, Math.ceil(unitsPerLevel * level));
  while (withinHpaTolerance(level, target / unitsPerLevel, tolerance)) target++;
  return target;
}

/** {@link hpaActsFromLevel} for a CPU utilization (a fraction), in whole percent. */
export function hpaActsFrom(utilization: number, tolerance: HpaTolerance): number {
  return hpaActsFromLevel(utilization, tolerance, 100);
}

/** The load's growth over one lead, or the pairs found when there are too few. */
export function loadGrowth(
  snapshots: readonly MetricSnapshot[],
  leadSeconds: number,
): { growth?: number; pairs: number } {
  const ratios: number[] = [];
  let j = 0;
  for (let i = 0; i < snapshots.length; i++) {
    const from = snapshots[i];
    if (!from || !(from.requestsPerSecond > 0)) continue;
    const at = from.takenAtSeconds + leadSeconds;
    if (j <= i) j = i + 1;
    while (j < snapshots.length && (snapshots[j]?.takenAtSeconds ?? 0) < at) j++;
    const to = snapshots[j];
    if (!to) break;
    // A gap in the history (an outage, a restart) is not a growth over one lead.
    if (to.takenAtSeconds - at > leadSeconds) continue;
    // The rate one lead later, interpolated between the snapshots either side of it.
    const before = snapshots[j - 1];
    const span = before && j - 1 > i ? to.takenAtSeconds - before.takenAtSeconds : 0;
    const later =
      before && span > 0
        ? before.requestsPerSecond +
          ((to.requestsPerSecond - before.requestsPerSecond) * (at - before.takenAtSeconds)) / span
        : to.requestsPerSecond;
    ratios.push(later / from.requestsPerSecond);
  }
  if (ratios.length < MIN_GROWTH_PAIRS) return { pairs: ratios.length };
  return { growth: Math.max(1, quantile(ratios, GROWTH_QUANTILE)), pairs: ratios.length };
}

/**
 * The HPA target the measured history supports on `scale`, for the current snapshot and the
 * history before it. `current` is the target in force, named in the reason.
 */
export function recommendTarget(
  spec: TuningSpec,
  snapshot: MetricSnapshot,
  history: readonly MetricSnapshot[],
  current: number,
  scale: TargetScale,
): HpaTargetNeed {
  const snapshots = [...history, snapshot];
  const lead = spec.forecast.leadSeconds;
  const target = (n: number) => `${n}${scale.unit}`;
  const { growth, pairs } = loadGrowth(snapshots, lead);
  if (growth === undefined) {
    return {
      reason: `${scale.name} held at ${target(current)}: the load's growth over the ${lead} s lead needs ${MIN_GROWTH_PAIRS} pairs of snapshots ${lead} s apart, ${pairs} so far`,
    };
  }
  const safe = safeLevel(spec, snapshots, scale);
  const slo = `p95 within ${Math.round(P95_MARGIN * 100)} % of ${spec.slo.p95LatencyMs} ms`;
  const failed = safe.failedBin
    ? `; pods at ${safe.failedBin.from}-${safe.failedBin.from + scale.binWidth}${scale.levelUnit} missed it (p95 ${Math.round(safe.failedBin.p95Ms)} ms, errors ${(safe.failedBin.errorRate * 100).toFixed(2)} %)`
    : '';
  if (safe.level === undefined) {
    return {
      reason:
        safe.judgedBins === 0
          ? `${scale.name} held at ${target(current)}: no ${scale.bin} ${scale.measure} band has ${MIN_SAMPLES_PER_BIN} snapshots yet`
          : `${scale.name} held at ${target(current)}: pods missed ${slo} at the coolest measured ${scale.measure}${failed}, so ${scale.limiter} is not what limits p95`,
    };
  }
  const { min, max } = scale.bounds;
  const seen = Math.round(safe.level);
  const u = safe.probe?.allowed ? Math.min(scale.ceiling, seen + scale.binWidth) : seen;
  const probe = safe.probe?.allowed
    ? ` (p95 ${Math.round(safe.probe.p95Ms)} ms there, within ${Math.round(PROBE_P95_SHARE * 100)} % of the SLO: one ${scale.bin} bin more, ${target(u)})`
    : '';
  const fromGrowth = Math.floor(u / growth);
  // A probe the HPA ignores buys nothing: the pods stay where they are and are never seen hotter.
  // So a probe goes on to the first target the HPA acts on, if pods there, after the lead's growth,
  // run at most PROBE_MAX_BINS bins past what was seen: the push keeps the growth's headroom.
  const tolerance = hpaToleranceOf(spec);
  const now = scale.levelOf(snapshot);
  const acts = hpaActsFromLevel(now / scale.unitsPerLevel, tolerance, scale.unitsPerLevel);
  const reachable = Math.floor((seen + PROBE_MAX_BINS * scale.binWidth) / growth);
  const pastTolerance = safe.probe?.allowed && fromGrowth > current && fromGrowth < acts && acts <= reachable;
  const wanted = pastTolerance ? acts : fromGrowth;
  const pastItsTolerance = pastTolerance
    ? `; at ${Math.round(now)}${scale.levelUnit} the HPA removes a pod only from a ${target(acts)} target (its ${+(tolerance.scaleDown * 100).toFixed(1)} % scale-down tolerance), so ${target(acts)}`
    : '';
  const measured =
    `pods met ${slo} up to ${seen}${scale.levelUnit}${probe}${failed}; ` +
    `the load grew up to ${growth.toFixed(2)}× within the ${lead} s lead (${Math.round(GROWTH_QUANTILE * 100)}th percentile of ${pairs}), so ${u} / ${growth.toFixed(2)} = ${target(fromGrowth)}${pastItsTolerance}`;
  if (wanted < current && !safe.failedBin) {
    // No measured miss says a cooler target would help: the pods were only never seen hotter.
    return {
      value: Math.min(max, Math.max(min, current)),
      reason: `${scale.name} held at ${target(current)}: ${measured}, but no miss was measured where ${scale.limiter} limits p95, so nothing says a cooler target helps`,
    };
  }
  const value = Math.min(max, Math.max(min, wanted));
  const bound = value !== wanted ? ` (bounds ${min}-${max}${scale.unit})` : '';
  return { value, reason: `${scale.name} ${target(current)} → ${target(value)}${bound}: ${measured}` };
}

/** The HPA's CPU target the measured history supports ({@link recommendTarget} on the CPU scale). */
export function recommendHpaTarget(
  spec: TuningSpec,
  snapshot: MetricSnapshot,
  history: readonly MetricSnapshot[],
  currentPercent: number,
): HpaTargetNeed {
  return recommendTarget(spec, snapshot, history, currentPercent, cpuTargetScale(spec));
}

/** The HPA's request-rate target the measured history supports ({@link recommendTarget} on the rate scale). */
export function recommendRateTarget(
  spec: TuningSpec,
  snapshot: MetricSnapshot,
  history: readonly MetricSnapshot[],
  currentPerPod: number,
): HpaTargetNeed {
  return recommendTarget(spec, snapshot, history, currentPerPod, rateTargetScale(spec));
}
