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
import type { HpaTolerance, MetricSnapshot, TuningSpec } from './types.ts';

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

/** What the rule asks for the HPA's CPU target. */
export interface HpaTargetNeed {
  /** percent: the wanted target in whole percent, within the bounds; absent when the history is too short. */
  readonly percent?: number;
  /** reason: one sentence with the numbers, or what is missing. */
  readonly reason: string;
}

/** The value at quantile q (0..1) of the values, nearest rank. */
function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] ?? 0;
}

/** The safe utilization, or why there is none. */
export interface SafeUtilization {
  /** utilization: the hottest CPU (0..) measured in the last bin that met the SLO. */
  readonly utilization?: number;
  /** judgedBins: bins with enough snapshots to judge. */
  readonly judgedBins: number;
  /** failedBin: the first judged bin that missed the SLO, its lower edge in percent, and its p95 quantile. */
  readonly failedBin?: { readonly fromPercent: number; readonly p95Ms: number; readonly errorRate: number };
  /** probe: with no miss, the hottest judged bin's p95 quantile and whether it is low enough for one bin more. */
  readonly probe?: { readonly p95Ms: number; readonly allowed: boolean };
}

/** The hottest measured CPU utilization below the bins where CPU limits p95 (see the module comment). */
export function safeUtilization(spec: TuningSpec, snapshots: readonly MetricSnapshot[]): SafeUtilization {
  const bins = new Map<number, MetricSnapshot[]>();
  for (const s of snapshots) {
    if (!(s.readyReplicas > 0) || !Number.isFinite(s.cpuUtilization)) continue;
    const bin = Math.floor((s.cpuUtilization * 100) / UTILIZATION_BIN_POINTS);
    const list = bins.get(bin) ?? [];
    list.push(s);
    bins.set(bin, list);
  }
  const judged = [...bins.keys()]
    .sort((a, b) => a - b)
    .filter((bin) => (bins.get(bin)?.length ?? 0) >= MIN_SAMPLES_PER_BIN)
    .map((bin) => {
      const samples = bins.get(bin) ?? [];
      const p95Ms = quantile(
        samples.map((s) => s.p95LatencyMs),
        P95_QUANTILE,
      );
      const errorRate = quantile(
        samples.map((s) => s.errorRate),
        P95_QUANTILE,
      );
      const met = p95Ms <= P95_MARGIN * spec.slo.p95LatencyMs && errorRate <= spec.slo.errorRate;
      const hottest = Math.max(...samples.map((s) => s.cpuUtilization));
      return { fromPercent: bin * UTILIZATION_BIN_POINTS, p95Ms, errorRate, met, hottest };
    });
  // The failing tail: from the coolest judged bin after which no judged bin meets the SLO.
  let tail = judged.length;
  while (tail > 0 && !judged[tail - 1]?.met) tail--;
  const failed = judged[tail];
  const below = judged.slice(0, tail).filter((b) => b.met);
  const utilization = below.length > 0 ? Math.max(...below.map((b) => b.hottest)) : undefined;
  const hottest = judged[judged.length - 1];
  const probe =
    !failed && hottest
      ? { p95Ms: hottest.p95Ms, allowed: hottest.p95Ms <= PROBE_P95_SHARE * spec.slo.p95LatencyMs }
      : undefined;
  return {
    ...(utilization !== undefined ? { utilization } : {}),
    ...(probe ? { probe } : {}),
    judgedBins: judged.length,
    ...(failed
      ? { failedBin: { fromPercent: failed.fromPercent, p95Ms: failed.p95Ms, errorRate: failed.errorRate } }
      : {}),
  };
}

/**
 * The coolest whole-percent target at or above `utilization` at which the HPA removes pods running
 * at `utilization`: it changes nothing while their ratio is within its scale-down tolerance of 1,
 * so a hotter target removes a pod only once utilization < target · (1 − tolerance).
 */
export function hpaActsFrom(utilization: number, tolerance: HpaTolerance): number {
  // With a scale-down tolerance of 1 or more the HPA never removes a pod.
  if (tolerance.scaleDown >= 1) return Number.POSITIVE_INFINITY;
  let percent = Math.max(1, Math.ceil(100 * utilization));
  while (withinHpaTolerance(utilization, percent / 100, tolerance)) percent++;
  return percent;
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
 * The HPA CPU target the measured history supports, for the current snapshot and the history
 * before it. `currentPercent` is the target in force, named in the reason.
 */
export function recommendHpaTarget(
  spec: TuningSpec,
  snapshot: MetricSnapshot,
  history: readonly MetricSnapshot[],
  currentPercent: number,
): HpaTargetNeed {
  const snapshots = [...history, snapshot];
  const lead = spec.forecast.leadSeconds;
  const { growth, pairs } = loadGrowth(snapshots, lead);
  if (growth === undefined) {
    return {
      reason: `HPA target held at ${currentPercent} %: the load's growth over the ${lead} s lead needs ${MIN_GROWTH_PAIRS} pairs of snapshots ${lead} s apart, ${pairs} so far`,
    };
  }
  const safe = safeUtilization(spec, snapshots);
  const slo = `p95 within ${Math.round(P95_MARGIN * 100)} % of ${spec.slo.p95LatencyMs} ms`;
  const failed = safe.failedBin
    ? `; pods at ${safe.failedBin.fromPercent}-${safe.failedBin.fromPercent + UTILIZATION_BIN_POINTS} % CPU missed it (p95 ${Math.round(safe.failedBin.p95Ms)} ms, errors ${(safe.failedBin.errorRate * 100).toFixed(2)} %)`
    : '';
  if (safe.utilization === undefined) {
    return {
      reason:
        safe.judgedBins === 0
          ? `HPA target held at ${currentPercent} %: no ${UTILIZATION_BIN_POINTS}-point CPU band has ${MIN_SAMPLES_PER_BIN} snapshots yet`
          : `HPA target held at ${currentPercent} %: pods missed ${slo} at the coolest measured CPU${failed}, so CPU is not what limits p95`,
    };
  }
  const { min, max } = spec.knobs.hpaTargetCpuPercent;
  const seen = Math.round(safe.utilization * 100);
  const u = safe.probe?.allowed ? Math.min(100, seen + UTILIZATION_BIN_POINTS) : seen;
  const probe = safe.probe?.allowed
    ? ` (p95 ${Math.round(safe.probe.p95Ms)} ms there, within ${Math.round(PROBE_P95_SHARE * 100)} % of the SLO: one ${UTILIZATION_BIN_POINTS}-point bin more, ${u} %)`
    : '';
  const fromGrowth = Math.floor(u / growth);
  // A probe the HPA ignores buys nothing: the pods stay where they are and are never seen hotter.
  // So a probe goes on to the first target the HPA acts on, if pods there, after the lead's growth,
  // run at most PROBE_MAX_BINS bins past what was seen: the push keeps the growth's headroom.
  const tolerance = hpaToleranceOf(spec);
  const acts = hpaActsFrom(snapshot.cpuUtilization, tolerance);
  const reachable = Math.floor((seen + PROBE_MAX_BINS * UTILIZATION_BIN_POINTS) / growth);
  const pastTolerance =
    safe.probe?.allowed && fromGrowth > currentPercent && fromGrowth < acts && acts <= reachable;
  const wanted = pastTolerance ? acts : fromGrowth;
  const pastItsTolerance = pastTolerance
    ? `; at ${Math.round(snapshot.cpuUtilization * 100)} % CPU the HPA removes a pod only from a ${acts} % target (its ${+(tolerance.scaleDown * 100).toFixed(1)} % scale-down tolerance), so ${acts} %`
    : '';
  const measured =
    `pods met ${slo} up to ${seen} % CPU${probe}${failed}; ` +
    `the load grew up to ${growth.toFixed(2)}× within the ${lead} s lead (${Math.round(GROWTH_QUANTILE * 100)}th percentile of ${pairs}), so ${u} / ${growth.toFixed(2)} = ${fromGrowth} %${pastItsTolerance}`;
  if (wanted < currentPercent && !safe.failedBin) {
    // No measured miss says a cooler target would help: the pods were only never seen hotter.
    return {
      percent: Math.min(max, Math.max(min, currentPercent)),
      reason: `HPA target held at ${currentPercent} %: ${measured}, but no miss was measured where CPU limits p95, so nothing says a cooler target helps`,
    };
  }
  const percent = Math.min(max, Math.max(min, wanted));
  const bound = percent !== wanted ? ` (bounds ${min}-${max} %)` : '';
  return { percent, reason: `HPA target ${currentPercent} % → ${percent} %${bound}: ${measured}` };
}
