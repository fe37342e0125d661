/**
 * Fits the replica model's parameters (`operator/src/sim/latency-model.ts`) to runs of the real
 * risk API, from the lightest runs only, then compares the model's p95, pool wait and saturation
 * rate with every run. Pure: the runs come from latency-load.ts.
 */
import { type ReplicaLoad, serveReplica } from '../../operator/src/sim/latency-model.ts';
import type { LatencyRun } from './latency-load.ts';

/** The seed's p95 objective, in ms: the rate at which it breaks is the saturation point. */
export const P95_OBJECTIVE_MS = 200;

/** The model's per-request parameters, as fitted. */
export type FittedReplica = Omit<
  ReplicaLoad,
  'requestsPerSecond' | 'hitRate' | 'poolConnections' | 'grantedConnections'
>;

const setupKey = (run: LatencyRun) => `${run.setup.endpoint}/${run.setup.poolSize}/${run.setup.ttlSeconds}`;

function lightestRuns(runs: readonly LatencyRun[]): LatencyRun[] {
  const lightest = new Map<string, LatencyRun>();
  for (const run of runs) {
    const known = lightest.get(setupKey(run));
    if (!known || run.offeredRps < known.offeredRps) lightest.set(setupKey(run), run);
  }
  return [...lightest.values()];
}

/** The model's outcome for a run's rate, hit rate and pool. */
export function modelFor(params: FittedReplica, run: Pick<LatencyRun, 'achievedRps' | 'hitRate' | 'setup'>) {
  return serveReplica({
    ...params,
    requestsPerSecond: run.achievedRps,
    hitRate: run.hitRate,
    poolConnections: run.setup.poolSize,
    grantedConnections: run.setup.poolSize,
  });
}

/**
 * Fits, from the lightest run of each setup: CPU per hit and per miss (least squares of CPU per
 * request against the hit rate), the query time (query ms per miss, weighted by misses), the
 * hit path's fixed latency (p95 of the most-hit run less its CPU), and the miss path's fixed
 * latency (so the model's p95 matches the lightest low-hit run). One event loop: one worker.
 */
export function fitReplica(runs: readonly LatencyRun[]): FittedReplica {
  const light = lightestRuns(runs);
  if (light.length < 2) throw new Error('fitReplica needs runs of at least two setups');
  const n = light.length;
  const mh = light.reduce((s, r) => s + r.hitRate, 0) / n;
  const mc = light.reduce((s, r) => s + r.cpuMsPerRequest, 0) / n;
  const sxy = light.reduce((s, r) => s + (r.hitRate - mh) * (r.cpuMsPerRequest - mc), 0);
  const sxx = light.reduce((s, r) => s + (r.hitRate - mh) ** 2, 0);
  const slope = sxx > 0 ? sxy / sxx : 0;
  const cpuMsPerMiss = Math.max(0.01, mc - slope * mh);
  const cpuMsPerHit = Math.max(0.01, mc + slope * (1 - mh));
  const missWeight = light.reduce((s, r) => s + (1 - r.hitRate), 0);
  const queryMs = light.reduce((s, r) => s + (1 - r.hitRate) * r.queryMsPerMiss, 0) / missWeight;
  const mostHit = light.reduce((a, b) => (b.hitRate > a.hitRate ? b : a));
  const leastHit = light.reduce((a, b) => (b.hitRate < a.hitRate ? b : a));
  const base = {
    cpuMsPerHit,
    cpuMsPerMiss,
    cpuCores: 1,
    workers: 1,
    queryMs,
    hitLatencyMs: Math.max(0, mostHit.p50Ms),
  };
  let lo = 0;
  let hi = Math.max(1, leastHit.p95Ms);
  for (let i = 0; i < 40; i++) {
    const mid = (lo + hi) / 2;
    if (modelFor({ ...base, missLatencyMs: mid }, leastHit).p95Ms > leastHit.p95Ms) hi = mid;
    else lo = mid;
  }
  return { ...base, missLatencyMs: (lo + hi) / 2 };
}

/** A run saturates when p95 breaks the objective, requests fail, or the offered rate is not served. */
export function saturated(run: LatencyRun): boolean {
  return run.p95Ms > P95_OBJECTIVE_MS || run.errorShare > 0.001 || run.achievedRps < 0.9 * run.offeredRps;
}

/**
 * Measured saturation rate of one setup's runs: midway between the highest rate that held and the
 * lowest that broke; 'not reached' when none broke, 'below the lowest rate' when the first broke.
 */
export function measuredSaturation(
  runs: readonly LatencyRun[],
): number | 'not reached' | 'below the lowest rate' {
  const sorted = [...runs].sort((a, b) => a.offeredRps - b.offeredRps);
  const broke = sorted.findIndex(saturated);
  if (broke < 0) return 'not reached';
  if (broke === 0) return 'below the lowest rate';
  return ((sorted[broke - 1] as LatencyRun).offeredRps + (sorted[broke] as LatencyRun).offeredRps) / 2;
}

/** The model's saturation rate at a pool size and hit rate (bisection on the offered rate). */
export function modelSaturation(params: FittedReplica, poolSize: number, hitRate: number): number {
  let lo = 0.1;
  let hi = 100_000;
  const breaks = (rps: number) => {
    const o = modelFor(params, {
      achievedRps: rps,
      hitRate,
      setup: { endpoint: 'data', poolSize, ttlSeconds: 0 },
    });
    return o.p95Ms > P95_OBJECTIVE_MS || o.failedShare > 0.001;
  };
  for (let i = 0; i < 60; i++) {
    const mid = Math.sqrt(lo * hi);
    if (breaks(mid)) hi = mid;
    else lo = mid;
  }
  return Math.sqrt(lo * hi);
}

/** Markdown tables: the fitted parameters, each run real vs model, and saturation per setup. */
export function formatLatencyCalibration(runs: readonly LatencyRun[], params: FittedReplica): string {
  const f = (x: number, d = 1) => x.toFixed(d);
  const lines = [
    `Fitted from the lightest run of each setup: CPU ${f(params.cpuMsPerHit, 2)} ms a hit, ${f(params.cpuMsPerMiss, 2)} ms a miss; ` +
      `query ${f(params.queryMs)} ms; fixed latency ${f(params.hitLatencyMs)} ms a hit, ${f(params.missLatencyMs)} ms a miss; one worker on one core.`,
    '',
    '| endpoint, pool, TTL | offered rps | served | hit rate | CPU ms/req | query ms/miss | p95 ms real · model (Δ) | pool wait ms real · model |',
    '| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |',
  ];
  for (const run of runs) {
    const m = modelFor(params, run);
    const delta = saturated(run)
      ? 'saturated'
      : `${m.p95Ms >= run.p95Ms ? '+' : ''}${f(100 * (m.p95Ms / run.p95Ms - 1))} %`;
    lines.push(
      `| ${run.setup.endpoint}, pool ${run.setup.poolSize}, TTL ${run.setup.ttlSeconds} s | ${run.offeredRps} | ${f(run.achievedRps)} | ${f(run.hitRate, 3)} ` +
        `| ${f(run.cpuMsPerRequest, 2)} | ${f(run.queryMsPerMiss)} | ${f(run.p95Ms)} · ${f(m.p95Ms)} (${delta}) ` +
        `| ${f(run.meanPoolWaitMs)} · ${f(m.meanPoolWaitMs)} |`,
    );
  }
  lines.push(
    '',
    '| endpoint, pool, TTL | hit rate | saturation rps real · model (Δ) |',
    '| --- | ---: | --- |',
  );
  const bySetup = new Map<string, LatencyRun[]>();
  for (const run of runs) bySetup.set(setupKey(run), [...(bySetup.get(setupKey(run)) ?? []), run]);
  for (const setupRuns of bySetup.values()) {
    const first = setupRuns[0] as LatencyRun;
    const held = setupRuns.filter((r) => !saturated(r));
    const hitRate =
      (held.length > 0 ? held : setupRuns).reduce((s, r) => s + r.hitRate, 0) /
      (held.length || setupRuns.length);
    const real = measuredSaturation(setupRuns);
    const model = modelSaturation(params, first.setup.poolSize, hitRate);
    lines.push(
      `| ${first.setup.endpoint}, pool ${first.setup.poolSize}, TTL ${first.setup.ttlSeconds} s | ${f(hitRate, 3)} | ` +
        `${typeof real === 'number' ? f(real, 0) : real} · ${model < 1 ? 'below 1' : f(model, 0)}${typeof real === 'number' ? ` (${model >= real ? '+' : ''}${f(100 * (model / real - 1))} %)` : ''} |`,
    );
  }
  return lines.join('\n');
}
