/**
 * The HPA's CPU target as a knob. The HPA adds a pod when the pods' mean CPU passes its target
 * (by its tolerance), so a cool target holds pods the SLO does not need. This rule picks the
 * hottest target at which the measured p95 still met the SLO, with headroom for the load's growth
 * while the HPA's new pods start: the pods run at the target until the load grows, and for one
 * lead (a pod's start-up, one HPA sync and one evaluation, `spec.forecast.leadSeconds`) they carry
 * the growth alone. Both numbers are measured from the profile's own history, not assumed:
 *
 * - safe utilization u: the snapshots (ready pods > 0) are binned by CPU utilization in
 *   {@link UTILIZATION_BIN_POINTS}-point bins; walking up from the coolest bin, every bin with at
 *   least {@link MIN_SAMPLES_PER_BIN} snapshots must have its {@link P95_QUANTILE} quantile of p95
 *   within {@link P95_MARGIN} of the SLO and the same quantile of the error rate within its SLO;
 *   u is the hottest CPU measured in the last bin that passes (bins with fewer snapshots are passed
 *   over: too few to judge).
 * - growth g: the {@link GROWTH_QUANTILE} quantile of rps(t + lead) / rps(t) over the history, at
 *   least 1, from at least {@link MIN_GROWTH_PAIRS} pairs.
 * - proposal: floor(100 · u / g), within the knob's bounds. When the pods at the target already
 *   miss p95, u falls below the target and the proposal is cooler.
 *
 * It never extrapolates past what was measured: the target climbs as the pods are seen running
 * hotter within the SLO (the gate's step cap and cooldown pace it), and a rollback undoes a hotter
 * target after which the SLO broke.
 */
import type { MetricSnapshot, TuningSpec } from './types.ts';

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
}

/** The hottest measured CPU utilization up to which every judged bin met the SLO (see the module comment). */
export function safeUtilization(spec: TuningSpec, snapshots: readonly MetricSnapshot[]): SafeUtilization {
  const bins = new Map<number, MetricSnapshot[]>();
  for (const s of snapshots) {
    if (!(s.readyReplicas > 0) || !Number.isFinite(s.cpuUtilization)) continue;
    const bin = Math.floor((s.cpuUtilization * 100) / UTILIZATION_BIN_POINTS);
    const list = bins.get(bin) ?? [];
    list.push(s);
    bins.set(bin, list);
  }
  let utilization: number | undefined;
  let judgedBins = 0;
  for (const bin of [...bins.keys()].sort((a, b) => a - b)) {
    const samples = bins.get(bin) ?? [];
    if (samples.length < MIN_SAMPLES_PER_BIN) continue;
    judgedBins++;
    const p95Ms = quantile(
      samples.map((s) => s.p95LatencyMs),
      P95_QUANTILE,
    );
    const errorRate = quantile(
      samples.map((s) => s.errorRate),
      P95_QUANTILE,
    );
    if (p95Ms > P95_MARGIN * spec.slo.p95LatencyMs || errorRate > spec.slo.errorRate) {
      return {
        ...(utilization !== undefined ? { utilization } : {}),
        judgedBins,
        failedBin: { fromPercent: bin * UTILIZATION_BIN_POINTS, p95Ms, errorRate },
      };
    }
    utilization = Math.max(...samples.map((s) => s.cpuUtilization));
  }
  return { ...(utilization !== undefined ? { utilization } : {}), judgedBins };
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
    ratios.push(to.requestsPerSecond / from.requestsPerSecond);
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
  const wanted = Math.floor((100 * safe.utilization) / growth);
  const percent = Math.min(max, Math.max(min, wanted));
  const bound = percent !== wanted ? ` (bounds ${min}-${max} %)` : '';
  return {
    percent,
    reason:
      `HPA target ${currentPercent} % → ${percent} %${bound}: pods met ${slo} up to ${Math.round(safe.utilization * 100)} % CPU${failed}; ` +
      `the load grew up to ${growth.toFixed(2)}× within the ${lead} s lead (${Math.round(GROWTH_QUANTILE * 100)}th percentile of ${pairs}), so ${Math.round(safe.utilization * 100)} / ${growth.toFixed(2)}`,
  };
}
