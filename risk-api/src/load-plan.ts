/**
 * What a load test sends: its rate phases (read from a YAML or JSON file), the endpoints and their
 * weights in the mix, and the next request drawn from that mix with a Zipf choice of symbols and
 * portfolios, seeded so two runs send the same sequence.
 */
import { parse as parseYaml } from 'yaml';
import { seededRandom } from '../../operator/src/sim/seeded-random.ts';
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

/** Draws the next request of the mix. */
export function requestChooser(options: LoadTestOptions) {
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

/** One request of the mix, as requestChooser draws it. */
export type Choice = ReturnType<ReturnType<typeof requestChooser>>;
