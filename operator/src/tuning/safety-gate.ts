import {
  connectionBudget,
  hpaToleranceOf,
  maxMemoryCeilingMiB,
  minReplicasFloor,
  poolSizeFloor,
  ROLLOUT_UNAVAILABLE_SHARE,
} from './tuning-spec.ts';
import type {
  AppliedChange,
  GatedDecision,
  KnobName,
  KnobValues,
  MetricSnapshot,
  Proposal,
  TuningHistory,
  TuningSpec,
  Verdict,
} from './types.ts';
import { describeHpaTargets, type HpaTargets, hpaUsageRatio, KNOB_NAMES, requestsPerPod } from './types.ts';

/**
 * Why a snapshot cannot be trusted, or undefined when it can. Missing, stale (older than
 * `maxMetricAgeSeconds`), from the future, NaN, infinite or negative values all fail it.
 */
export function snapshotProblem(
  spec: TuningSpec,
  snapshot: MetricSnapshot | undefined,
  nowSeconds: number,
): string | undefined {
  if (!snapshot) return 'metrics missing';
  const age = nowSeconds - snapshot.takenAtSeconds;
  if (!Number.isFinite(age)) return 'metrics timestamp is not a number';
  if (age > spec.timings.maxMetricAgeSeconds) {
    return `metrics stale: ${Math.round(age)} s old, limit ${spec.timings.maxMetricAgeSeconds} s`;
  }
  if (age < 0) return `metrics from the future: ${Math.round(-age)} s ahead`;
  const fields: [string, unknown][] = [
    ['windowSeconds', snapshot.windowSeconds],
    ['requestsPerSecond', snapshot.requestsPerSecond],
    ['p95LatencyMs', snapshot.p95LatencyMs],
    ['errorRate', snapshot.errorRate],
    ['readyReplicas', snapshot.readyReplicas],
    ['cpuUtilization', snapshot.cpuUtilization],
    ['dbQueriesPerSecond', snapshot.dbQueriesPerSecond],
    ['dbActiveConnections', snapshot.dbActiveConnections],
    ['poolWaitMs', snapshot.poolWaitMs],
    ...Object.entries(snapshot.redis ?? {}).map(([k, v]): [string, unknown] => [`redis.${k}`, v]),
  ];
  // Without Redis, maxmemory is held (untunedKnobs) and the other knobs need no cache signal.
  if (!snapshot.redis && spec.untunedKnobs?.redisMaxmemoryMiB === undefined) return 'metric redis is missing';
  for (const [name, value] of fields) {
    if (typeof value !== 'number' || Number.isNaN(value)) return `metric ${name} is not a number`;
    if (!Number.isFinite(value)) return `metric ${name} is infinite`;
    if (value < 0) return `metric ${name} is negative (${value})`;
  }
  if (snapshot.errorRate > 1) return `metric errorRate is above 1 (${snapshot.errorRate})`;
  if (snapshot.readyReplicas === 0 && snapshot.requestsPerSecond > 0)
    return 'metric readyReplicas is 0 under load';
  return undefined;
}

/** Whether a snapshot meets the latency and error-rate SLOs (a change that breaks them is rolled back). */
export function sloMet(spec: TuningSpec, snapshot: MetricSnapshot): boolean {
  return snapshot.p95LatencyMs <= spec.slo.p95LatencyMs && snapshot.errorRate <= spec.slo.errorRate;
}

/** Why the HPA's request-rate target is held when the HPA has none (its value is 0). */
export const NO_REQUEST_RATE_TARGET = 'the HPA has no request-rate target';

/**
 * Why the engine holds a knob untuned, or undefined when it tunes it: the spec's reason
 * (`untunedKnobs`), or, for the request-rate target, an HPA without one (value 0).
 */
export function heldUntuned(spec: TuningSpec, values: KnobValues, knob: KnobName): string | undefined {
  const untuned = spec.untunedKnobs?.[knob];
  if (untuned !== undefined) return untuned;
  return knob === 'hpaTargetRequestsPerPod' && !(values.hpaTargetRequestsPerPod > 0)
    ? NO_REQUEST_RATE_TARGET
    : undefined;
}

/** The knob's allowed range after the design invariants that bound a single knob. */
export function knobLimits(spec: TuningSpec, knob: KnobName): { min: number; max: number } {
  const { knobs } = spec;
  switch (knob) {
    case 'poolSize':
      return { min: poolSizeFloor(spec), max: knobs.poolSize.max };
    case 'maxOverflow':
      return knobs.maxOverflow;
    case 'redisMaxmemoryMiB':
      return { min: knobs.redisMaxmemoryMiB.min, max: maxMemoryCeilingMiB(spec) };
    case 'minReplicas':
      return { min: minReplicasFloor(spec), max: knobs.replicas.ceiling };
    case 'maxReplicas':
      return { min: minReplicasFloor(spec), max: knobs.replicas.ceiling };
    case 'hpaTargetCpuPercent':
      return knobs.hpaTargetCpuPercent;
    case 'hpaTargetRequestsPerPod':
      return knobs.hpaTargetRequestsPerPod;
  }
}

function lastChangeOf(history: TuningHistory, knob: KnobName): AppliedChange | undefined {
  for (let i = history.changes.length - 1; i >= 0; i--) {
    const change = history.changes[i];
    if (change?.knob === knob) return change;
  }
  return undefined;
}

/**
 * Whether a change takes capacity away: a shrink of a knob whose growth costs resources, or a
 * hotter HPA target (each pod carries more load, so the HPA keeps fewer). Rollbacks undo only
 * these (see {@link rollbackFor}).
 */
export function removesCapacity(knob: KnobName, from: number, to: number): boolean {
  return knob === 'hpaTargetCpuPercent' || knob === 'hpaTargetRequestsPerPod' ? to > from : to < from;
}

/** Mean pool wait above this share of the p95 target says the pool is a bottleneck. */
export const POOL_WAIT_BOTTLENECK_SHARE = 0.05;

/**
 * Whether a shrink of this knob could be what broke the SLO, judged from the snapshot: a smaller
 * pool shows as pool waits, a smaller cache as a hit rate below target, fewer replicas as pods
 * above the HPA's targets in force, `targets` (with the fleet at the new ceiling, for maxReplicas),
 * a hotter HPA target as CPU (or requests per pod) above the target it replaced. A breach with no such sign is not blamed
 * on the change, which keeps rollbacks (themselves changes, and for the pool a rollout) for the
 * cases they can fix.
 */
export function changeCouldExplainBreach(
  spec: TuningSpec,
  snapshot: MetricSnapshot,
  change: AppliedChange,
  targets: HpaTargets,
): boolean {
  switch (change.knob) {
    case 'poolSize':
    case 'maxOverflow':
      return (
        snapshot.poolWaitMs > POOL_WAIT_BOTTLENECK_SHARE * spec.slo.p95LatencyMs ||
        snapshot.errorRate > spec.slo.errorRate
      );
    case 'redisMaxmemoryMiB':
      return (
        snapshot.redis !== undefined &&
        snapshot.redis.hitsPerSecond <
          spec.slo.cacheHitRate * (snapshot.redis.hitsPerSecond + snapshot.redis.missesPerSecond)
      );
    case 'minReplicas':
      return hpaUsageRatio(snapshot, targets) > 1;
    case 'maxReplicas':
      return hpaUsageRatio(snapshot, targets) > 1 && snapshot.readyReplicas >= change.to;
    case 'hpaTargetCpuPercent':
      return snapshot.cpuUtilization > change.from / 100;
    case 'hpaTargetRequestsPerPod':
      return requestsPerPod(snapshot) > change.from;
  }
}

/** A breach after a change is blamed on load, not on the change, when load grew by more than this. */
export const ROLLBACK_LOAD_GROWTH_EXCUSE = 0.2;

/**
 * A rollback for the knob's last change, when that change took capacity away
 * ({@link removesCapacity}), the SLO was met
 * before it, is broken now, load has not grown by more than {@link ROLLBACK_LOAD_GROWTH_EXCUSE}
 * since (a load surge explains the breach better), and we are still inside the verification
 * window. Only such changes are rolled back: a bigger pool, cache or replica range, or a cooler
 * HPA target, cannot plausibly
 * make latency or errors worse (the DB budget invariant already guards the one way it could),
 * while undoing a growth made for rising load would make things worse.
 */
export function rollbackFor(
  spec: TuningSpec,
  snapshot: MetricSnapshot,
  current: KnobValues,
  history: TuningHistory,
  knob: KnobName,
  nowSeconds: number,
): AppliedChange | undefined {
  const last = lastChangeOf(history, knob);
  if (!last || last.rollback || !removesCapacity(knob, last.from, last.to) || !last.sloMetBefore)
    return undefined;
  if (nowSeconds - last.atSeconds > spec.timings.verificationWindowSeconds) return undefined;
  if (current[knob] !== last.to || sloMet(spec, snapshot)) return undefined;
  if (!changeCouldExplainBreach(spec, snapshot, last, current)) return undefined;
  if (snapshot.requestsPerSecond > last.requestsPerSecondBefore * (1 + ROLLBACK_LOAD_GROWTH_EXCUSE))
    return undefined;
  return last;
}

interface KnobOutcome {
  to: number;
  verdict: Verdict;
  reason: string;
}

/** Knobs whose change rolls every pod of the API (they live in its ConfigMap). */
export const KNOBS_THAT_ROLL_PODS: readonly KnobName[] = ['poolSize', 'maxOverflow'];

/**
 * How much harder the pods that keep serving work while a rollout takes
 * {@link ROLLOUT_UNAVAILABLE_SHARE} of the ready ones away (rounded down: two or three pods lose
 * none): their CPU and their requests per pod both grow by this factor. Past the HPA's scale-up
 * threshold the HPA adds pods for the rollout's length and keeps them for its scale-down window,
 * which costs more than a pool change saves.
 */
export function rolloutLoadFactor(snapshot: MetricSnapshot): number {
  const ready = Math.max(0, Math.round(snapshot.readyReplicas));
  const serving = ready - Math.floor(ROLLOUT_UNAVAILABLE_SHARE * ready);
  return serving > 0 ? ready / serving : 1;
}

/**
 * The pods' load against the HPA's targets, grown by `factor`, in words: above the targets, or past
 * `threshold` times them. With a CPU target alone, in percent ("90 % CPU, above the HPA target of
 * 70 %"); with a request-rate target too, as the HPA's usage ratio with both readings.
 */
function describeLoad(
  snapshot: MetricSnapshot,
  targets: HpaTargets,
  factor: number,
  threshold?: number,
): string {
  const cpu = Math.round(snapshot.cpuUtilization * factor * 100);
  if (targets.hpaTargetRequestsPerPod <= 0) {
    const target = targets.hpaTargetCpuPercent;
    return threshold === undefined
      ? `${cpu} % CPU, above the HPA target of ${target} %`
      : `${cpu} % CPU, past the ${Math.round(target * threshold)} %`;
  }
  const rate = Math.round(requestsPerPod(snapshot) * factor);
  const ratio = (hpaUsageRatio(snapshot, targets) * factor).toFixed(2);
  const against = `${ratio}× ${describeHpaTargets(targets)}`;
  return threshold === undefined
    ? `${cpu} % CPU and ${rate} rps a pod, ${against}`
    : `${cpu} % CPU and ${rate} rps a pod, ${against}, past the ${threshold.toFixed(2)}×`;
}

/** What the gate's rule for one knob looks at. */
interface KnobGateInput {
  /** spec: bounds, SLOs and timings. */
  readonly spec: TuningSpec;
  /** knob / from: the knob and its current (repaired) value. */
  readonly knob: KnobName;
  readonly from: number;
  /** proposal: what the policy wants for it, if anything. */
  readonly proposal: Proposal | undefined;
  /** history: applied changes, for cooldown and the stabilization window. */
  readonly history: TuningHistory;
  /** nowSeconds: the evaluation's time. */
  readonly nowSeconds: number;
  /** snapshot: the usable snapshot the proposal came from. */
  readonly snapshot: MetricSnapshot;
  /** targets: the HPA's targets in force. */
  readonly targets: HpaTargets;
}

/**
 * The gate's rule for one knob: clamp to its limits, hold pod-rolling changes while the SLO is
 * broken, the pods run above the HPA's targets or the rollout would push the pods left past the HPA's
 * scale-up threshold ({@link rolloutLoadFactor}), hold capacity removals while the SLO is broken, then
 * deadband, cooldown, stabilization window and max step, in that order.
 */
function gateOneKnob({
  spec,
  knob,
  from,
  proposal,
  history,
  nowSeconds,
  snapshot,
  targets,
}: KnobGateInput): KnobOutcome {
  const sloHolds = sloMet(spec, snapshot);
  if (!proposal) return { to: from, verdict: 'hold', reason: 'no proposal' };
  const { timings } = spec;
  const limits = knobLimits(spec, knob);
  let target = Math.round(Math.min(limits.max, Math.max(limits.min, proposal.value)));
  const prefix = `${proposal.reason}; gate:`;
  if (target === from) return { to: from, verdict: 'hold', reason: `${prefix} already at ${from}` };
  const delta = target - from;
  const rollsPods = KNOBS_THAT_ROLL_PODS.includes(knob);
  const poolIsBottleneck = snapshot.poolWaitMs > POOL_WAIT_BOTTLENECK_SHARE * spec.slo.p95LatencyMs;
  if (rollsPods && !(delta > 0 && poolIsBottleneck)) {
    // A rollout takes a quarter of the pods away while it runs: only when there is room, unless
    // the pool itself is what starves requests and growing it is the cure.
    if (!sloHolds) {
      return {
        to: from,
        verdict: 'hold',
        reason: `${prefix} ${from} → ${target} waits: the SLO is broken now and this rolls the pods`,
      };
    }
    const usage = hpaUsageRatio(snapshot, targets);
    if (usage > 1) {
      return {
        to: from,
        verdict: 'hold',
        reason: `${prefix} ${from} → ${target} waits: pods run at ${describeLoad(snapshot, targets, 1)}, and a rollout takes a quarter of them away`,
      };
    }
    const during = rolloutLoadFactor(snapshot);
    const scaleUpAt = 1 + hpaToleranceOf(spec).scaleUp;
    if (usage * during > scaleUpAt) {
      return {
        to: from,
        verdict: 'hold',
        reason: `${prefix} ${from} → ${target} waits: with a quarter of the ${Math.round(snapshot.readyReplicas)} pods away during the rollout the rest would run at ${describeLoad(snapshot, targets, during, scaleUpAt)} at which the HPA adds pods`,
      };
    }
  }
  const takesCapacity =
    removesCapacity(knob, from, target) &&
    (knob === 'redisMaxmemoryMiB' ||
      knob === 'minReplicas' ||
      knob === 'hpaTargetCpuPercent' ||
      knob === 'hpaTargetRequestsPerPod' ||
      (knob === 'maxReplicas' && target < snapshot.readyReplicas));
  if (!sloHolds && takesCapacity) {
    return {
      to: from,
      verdict: 'hold',
      reason: `${prefix} ${from} → ${target} waits: the SLO is broken now and this removes capacity`,
    };
  }
  // The deadband keeps small moves from flapping; a move onto the knob's limit cannot flap (nothing
  // lies past it), and without this the last step to the limit would never be taken.
  const ontoLimit = target === limits.max || target === limits.min;
  // A policy that measures in bins moves by one when the deadband would hold a whole bin.
  const fraction = timings.deadbandFraction * from;
  const oneBin = proposal.resolution !== undefined && proposal.resolution < fraction;
  if (!ontoLimit && Math.abs(delta) < (oneBin ? (proposal.resolution ?? 0) : fraction)) {
    return {
      to: from,
      verdict: 'hold',
      reason: `${prefix} ${from} → ${target} is inside the ${oneBin ? `rule's ${proposal.resolution}-unit bin` : `${timings.deadbandFraction * 100} % deadband`}`,
    };
  }
  const last = lastChangeOf(history, knob);
  if (last && !proposal.skipsCooldown && nowSeconds - last.atSeconds < timings.cooldownSeconds) {
    return {
      to: from,
      verdict: 'hold',
      reason: `${prefix} cooldown, last change ${Math.round(nowSeconds - last.atSeconds)} s ago (cooldown ${timings.cooldownSeconds} s)`,
    };
  }
  if (
    last &&
    Math.sign(last.to - last.from) === -Math.sign(delta) &&
    nowSeconds - last.atSeconds < timings.stabilizationWindowSeconds
  ) {
    return {
      to: from,
      verdict: 'hold',
      reason: `${prefix} reversing the change of ${Math.round(nowSeconds - last.atSeconds)} s ago waits out the ${timings.stabilizationWindowSeconds} s stabilization window`,
    };
  }
  const maxStep = Math.max(1, Math.floor(timings.maxStepFraction * from));
  let note = '';
  if (!proposal.skipsCooldown && Math.abs(delta) > maxStep) {
    target = from + Math.sign(delta) * maxStep;
    note = ` (step capped at ${maxStep})`;
  }
  return { to: target, verdict: 'apply', reason: `${prefix} ${from} → ${target}${note}` };
}

/**
 * Brings a set of knob values inside every invariant of design.md, in the order that costs the
 * SLO least: bounds and floors first, then the DB budget by cutting overflow, then the pool (not
 * below the deadlock floor; a short pool makes misses wait, while a low replica ceiling starves
 * every request of CPU), then the replica ceiling (not below minReplicas), then minReplicas.
 * Returns the repaired values and a note per knob that moved. A validated spec is always feasible.
 */
export function enforceInvariants(
  spec: TuningSpec,
  values: KnobValues,
): { values: KnobValues; notes: Partial<Record<KnobName, string>> } {
  const v = { ...values };
  const notes: Partial<Record<KnobName, string>> = {};
  const note = (knob: KnobName, text: string) => {
    notes[knob] = notes[knob] ? `${notes[knob]}; ${text}` : text;
  };
  for (const knob of KNOB_NAMES) {
    if (heldUntuned(spec, values, knob) !== undefined) continue;
    const { min, max } = knobLimits(spec, knob);
    const clamped = Math.min(max, Math.max(min, Math.round(v[knob])));
    if (clamped !== v[knob]) {
      note(knob, `invariant: ${knob} kept within [${min}, ${max}]`);
      v[knob] = clamped;
    }
  }
  if (v.maxReplicas < v.minReplicas) {
    note('maxReplicas', `invariant: maxReplicas raised to minReplicas ${v.minReplicas}`);
    v.maxReplicas = v.minReplicas;
  }
  const budget = connectionBudget(spec);
  const fits = () => v.maxReplicas * (v.poolSize + v.maxOverflow) <= budget;
  const budgetText = () => `invariant: maxReplicas × (pool + overflow) ≤ ${budget}`;
  const tuned = (knob: KnobName) => spec.untunedKnobs?.[knob] === undefined;
  if (!fits() && tuned('maxOverflow')) {
    const overflow = Math.max(
      spec.knobs.maxOverflow.min,
      Math.min(v.maxOverflow, Math.floor(budget / v.maxReplicas) - v.poolSize),
    );
    if (overflow !== v.maxOverflow)
      note('maxOverflow', `${budgetText()}: overflow ${v.maxOverflow} → ${overflow}`);
    v.maxOverflow = overflow;
  }
  if (!fits() && tuned('poolSize')) {
    const pool = Math.max(poolSizeFloor(spec), Math.floor(budget / v.maxReplicas) - v.maxOverflow);
    if (pool !== v.poolSize) note('poolSize', `${budgetText()}: pool ${v.poolSize} → ${pool}`);
    v.poolSize = pool;
  }
  if (!fits()) {
    const ceiling = Math.max(v.minReplicas, Math.floor(budget / (v.poolSize + v.maxOverflow)));
    if (ceiling !== v.maxReplicas)
      note('maxReplicas', `${budgetText()}: maxReplicas ${v.maxReplicas} → ${ceiling}`);
    v.maxReplicas = ceiling;
  }
  if (!fits()) {
    const replicas = Math.max(minReplicasFloor(spec), Math.floor(budget / (v.poolSize + v.maxOverflow)));
    note('minReplicas', `${budgetText()}: minReplicas ${v.minReplicas} → ${replicas}`);
    note('maxReplicas', `${budgetText()}: maxReplicas ${v.maxReplicas} → ${replicas}`);
    v.minReplicas = replicas;
    v.maxReplicas = replicas;
  }
  return { values: v, notes };
}

/** The knobs the DB budget invariant ties together. */
const DB_BUDGET_KNOBS: readonly KnobName[] = ['poolSize', 'maxOverflow', 'maxReplicas'];

/**
 * Repairs a current state that breaks an invariant. When the DB budget is broken and the
 * policies have proposed (metrics usable), the repair takes their pool, overflow and replica
 * ceiling, which fit the budget by construction and come from the measured load, so one change
 * (one rollout) fixes it; otherwise, and for whatever is still broken, {@link enforceInvariants}
 * cuts blindly. Step caps and cooldowns do not apply: a broken invariant is fixed at once.
 */
export function repairCurrentState(
  spec: TuningSpec,
  current: KnobValues,
  proposals: readonly Proposal[],
): { values: KnobValues; notes: Partial<Record<KnobName, string>> } {
  const budget = connectionBudget(spec);
  const budgetBroken = current.maxReplicas * (current.poolSize + current.maxOverflow) > budget;
  const informed = { ...current };
  const informedNotes: Partial<Record<KnobName, string>> = {};
  if (budgetBroken) {
    for (const knob of DB_BUDGET_KNOBS) {
      const proposal = proposals.find((p) => p.knob === knob);
      if (!proposal || !Number.isFinite(proposal.value)) continue;
      const { min, max } = knobLimits(spec, knob);
      const value = Math.min(max, Math.max(min, Math.round(proposal.value)));
      if (value !== current[knob]) {
        informed[knob] = value;
        informedNotes[knob] =
          `invariant: ${current.maxReplicas} × (${current.poolSize} + ${current.maxOverflow}) > ${budget} connections, repaired at once with the policy's ${knob} ${value}`;
      }
    }
  }
  const { values, notes } = enforceInvariants(spec, informed);
  for (const knob of KNOB_NAMES) {
    const texts = [informedNotes[knob], notes[knob]].filter(Boolean);
    if (texts.length) notes[knob] = texts.join('; ');
  }
  return { values, notes };
}

/** Whether knob values satisfy every invariant of design.md under the spec. */
export function satisfiesInvariants(spec: TuningSpec, values: KnobValues): boolean {
  for (const knob of KNOB_NAMES) {
    if (heldUntuned(spec, values, knob) !== undefined) continue;
    const { min, max } = knobLimits(spec, knob);
    if (!Number.isInteger(values[knob]) || values[knob] < min || values[knob] > max) return false;
  }
  return (
    values.minReplicas <= values.maxReplicas &&
    values.maxReplicas * (values.poolSize + values.maxOverflow) <= connectionBudget(spec)
  );
}

/**
 * The safety gate. Turns proposals into one decision per knob: fail static when the snapshot is
 * unusable; roll back a recent shrink that broke the SLO; otherwise hold shrinks and pod-rolling
 * changes while the SLO is broken, and pod-rolling changes while CPU is above the HPA target or
 * the pods a rollout leaves serving would run past the HPA's scale-up threshold (a rollout takes a
 * quarter of the pods away), then apply deadband, per-knob cooldown, the stabilization
 * window before a change of direction and the max step, in that order (a proposal that
 * `skipsCooldown`, the burst response's, passes the cooldown and the max step). A current state that
 * breaks an invariant is repaired first; each change then goes only as far as the invariants
 * allow. Pure.
 */
export function gateProposals(
  spec: TuningSpec,
  snapshot: MetricSnapshot | undefined,
  current: KnobValues,
  proposals: readonly Proposal[],
  history: TuningHistory,
  nowSeconds: number,
): { decisions: GatedDecision[]; next: KnobValues } {
  const problem = snapshotProblem(spec, snapshot, nowSeconds);
  // Repair the current state first (no metric needed); every rule then works from the repaired
  // values, and each change goes in only as far as the invariants allow, shrinks first since
  // they free budget: the gate never moves a knob nobody asked to move, except to repair a state
  // that already breaks an invariant.
  const { values: repairedCurrent, notes } = repairCurrentState(spec, current, problem ? [] : proposals);
  const outcomes = {} as Record<KnobName, KnobOutcome>;
  for (const knob of KNOB_NAMES) {
    const from = repairedCurrent[knob];
    const untuned = heldUntuned(spec, current, knob);
    if (untuned !== undefined) {
      outcomes[knob] = { to: from, verdict: 'hold', reason: `not tuned: ${untuned}` };
      continue;
    }
    if (problem || !snapshot) {
      outcomes[knob] = { to: from, verdict: 'hold', reason: `fail static: ${problem}` };
      continue;
    }
    const rollback = rollbackFor(spec, snapshot, repairedCurrent, history, knob, nowSeconds);
    if (rollback) {
      outcomes[knob] = {
        to: rollback.from,
        verdict: 'rollback',
        reason: `rollback: SLO met before the change ${rollback.from} → ${rollback.to} ${Math.round(nowSeconds - rollback.atSeconds)} s ago and broken now (p95 ${Math.round(snapshot.p95LatencyMs)} ms, errors ${(snapshot.errorRate * 100).toFixed(2)} %)`,
      };
      continue;
    }
    const proposal = proposals.find((p) => p.knob === knob);
    outcomes[knob] = gateOneKnob({
      spec,
      knob,
      from,
      proposal,
      history,
      nowSeconds,
      snapshot,
      targets: repairedCurrent,
    });
  }
  let next: KnobValues = repairedCurrent;
  const limited: Partial<Record<KnobName, string>> = {};
  // Shrinks first (they free budget); among raises the replica ceiling before the floor, so a
  // burst that lifts both is not stopped by the old ceiling.
  const direction = (k: KnobName) => Math.sign(outcomes[k].to - repairedCurrent[k]);
  const changing = KNOB_NAMES.filter((k) => outcomes[k].to !== repairedCurrent[k]).sort(
    (a, b) =>
      direction(a) - direction(b) ||
      (direction(a) > 0 ? Number(b === 'maxReplicas') - Number(a === 'maxReplicas') : 0),
  );
  for (const knob of changing) {
    const start = next[knob];
    const goal = outcomes[knob].to;
    const direction = Math.sign(goal - start);
    let accepted = start;
    for (let value = goal; direction !== 0 && Math.sign(value - start) === direction; value -= direction) {
      if (satisfiesInvariants(spec, { ...next, [knob]: value })) {
        accepted = value;
        break;
      }
    }
    if (accepted !== goal) {
      limited[knob] =
        `invariant: ${knob} stops at ${accepted} instead of ${goal} (maxReplicas × (pool + overflow) ≤ ${connectionBudget(spec)}, minReplicas ≤ maxReplicas)`;
    }
    next = { ...next, [knob]: accepted };
  }
  const decisions = KNOB_NAMES.map((knob): GatedDecision => {
    const outcome = outcomes[knob];
    const to = next[knob];
    let verdict: Verdict = outcome.verdict;
    if (to === current[knob]) verdict = 'hold';
    else if (verdict === 'hold') verdict = 'apply';
    const notesForKnob = [notes[knob], limited[knob]].filter(Boolean).join('; ');
    return {
      knob,
      from: current[knob],
      to,
      verdict,
      reason: notesForKnob ? `${outcome.reason}; ${notesForKnob}` : outcome.reason,
    };
  });
  return { decisions, next };
}
