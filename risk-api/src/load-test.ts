/**
 * `perfpilot loadtest URL`: drives the risk API through rate phases, a weighted mix of its
 * endpoints and a Zipf choice of symbols and portfolios, prints a progress line, and closes with
 * the seed's "Load Test Results" report plus the API's own cache hit rate and pool usage read from
 * its /metrics. A phase with a rate is an open loop of Poisson arrivals (undici); a phase at rate
 * 0 is autocannon's closed loop, as fast as the API answers.
 *
 * This file runs the phases and tallies the answers; what is sent is load-plan.ts, how it is sent
 * load-loops.ts, and what is reported load-report.ts.
 */
import { closedLoopPhase, openLoopPhase, type PhaseRun, type PhaseSink } from './load-loops.ts';
import { ENDPOINTS, type EndpointName, type LoadTestOptions, requestChooser } from './load-plan.ts';
import {
  apiMetrics,
  cacheLatency,
  type EndpointResult,
  type LoadTestResult,
  latencySummary,
  sendLagSummary,
} from './load-report.ts';
import { METRIC } from './metrics.ts';
import { parsePrometheusText, sumSamples } from './prometheus-text.ts';

interface Tally {
  statusCounts: Record<string, number>;
  errors: number;
  latencies: number[];
  fromSend: number[];
  /** fromSend of the answers marked `x-cache: HIT` and `MISS`. */
  fromSendHit: number[];
  fromSendMiss: number[];
}

async function scrape(url: string): Promise<ReturnType<typeof parsePrometheusText> | undefined> {
  try {
    const response = await fetch(new URL('/metrics', url), { signal: AbortSignal.timeout(2000) });
    if (!response.ok) return undefined;
    return parsePrometheusText(await response.text());
  } catch {
    return undefined;
  }
}

/** runLoadTest runs every phase in turn and returns the report; it ends by itself. */
export async function runLoadTest(options: LoadTestOptions): Promise<LoadTestResult> {
  const target = new URL(options.url);
  const next = requestChooser(options);
  const tallies = new Map<string, Tally>();
  const tally = (endpoint: string) => {
    let t = tallies.get(endpoint);
    if (!t) {
      t = { statusCounts: {}, errors: 0, latencies: [], fromSend: [], fromSendHit: [], fromSendMiss: [] };
      tallies.set(endpoint, t);
    }
    return t;
  };
  const before = await scrape(options.url);
  const poolSamples: { active: number; capacity: number }[] = [];
  const samplePool = async () => {
    const m = await scrape(options.url);
    if (!m) return;
    poolSamples.push({
      active: sumSamples(m, METRIC.connectionsActive),
      capacity: sumSamples(m, METRIC.poolSize) + sumSamples(m, METRIC.poolMaxOverflow),
    });
  };
  const started = performance.now();
  let done = 0;
  let failed = 0;
  const sendLags: number[] = [];
  for (const [i, phase] of options.phases.entries()) {
    const phaseStarted = performance.now();
    let phaseDone = 0;
    const sink: PhaseSink = {
      next,
      answered: (endpoint, status, latencyMs, fromSendMs, cache) => {
        const t = tally(endpoint);
        t.latencies.push(latencyMs);
        t.fromSend.push(fromSendMs);
        if (cache === 'hit') t.fromSendHit.push(fromSendMs);
        else if (cache === 'miss') t.fromSendMiss.push(fromSendMs);
        const key = String(status);
        t.statusCounts[key] = (t.statusCounts[key] ?? 0) + 1;
        if (status >= 400) {
          t.errors++;
          failed++;
        }
        done++;
        phaseDone++;
      },
      failed: () => {
        tally('connection').errors++;
        failed++;
      },
      sent: (lagMs) => sendLags.push(lagMs),
    };
    const run: PhaseRun = {
      origin: target.origin,
      phase,
      connections: options.connections,
      timeoutSeconds: options.timeoutSeconds ?? 10,
      seed: (options.seed ?? 1) + i,
    };
    const progress = setInterval(() => {
      void samplePool();
      const elapsed = (performance.now() - phaseStarted) / 1000;
      options.onProgress?.(
        `phase ${i + 1}/${options.phases.length} (${phase.rate > 0 ? `${phase.rate}/s` : 'max rate'}): ` +
          `${Math.min(elapsed, phase.durationSeconds).toFixed(0)}/${phase.durationSeconds} s, ` +
          `${(phaseDone / Math.max(elapsed, 0.001)).toFixed(0)} rps, ${done} requests, ` +
          `${done + failed > 0 ? ((100 * failed) / (done + failed)).toFixed(1) : '0.0'}% errors`,
      );
    }, 1000);
    try {
      await (phase.rate > 0 ? openLoopPhase(run, sink) : closedLoopPhase(run, sink));
    } finally {
      clearInterval(progress);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  await samplePool();
  const after = await scrape(options.url);
  // flatMap, not push(...spread): an hour's run holds millions of latencies, more arguments than
  // a call takes.
  const all = [...tallies.values()].flatMap((t) => t.latencies);
  const allFromSend = [...tallies.values()].flatMap((t) => t.fromSend);
  const endpoints: EndpointResult[] = [];
  for (const [name, t] of [...tallies].sort(([a], [b]) => a.localeCompare(b))) {
    const requests = t.latencies.length + (name === 'connection' ? t.errors : 0);
    endpoints.push({
      endpoint: name in ENDPOINTS ? ENDPOINTS[name as EndpointName].route : 'connection errors',
      requests,
      rps: Math.round((10 * requests) / seconds) / 10,
      errors: t.errors,
      errorPercent: requests ? Math.round((1000 * t.errors) / requests) / 10 : 0,
      statusCounts: t.statusCounts,
      latencyMs: latencySummary(t.latencies),
      latencyFromSendMs: latencySummary(t.fromSend),
      latencyFromSendByCacheMs: {
        hit: cacheLatency(t.fromSendHit),
        miss: cacheLatency(t.fromSendMiss),
      },
    });
  }
  const total = done + (tallies.get('connection')?.errors ?? 0);
  return {
    url: options.url,
    durationSeconds: Math.round(seconds * 10) / 10,
    connections: options.connections,
    phases: options.phases,
    requests: total,
    rps: Math.round((10 * total) / seconds) / 10,
    errors: failed,
    errorPercent: total ? Math.round((1000 * failed) / total) / 10 : 0,
    latencyMs: latencySummary(all),
    latencyFromSendMs: latencySummary(allFromSend),
    endpoints,
    api: before && after ? apiMetrics(before, after, poolSamples) : null,
    sendLagMs: sendLagSummary(sendLags),
  };
}
