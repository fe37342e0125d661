/**
 * The demo from start to end: start the stack, drive the load phases while a sampler prints the
 * live table, collect the operator's decisions from the profile's status, write the report, and
 * stop everything, also when a phase fails or the caller aborts.
 */
import { runLoadTest } from '../../risk-api/src/load-test.ts';
import { writeDemoReport } from './demo-report.ts';
import type { DecisionResult, PhaseResult } from './demo-result.ts';
import { createSampler, type DemoSample, type ProfileEventSeen } from './demo-sample.ts';
import { type DemoStack, startDemoStack } from './demo-stack.ts';
import { tableHeader, tableRow } from './demo-table.ts';
import { DEMO_SEED_SYMBOLS } from './demo-values.ts';
import { type MaxmemoryEffect, maxmemoryEffects } from './knob-effect.ts';
import type { DemoPhase } from './phases.ts';

/** How often the live table gets a row. */
export const SAMPLE_INTERVAL_MS = 2000;

/** Options of runDemo. */
export interface DemoOptions {
  readonly phases: readonly DemoPhase[];
  /** reportDir receives report.md and its charts. */
  readonly reportDir: string;
  /** onStep is told what starts, for progress lines. */
  readonly onStep: (step: string) => void;
  /** onRow receives the table's header and each row. */
  readonly onRow: (line: string) => void;
  /** signal stops the demo early: everything started is stopped, and runDemo rejects. */
  readonly signal?: AbortSignal;
  /** onStarted is given the stack once it runs (tests read its processes). */
  readonly onStarted?: (stack: DemoStack) => void;
  /** beforeStop runs after the load, before anything is stopped (tests look at the cluster). */
  readonly beforeStop?: (stack: DemoStack) => Promise<void>;
}

/** The demo's outcome: the `--json` object, plus what tests check. */
export interface DemoResult {
  readonly phases: PhaseResult[];
  readonly decisions: DecisionResult[];
  /** maxmemoryEffects: each maxmemory raise with the cache before and after it, in its phase. */
  readonly maxmemoryEffects: MaxmemoryEffect[];
  /** events are the Events about the profile during the run. */
  readonly events: (ProfileEventSeen & { readonly atSeconds: number })[];
  readonly report: string;
  /** requests and failedRequests over the whole load (non-2xx answers and connection errors). */
  readonly requests: number;
  readonly failedRequests: number;
  /** statusCounts per status code over every phase. */
  readonly statusCounts: Record<string, number>;
  readonly samples: DemoSample[];
  /** startupSeconds until the load began. */
  readonly startupSeconds: number;
}

const round = (v: number, digits = 1) => Math.round(v * 10 ** digits) / 10 ** digits;

/** runDemo runs the whole demo and resolves with its result once everything has stopped. */
export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const started = performance.now();
  const aborted = () => new Error('demo interrupted');
  if (options.signal?.aborted) throw aborted();
  const stack = await startDemoStack({ onStep: options.onStep });
  // An abort stops everything at once and ends the demo, without waiting for the phase to finish.
  let onAbort = () => {};
  const abortedRun = new Promise<never>((_, reject) => {
    onAbort = () => void stack.stop().then(() => reject(aborted()));
  });
  abortedRun.catch(() => {});
  options.signal?.addEventListener('abort', onAbort, { once: true });
  options.onStarted?.(stack);
  const sampler = createSampler(stack);
  try {
    return await Promise.race([abortedRun, drive(options, stack, sampler, started)]);
  } finally {
    sampler.close();
    options.signal?.removeEventListener('abort', onAbort);
    await stack.stop();
  }
}

/** drive runs the phases and the table, then collects decisions and Events and writes the report. */
async function drive(
  options: DemoOptions,
  stack: DemoStack,
  sampler: ReturnType<typeof createSampler>,
  started: number,
): Promise<DemoResult> {
  const aborted = () => new Error('demo interrupted');
  const startupSeconds = (performance.now() - started) / 1000;
  const loadStart = performance.now();
  const at = () => round((performance.now() - loadStart) / 1000, 0);
  const samples: DemoSample[] = [];
  let phaseName = options.phases[0]?.name ?? '';
  let sampling = true;
  options.onRow(tableHeader());
  const sampleLoop = (async () => {
    while (sampling && !options.signal?.aborted) {
      const next = performance.now() + SAMPLE_INTERVAL_MS;
      const s = await sampler.sample(at(), phaseName);
      samples.push(s);
      options.onRow(tableRow(s));
      await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now())));
    }
  })();

  const phases: PhaseResult[] = [];
  const statusCounts: Record<string, number> = {};
  let requests = 0;
  let failedRequests = 0;
  for (const [i, phase] of options.phases.entries()) {
    if (options.signal?.aborted) throw aborted();
    phaseName = phase.name;
    const fromSeconds = at();
    const load = await runLoadTest({
      url: stack.apiUrl,
      phases: [{ durationSeconds: phase.durationSeconds, rate: phase.rate }],
      connections: phase.connections,
      ...(phase.mix ? { mix: phase.mix } : {}),
      zipfExponent: phase.zipf,
      symbolCount: phase.symbols,
      seed: i + 1,
    });
    if (options.signal?.aborted) throw aborted();
    requests += load.requests;
    failedRequests += load.errors;
    for (const endpoint of load.endpoints) {
      for (const [code, n] of Object.entries(endpoint.statusCounts))
        statusCounts[code] = (statusCounts[code] ?? 0) + n;
    }
    const end = await sampler.sample(at(), phase.name);
    phases.push({
      name: phase.name,
      fromSeconds,
      toSeconds: at(),
      rps: load.rps,
      p95Ms: load.latencyMs.p95,
      errorRate: load.errorPercent,
      hitRate: load.api?.cacheHitRatePercent ?? null,
      poolUsage: load.api?.poolUsagePeakPercent ?? null,
      knobs: {
        poolSize: end.poolSize,
        maxOverflow: end.maxOverflow,
        redisMaxmemoryMiB: end.maxmemoryMiB,
        minReplicas: end.minReplicas,
        maxReplicas: end.maxReplicas,
        desiredReplicas: end.desiredReplicas,
      },
    });
  }
  sampling = false;
  await sampleLoop;

  const loadStartedAt = Date.now() - (performance.now() - loadStart);
  const decisions: DecisionResult[] = (await sampler.decisions()).map((d) => ({
    atSeconds: round((Date.parse(d.time) - loadStartedAt) / 1000, 0),
    knob: d.knob,
    from: d.from,
    to: d.to,
    outcome: d.outcome,
    reason: d.reason,
  }));
  const events = (await sampler.events())
    .map((e) => ({ ...e, atSeconds: round((Date.parse(e.time) - loadStartedAt) / 1000, 0) }))
    .sort((a, b) => a.atSeconds - b.atSeconds);
  await options.beforeStop?.(stack);
  const effects = maxmemoryEffects(samples, decisions, phases);
  const report = await writeDemoReport(options.reportDir, {
    samples,
    phases,
    decisions,
    maxmemoryEffects: effects,
    events,
    slo: stack.values.slo,
    notes: [
      `the stack from \`perfpilot synth\` values for a local run: pool ${stack.values.api.pool.size}+${stack.values.api.pool.maxOverflow}, maxmemory ${stack.values.redis.maxmemoryMiB} MiB per node, HPA ${stack.values.hpa.minReplicas}-${stack.values.hpa.maxReplicas}, profile in ${stack.values.operator.profile.mode} mode`,
      "real kube-apiserver, kube-controller-manager, kube-scheduler, a 6-node Redis Cluster, PostgreSQL, Prometheus and prometheus-adapter on loopback; the API's Pods are kwok objects (no container runs): one risk API process serves the traffic",
      `${requests} requests, ${failedRequests} failed; started in ${round(startupSeconds, 0)} s; ${DEMO_SEED_SYMBOLS} symbols seeded (\`risk-api seed --symbols ${DEMO_SEED_SYMBOLS}\`)`,
    ],
  });
  return {
    phases,
    decisions,
    maxmemoryEffects: effects,
    events,
    report,
    requests,
    failedRequests,
    statusCounts,
    samples,
    startupSeconds: round(startupSeconds, 0),
  };
}
