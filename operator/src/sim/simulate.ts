/**
 * The simulator: steps a scenario in 15 s ticks (the HPA's sync period) and runs a knob
 * controller against it: the seed's static values, the seed's `DynamicConnectionPool` rule, a
 * fixed configuration, or the tuning engine itself through {@link evaluate} (the same function
 * the operator calls). The model is documented in docs/simulator.md#the-model.
 *
 * This file holds the loop and the two controllers that act in it; the controllers' choice is
 * controllers.ts, the cluster's behaviour in one tick cluster-tick.ts, the run's state
 * run-state.ts, its bookkeeping accounting.ts and what it returns run-result.ts.
 */
import { evaluate, recordEvaluation } from '../tuning/evaluate.ts';
import { KNOBS_THAT_ROLL_PODS } from '../tuning/safety-gate.ts';
import { seedRulePoolSize } from '../tuning/seed-baselines.ts';
import { DEFAULT_TUNING_SPEC } from '../tuning/tuning-spec-from-profile.ts';
import type { TuningSpec } from '../tuning/types.ts';
import {
  accountElasticityTick,
  accountTick,
  chartTick,
  observeTick,
  recordChange,
  snapshotOfWindow,
  totalsOf,
} from './accounting.ts';
import { CacheDynamics } from './cache-dynamics.ts';
import { redisBytesPerKey } from './cache-model.ts';
import { arrivals, historyArrivals, serveTick, startRollout, syncHpa } from './cluster-tick.ts';
import type { KnobController } from './controllers.ts';
import type { RunResult } from './run-result.ts';
import { emptyWindow, initialState, type RunState, TICK_SECONDS, type TickOutcome } from './run-state.ts';
import type { Scenario } from './scenario.ts';
import { seededRandom } from './seeded-random.ts';

/** Options of one run. */
export interface RunOptions {
  /** seed: overrides the scenario's noise seed (for medians over seeds). */
  readonly seed?: number;
  /** reversalWindowSeconds: the window in which reversals are counted. @default the engine's stabilization window */
  readonly reversalWindowSeconds?: number;
}

/** The seed's DynamicConnectionPool, every tick, on the pool's own load (resized in-process, no rollout). */
function actSeedRules(state: RunState, reversalWindow: number, tick: TickOutcome, now: number): void {
  const { knobs } = state;
  const load = knobs.poolSize > 0 ? Math.min(tick.busy, tick.granted) / knobs.poolSize : 0;
  const poolSize = seedRulePoolSize(load);
  if (poolSize === knobs.poolSize) return;
  recordChange(state, reversalWindow, {
    atSeconds: now,
    knob: 'poolSize',
    from: knobs.poolSize,
    to: poolSize,
    reason: `DynamicConnectionPool: load ${load.toFixed(2)}`,
  });
  state.knobs = { ...knobs, poolSize };
}

/** One evaluation of the tuning engine, as the operator runs it: snapshot → evaluate → apply in Auto mode. */
function actEngine(
  scenario: Scenario,
  spec: TuningSpec,
  state: RunState,
  reversalWindow: number,
  minute: number,
  end: number,
  judged: boolean,
): void {
  const snapshot = snapshotOfWindow(scenario, state, minute, end);
  state.window = emptyWindow();
  const evaluation = evaluate(spec, snapshot, state.knobs, state.history, end);
  state.history = recordEvaluation(spec, state.history, snapshot, evaluation, end, true);
  let rolls = false;
  for (const decision of evaluation.decisions) {
    if (decision.to === decision.from) continue;
    // Changes in the history before minute 0 are lived through, not counted.
    if (judged)
      recordChange(state, reversalWindow, {
        atSeconds: end,
        knob: decision.knob,
        from: decision.from,
        to: decision.to,
        reason: decision.reason,
      });
    if (KNOBS_THAT_ROLL_PODS.includes(decision.knob)) rolls = true;
  }
  state.knobs = evaluation.next;
  if (rolls) startRollout(scenario, state, end);
}

/**
 * Runs one scenario with one knob controller. Deterministic for a given seed. Each 15 s tick:
 * arrivals, service, accounting and metrics, the knob controller, then the HPA.
 */
export function simulate(
  scenario: Scenario,
  controller: KnobController,
  options: RunOptions = {},
): RunResult {
  const seed = options.seed ?? scenario.seed;
  const random = seededRandom(seed);
  const reversalWindow =
    options.reversalWindowSeconds ?? DEFAULT_TUNING_SPEC.timings.stabilizationWindowSeconds;
  const cache = new CacheDynamics(
    scenario,
    redisBytesPerKey({ valueBytes: scenario.redis.valueBytes, withTtl: scenario.redis.ttlSeconds > 0 }),
  );
  const state = initialState(scenario, cache, controller);
  const evaluationTicks =
    controller.kind === 'engine'
      ? Math.max(1, Math.round(controller.spec.timings.evaluationIntervalSeconds / TICK_SECONDS))
      : 0;
  const ticks = Math.round((scenario.durationMinutes * 60) / TICK_SECONDS);
  // The engine lives through the scenario's history days first (its snapshots, the forecast's
  // seasons); fixed policies have nothing to learn from them and start at minute 0.
  const ticksPerDay = (1440 * 60) / TICK_SECONDS;
  const historyTicks = controller.kind === 'engine' ? scenario.history.days * ticksPerDay : 0;
  let historyRandom = random;
  for (let index = -historyTicks; index < ticks; index++) {
    const judged = index >= 0;
    const now = index * TICK_SECONDS;
    const minute = now / 60;
    if (state.rollout && now >= state.rollout.untilSeconds) state.rollout = undefined;
    // A seed per history day, so the days differ as real days do.
    if (!judged && (index + historyTicks) % ticksPerDay === 0)
      historyRandom = seededRandom(seed * 7919 + (index + historyTicks) / ticksPerDay + 1);
    const rps = judged
      ? arrivals(scenario, state, random, minute)
      : historyArrivals(scenario, state, historyRandom, minute);
    const tick = serveTick(scenario, cache, state, now, rps);
    if (judged) {
      accountTick(state, tick);
      accountElasticityTick(scenario, state, tick);
      chartTick(state, tick, index, minute);
    }
    observeTick(state, tick);
    if (controller.kind === 'seed-rules') actSeedRules(state, reversalWindow, tick, now);
    else if (controller.kind === 'engine' && (index + historyTicks + 1) % evaluationTicks === 0)
      actEngine(scenario, controller.spec, state, reversalWindow, minute, now + TICK_SECONDS, judged);
    syncHpa(scenario, state, tick, now);
  }
  return {
    scenario: scenario.name,
    policy: controller.label,
    seed,
    totals: totalsOf(scenario, state),
    series: state.series,
    changes: state.changes,
  };
}
