/**
 * `perfpilot loadtest URL`: drives the risk API through rate phases, a weighted mix of its
 * endpoints and a Zipf choice of symbols and portfolios, prints a progress line, and closes with
 * the seed's "Load Test Results" report plus the API's own cache hit rate and pool usage read from
 * its /metrics. A phase with a rate is an open loop of Poisson arrivals (undici); a phase at rate
 * 0 is autocannon's closed loop, as fast as the API answers.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { Pool } from 'undici';
import { parse as parseYaml } from 'yaml';
import { seededRandom } from '../../operator/src/sim/seeded-random.ts';
import { METRIC } from './metrics.ts';
import { parsePrometheusText, sumSamples } from './prometheus-text.ts';
import { SEED_PORTFOLIO_COUNT, seedSymbolNames } from './seed-data.ts';
import { zipfSampler } from './zipf.ts';

/** One step of offered load: `rate` requests per second (0: as fast as possible) for `durationSeconds`. */
export interface LoadPhase {
  readonly durationSeconds: number;
  readonly rate: number;
}

/** The endpoints a load test can mix. */
export const ENDPOINTS = {
  health: { method: 'GET', route: '/health' },
  'market-data': { method: 'GET', route: '/api/v1/market-data/:symbol' },
  'price-history': { method: 'GET', route: '/api/v1/market-data/:symbol/history' },
  data: { method: 'GET', route: '/api/v1/data/:id' },
  'risk-analysis': { method: 'POST', route: '/api/v1/risk-analysis' },
  'batch-risk-analysis': { method: 'POST', route: '/api/v1/batch-risk-analysis' },
} as const;

/** Name of one endpoint of the mix. */
export type EndpointName = keyof typeof ENDPOINTS;

/** The default mix: mostly cached reads, a quarter risk analyses, a few batches and health checks. */
export const DEFAULT_MIX: Readonly<Record<EndpointName, number>> = {
  health: 5,
  'market-data': 50,
  'price-history': 0,
  data: 15,
  'risk-analysis': 25,
  'batch-risk-analysis': 5,
};

/** Zipf exponent of symbol and portfolio popularity. */
export const DEFAULT_ZIPF_EXPONENT = 1.1;
/** A send lag (p99) above this is reported: the generator, not the API, is then adding latency. */
export const SEND_LAG_WARN_MS = 5;
/** Requests in one generated batch. */
export const BATCH_SIZE = 10;
/** Longest run accepted, so a typo cannot start an endless test. */
export const MAX_TOTAL_SECONDS = 3600;

/** parsePhases reads a phases file: a YAML or JSON list of {duration, rate} (seconds, requests/s). */
export function parsePhases(text: string): LoadPhase[] {
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (err) {
    throw new Error(`phases: not YAML or JSON: ${(err as Error).message}`);
  }
  const list = Array.isArray(parsed) ? parsed : (parsed as { phases?: unknown } | null)?.phases;
  if (!Array.isArray(list) || list.length === 0) {
    throw new Error('phases: expected a list of {duration, rate}, e.g. [{duration: 10, rate: 100}]');
  }
  const phases = list.map((p, i) => {
    const e = p as { duration?: unknown; rate?: unknown };
    if (typeof e?.duration !== 'number' || !Number.isInteger(e.duration) || e.duration < 1) {
      throw new Error(`phases[${i}].duration must be a whole number of seconds, at least 1`);
    }
    if (typeof e.rate !== 'number' || !Number.isInteger(e.rate) || e.rate < 0) {
      throw new Error(`phases[${i}].rate must be a whole number of requests per second (0: unlimited)`);
    }
    return { durationSeconds: e.duration, rate: e.rate };
  });
  const total = phases.reduce((s, p) => s + p.durationSeconds, 0);
  if (total > MAX_TOTAL_SECONDS) throw new Error(`phases: ${total} s in all; at most ${MAX_TOTAL_SECONDS}`);
  return phases;
}

/** parseMix reads "market-data=50,risk-analysis=25,…"; endpoints left out get weight 0. */
export function parseMix(text: string): Record<EndpointName, number> {
  const mix = Object.fromEntries(Object.keys(ENDPOINTS).map((k) => [k, 0])) as Record<EndpointName, number>;
  for (const part of text.split(',')) {
    const [name, weight] = part.split('=').map((s) => s.trim());
    if (!name || !(name in ENDPOINTS)) {
      throw new Error(`mix: unknown endpoint "${name}"; use ${Object.keys(ENDPOINTS).join(', ')}`);
    }
    const w = Number(weight);
    if (!Number.isFinite(w) || w < 0) throw new Error(`mix: weight of ${name} must be a number ≥ 0`);
    mix[name as EndpointName] = w;
  }
  if (Object.values(mix).every((w) => w === 0)) throw new Error('mix: every weight is 0');
  return mix;
}

/** Options of runLoadTest. */
export interface LoadTestOptions {
  readonly url: string;
  readonly phases: readonly LoadPhase[];
  readonly connections: number;
  /** mix is the endpoint weights; endpoints left out get none. @default DEFAULT_MIX */
  readonly mix?: Readonly<Partial<Record<EndpointName, number>>>;
  readonly zipfExponent?: number;
  /** symbolCount is how many of the seed's symbols requests choose from (`risk-api seed --symbols`). @default SEED_SYMBOL_COUNT */
  readonly symbolCount?: number;
  /** seed of the request choices, so two runs send the same sequence. @default 1 */
  readonly seed?: number;
  /** timeoutSeconds of one request. @default 10 */
  readonly timeoutSeconds?: number;
  /** onProgress receives a line about once a second. */
  readonly onProgress?: (line: string) => void;
}

/** What one endpoint saw. */
export interface EndpointResult {
  readonly endpoint: string;
  readonly requests: number;
  readonly rps: number;
  readonly errors: number;
  readonly errorPercent: number;
  readonly statusCounts: Record<string, number>;
  readonly latencyMs: {
    readonly mean: number;
    readonly p50: number;
    readonly p95: number;
    readonly p99: number;
  };
  /**
   * latencyFromSendMs: the same latencies counted from when the generator sent each request
   * rather than from when it was due, so without the generator's own lag (a wait for one of the
   * connections still counts). Equal to `latencyMs` in a closed loop.
   */
  readonly latencyFromSendMs: EndpointResult['latencyMs'];
  /**
   * latencyFromSendByCacheMs: `latencyFromSendMs` of the answers the API marked `x-cache: HIT`
   * and of those it marked `MISS`, each null when none was (answers without the header count in
   * neither), with how many answers each counts.
   */
  readonly latencyFromSendByCacheMs: {
    readonly hit: CacheLatency | null;
    readonly miss: CacheLatency | null;
  };
}

/** The latencies of one kind of answer (hits or misses) and their number. */
export type CacheLatency = EndpointResult['latencyMs'] & { readonly answers: number };

/** The API's own view, from its /metrics before and after the run. */
export interface ApiMetricsResult {
  readonly cacheHits: number;
  readonly cacheMisses: number;
  /** cacheHitRatePercent during the run, or null when no lookups happened. */
  readonly cacheHitRatePercent: number | null;
  readonly poolCapacity: number;
  readonly poolActivePeak: number;
  readonly poolUsagePeakPercent: number;
  readonly poolUsageMeanPercent: number;
  readonly poolWaitMeanMs: number | null;
}

/** The whole report; `--json` prints it as is. */
export interface LoadTestResult {
  readonly url: string;
  readonly durationSeconds: number;
  readonly connections: number;
  readonly phases: readonly LoadPhase[];
  readonly requests: number;
  readonly rps: number;
  readonly errors: number;
  readonly errorPercent: number;
  readonly latencyMs: EndpointResult['latencyMs'];
  /** latencyFromSendMs: latency from each request's send, without the generator's lag (see EndpointResult). */
  readonly latencyFromSendMs: EndpointResult['latencyMs'];
  readonly endpoints: readonly EndpointResult[];
  /** api is null when /metrics could not be read. */
  readonly api: ApiMetricsResult | null;
  /**
   * sendLagMs: how late the load generator sent its Poisson arrivals (p99 and max of send time −
   * due time), null when no phase had a rate. Latency counts from the due time, so a generator
   * that falls behind adds its lag to every latency.
   */
  readonly sendLagMs: { readonly p99: number; readonly max: number } | null;
}

/** percentile of sorted values (nearest rank). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

function latencySummary(values: number[]): EndpointResult['latencyMs'] {
  const sorted = values.sort((a, b) => a - b);
  const mean = sorted.length ? sorted.reduce((s, x) => s + x, 0) / sorted.length : 0;
  const r = (x: number) => Math.round(x * 100) / 100;
  return {
    mean: r(mean),
    p50: r(percentile(sorted, 50)),
    p95: r(percentile(sorted, 95)),
    p99: r(percentile(sorted, 99)),
  };
}

function cacheLatency(values: number[]): CacheLatency | null {
  return values.length > 0 ? { ...latencySummary(values), answers: values.length } : null;
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

/** Draws the next request of the mix. */
function requestChooser(options: LoadTestOptions) {
  const random = seededRandom(options.seed ?? 1);
  const exponent = options.zipfExponent ?? DEFAULT_ZIPF_EXPONENT;
  const symbols = seedSymbolNames(options.symbolCount);
  const symbol = zipfSampler(symbols.length, exponent, random.uniform);
  const portfolio = zipfSampler(SEED_PORTFOLIO_COUNT, exponent, random.uniform);
  const mix = Object.entries(options.mix ?? DEFAULT_MIX).filter(([, w]) => (w ?? 0) > 0) as [
    EndpointName,
    number,
  ][];
  const total = mix.reduce((s, [, w]) => s + w, 0);
  const levels = [undefined, 0.95, 0.99] as const;
  const horizons = [1, 1, 5, 10] as const;
  const riskBody = () => {
    const confidence = levels[Math.floor(random.uniform() * levels.length)];
    return {
      portfolio_id: portfolio.next() + 1,
      ...(confidence === undefined ? {} : { confidence_level: confidence }),
      time_horizon_days: horizons[Math.floor(random.uniform() * horizons.length)],
    };
  };
  return (): { endpoint: EndpointName; method: 'GET' | 'POST'; path: string; body?: string } => {
    let u = random.uniform() * total;
    let endpoint = mix[0]?.[0] as EndpointName;
    for (const [name, w] of mix) {
      endpoint = name;
      u -= w;
      if (u < 0) break;
    }
    switch (endpoint) {
      case 'health':
        return { endpoint, method: 'GET', path: '/health' };
      case 'market-data':
        return { endpoint, method: 'GET', path: `/api/v1/market-data/${symbols[symbol.next()]}` };
      case 'price-history':
        return { endpoint, method: 'GET', path: `/api/v1/market-data/${symbols[symbol.next()]}/history` };
      case 'data':
        return { endpoint, method: 'GET', path: `/api/v1/data/${symbol.next() + 1}` };
      case 'risk-analysis':
        return { endpoint, method: 'POST', path: '/api/v1/risk-analysis', body: JSON.stringify(riskBody()) };
      case 'batch-risk-analysis':
        return {
          endpoint,
          method: 'POST',
          path: '/api/v1/batch-risk-analysis',
          body: JSON.stringify(Array.from({ length: BATCH_SIZE }, riskBody)),
        };
    }
  };
}

interface Tally {
  statusCounts: Record<string, number>;
  errors: number;
  latencies: number[];
  fromSend: number[];
  /** fromSend of the answers marked `x-cache: HIT` and `MISS`. */
  fromSendHit: number[];
  fromSendMiss: number[];
}

/** Whether an answer came from the cache, as the API's `x-cache` header says. */
type CacheMark = 'hit' | 'miss' | undefined;

function cacheMark(header: unknown): CacheMark {
  const value = Array.isArray(header) ? header[0] : header;
  if (typeof value !== 'string') return undefined;
  const upper = value.toUpperCase();
  return upper === 'HIT' ? 'hit' : upper === 'MISS' ? 'miss' : undefined;
}

/** One request of the mix, as requestChooser draws it. */
type Choice = ReturnType<ReturnType<typeof requestChooser>>;

/** What a phase runner reports for each request. */
interface PhaseSink {
  /** next draws the next request of the mix. */
  next(): Choice;
  /**
   * answered: a response with its status, its latency from its due time and from its send (ms),
   * and whether the API answered it from the cache.
   */
  answered(
    endpoint: EndpointName,
    status: number,
    latencyMs: number,
    fromSendMs: number,
    cache: CacheMark,
  ): void;
  /** failed: no response (refused, reset, timed out). */
  failed(): void;
  /** sent: an open loop's request went out `lagMs` after it was due. */
  sent(lagMs: number): void;
}

/** A phase's settings as its runner needs them. */
interface PhaseRun {
  readonly origin: string;
  readonly phase: LoadPhase;
  readonly connections: number;
  readonly timeoutSeconds: number;
  readonly seed: number;
}

/**
 * A phase at the highest rate the connections allow: autocannon's closed loop, each connection
 * sending its next request when the previous one is answered.
 */
function closedLoopPhase(run: PhaseRun, sink: PhaseSink): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const instance = autocannon(
      {
        url: run.origin,
        connections: run.connections,
        duration: run.phase.durationSeconds,
        timeout: run.timeoutSeconds,
        requests: [
          {
            setupRequest: (request, context) => {
              const choice = sink.next();
              const c = context as { endpoint?: EndpointName; sentAt?: number };
              c.endpoint = choice.endpoint;
              c.sentAt = performance.now();
              return {
                ...request,
                method: choice.method,
                path: choice.path,
                headers: choice.body ? { 'content-type': 'application/json' } : {},
                body: choice.body ?? '',
              } as typeof request;
            },
            onResponse: (status, _body, context, headers) => {
              const c = context as { endpoint: EndpointName; sentAt: number };
              const latency = performance.now() - c.sentAt;
              sink.answered(c.endpoint, status, latency, latency, cacheMark(headers?.['x-cache']));
            },
          },
        ],
      },
      (err) => (err ? reject(err) : resolve()),
    );
    instance.on('reqError', () => sink.failed());
  });
}

/** Requests dispatched in one go before the arrival loop yields to answers. */
const ARRIVALS_PER_TURN = 64;

/**
 * A phase at an offered rate: an open loop of Poisson arrivals (exponential gaps, mean 1/rate,
 * drawn from the seed), each sent when it is due whatever the answers before it, over at most
 * `connections` keep-alive connections (undici's Pool; a request that finds them all busy waits
 * for one). Latency runs from the request's due time, so a wait for a connection counts, as a
 * user's would. autocannon's own rate limit instead sends each connection's share of a second at
 * the start of that second, a burst the API answers as a queue.
 */
async function openLoopPhase(run: PhaseRun, sink: PhaseSink): Promise<void> {
  const pool = new Pool(run.origin, {
    connections: run.connections,
    headersTimeout: run.timeoutSeconds * 1000,
    bodyTimeout: run.timeoutSeconds * 1000,
  });
  // Its own stream, so the requests drawn are the same whatever the arrival times.
  const random = seededRandom(run.seed ^ 0x5bd1e995);
  const meanGapMs = 1000 / run.phase.rate;
  const started = performance.now();
  const endsAt = started + run.phase.durationSeconds * 1000;
  const inFlight = new Set<Promise<void>>();
  const send = (dueAt: number) => {
    const sentAt = performance.now();
    sink.sent(Math.max(0, sentAt - dueAt));
    const choice = sink.next();
    const request = pool
      .request({
        path: choice.path,
        method: choice.method,
        ...(choice.body ? { headers: { 'content-type': 'application/json' }, body: choice.body } : {}),
      })
      .then(
        async (response) => {
          await response.body.dump();
          const answeredAt = performance.now();
          // A request sent up to a millisecond early (the arrivals due within one are sent together)
          // counts from its send.
          sink.answered(
            choice.endpoint,
            response.statusCode,
            answeredAt - Math.min(dueAt, sentAt),
            answeredAt - sentAt,
            cacheMark(response.headers['x-cache']),
          );
        },
        () => sink.failed(),
      )
      .finally(() => inFlight.delete(request));
    inFlight.add(request);
  };
  try {
    let dueAt = started;
    for (let sentThisTurn = 0; ; ) {
      dueAt += -Math.log(1 - random.uniform()) * meanGapMs;
      if (dueAt >= endsAt) break;
      const wait = dueAt - performance.now();
      if (wait >= 1) {
        await sleep(wait);
        sentThisTurn = 0;
      } else if (++sentThisTurn >= ARRIVALS_PER_TURN) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        sentThisTurn = 0;
      }
      send(dueAt);
    }
    // The phase lasts its duration, whenever its last arrival fell.
    const rest = endsAt - performance.now();
    if (rest > 0) await sleep(rest);
    await Promise.all(inFlight);
  } finally {
    await pool.close();
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

function sendLagSummary(lags: number[]): LoadTestResult['sendLagMs'] {
  if (lags.length === 0) return null;
  const sorted = lags.sort((a, b) => a - b);
  const r = (x: number) => Math.round(x * 100) / 100;
  return { p99: r(percentile(sorted, 99)), max: r(sorted.at(-1) as number) };
}

function apiMetrics(
  before: ReturnType<typeof parsePrometheusText>,
  after: ReturnType<typeof parsePrometheusText>,
  poolSamples: readonly { active: number; capacity: number }[],
): ApiMetricsResult {
  const delta = (name: string) => sumSamples(after, name) - sumSamples(before, name);
  const hits = delta(METRIC.cacheHits);
  const misses = delta(METRIC.cacheMisses);
  const capacity = sumSamples(after, METRIC.poolSize) + sumSamples(after, METRIC.poolMaxOverflow);
  const usage = poolSamples.map((s) => (s.capacity > 0 ? (100 * s.active) / s.capacity : 0));
  const waits = delta(`${METRIC.poolWait}_count`);
  const r = (x: number) => Math.round(x * 10) / 10;
  return {
    cacheHits: hits,
    cacheMisses: misses,
    cacheHitRatePercent: hits + misses > 0 ? r((100 * hits) / (hits + misses)) : null,
    poolCapacity: capacity,
    poolActivePeak: Math.max(0, ...poolSamples.map((s) => s.active)),
    poolUsagePeakPercent: r(Math.max(0, ...usage)),
    poolUsageMeanPercent: r(usage.length ? usage.reduce((s, x) => s + x, 0) / usage.length : 0),
    poolWaitMeanMs: waits > 0 ? Math.round((1e5 * delta(`${METRIC.poolWait}_sum`)) / waits) / 100 : null,
  };
}

/** formatReport renders the seed's closing report, then latency per endpoint and the API's metrics. */
export function formatReport(r: LoadTestResult): string {
  const n = (x: number, digits = 1) =>
    x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  const lines = [
    `Load Test Results (${r.url}, ${n(r.durationSeconds)} s, ${r.connections} connections, ${r.requests.toLocaleString('en-US')} requests):`,
    ...r.endpoints.map((e) => `  ${e.endpoint}: ${n(e.rps)} RPS, ${n(e.errorPercent)}% errors`),
    `  Total: ${n(r.rps)} RPS, ${n(r.errorPercent)}% errors`,
    `  Average Response Time: ${Math.round(r.latencyMs.mean)}ms`,
    `  95th Percentile: ${Math.round(r.latencyMs.p95)}ms`,
    '',
    'Latency per endpoint (ms):   p50      p95      p99   statuses',
    ...r.endpoints.map(
      (e) =>
        `  ${e.endpoint.padEnd(28)}${n(e.latencyMs.p50).padStart(6)} ${n(e.latencyMs.p95).padStart(8)} ${n(e.latencyMs.p99).padStart(8)}   ${Object.entries(
          e.statusCounts,
        )
          .map(([s, c]) => `${s}×${c}`)
          .join(' ')}`,
    ),
    '',
  ];
  if (r.sendLagMs && r.sendLagMs.p99 > SEND_LAG_WARN_MS) {
    lines.push(
      `Warning: the load generator sent its requests up to ${n(r.sendLagMs.p99)} ms late (p99; max ${n(r.sendLagMs.max)} ms):`,
      '  it could not keep up with the rate, and every latency above includes that lag.',
      `  Counted from each request's send instead: p50 ${n(r.latencyFromSendMs.p50)} ms, p95 ${n(r.latencyFromSendMs.p95)} ms, p99 ${n(r.latencyFromSendMs.p99)} ms.`,
      '',
    );
  }
  if (r.api) {
    lines.push(
      'API metrics (from /metrics, during the run):',
      `  Cache Hit Rate: ${r.api.cacheHitRatePercent === null ? 'n/a (no lookups)' : `${n(r.api.cacheHitRatePercent)}%`} (${r.api.cacheHits} hits, ${r.api.cacheMisses} misses)`,
      `  Connection Pool Usage: peak ${r.api.poolActivePeak} of ${r.api.poolCapacity} (${n(r.api.poolUsagePeakPercent)}%), mean ${n(r.api.poolUsageMeanPercent)}%`,
      `  Pool Wait: ${r.api.poolWaitMeanMs === null ? 'n/a' : `${n(r.api.poolWaitMeanMs, 2)} ms mean`}`,
    );
  } else {
    lines.push('API metrics: /metrics not readable (MONITORING_ENABLED=false?)');
  }
  return lines.join('\n');
}
