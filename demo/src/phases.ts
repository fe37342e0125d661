/**
 * The demo's load phases: each a rate, a number of connections, an endpoint mix and a popularity
 * skew, chosen so the demo's initial knobs turn out wrong in turn: a wide working set (the price
 * histories of every seeded symbol, nearly uniform) that the small maxmemory cannot hold, a heavy
 * phase of risk analyses that needs more connections than the small pool has, and a quiet phase in
 * which less would do, long enough for the stabilization window (60 s) after the heavy phase's
 * last raise. `--phases FILE` replaces them; `--duration` scales them.
 */
import { parse as parseYaml } from 'yaml';
import { type EndpointName, MAX_TOTAL_SECONDS, parseMix } from '../../risk-api/src/load-plan.ts';
import { SEED_SYMBOL_COUNT } from '../../risk-api/src/seed-data.ts';
import { DEMO_SEED_SYMBOLS } from './demo-values.ts';

/** One phase of the demo's load. */
export interface DemoPhase {
  readonly name: string;
  readonly durationSeconds: number;
  /** rate is the offered requests per second (0: as fast as the API answers). */
  readonly rate: number;
  readonly connections: number;
  /** mix is the endpoint weights; absent means the load generator's default mix. */
  readonly mix?: Readonly<Partial<Record<EndpointName, number>>>;
  /** zipf is the popularity exponent of symbols and portfolios (0: uniform). */
  readonly zipf: number;
  /**
   * symbols is how many of the seeded symbols requests choose from: the seed's first 300 (which
   * portfolios hold), or up to all DEMO_SEED_SYMBOLS for a working set wider than the cache.
   */
  readonly symbols: number;
}

/** The default phases, 5 minutes 20 s in all. */
export const DEFAULT_DEMO_PHASES: readonly DemoPhase[] = [
  {
    name: 'wide working set',
    durationSeconds: 100,
    rate: 200,
    connections: 8,
    mix: parseMix('price-history=75,market-data=20,data=5'),
    zipf: 0.2,
    symbols: DEMO_SEED_SYMBOLS,
  },
  {
    name: 'heavy',
    durationSeconds: 100,
    rate: 0,
    connections: 24,
    mix: parseMix('risk-analysis=40,batch-risk-analysis=60'),
    zipf: 0.2,
    symbols: SEED_SYMBOL_COUNT,
  },
  { name: 'quiet', durationSeconds: 120, rate: 20, connections: 2, zipf: 1.1, symbols: SEED_SYMBOL_COUNT },
];

/** parseDemoPhases reads a YAML or JSON list of {name, duration, rate, connections?, mix?, zipf?, symbols?}. */
export function parseDemoPhases(text: string): DemoPhase[] {
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (err) {
    throw new Error(`phases: not YAML or JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(parsed) || parsed.length === 0) {
    throw new Error('phases: expected a list, e.g. [{name: heavy, duration: 60, rate: 0, connections: 24}]');
  }
  const phases = parsed.map((p, i): DemoPhase => {
    const e = (p ?? {}) as Record<string, unknown>;
    const whole = (field: string, value: unknown, min: number, fallback?: number) => {
      const v = value ?? fallback;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
        throw new Error(`phases[${i}].${field} must be a whole number, at least ${min}`);
      }
      return v;
    };
    if (typeof e.name !== 'string' || e.name.length === 0)
      throw new Error(`phases[${i}].name must be a string`);
    const zipf = e.zipf ?? 1.1;
    if (typeof zipf !== 'number' || !(zipf >= 0)) throw new Error(`phases[${i}].zipf must be a number ≥ 0`);
    return {
      name: e.name,
      durationSeconds: whole('duration', e.duration, 1),
      rate: whole('rate', e.rate, 0),
      connections: whole('connections', e.connections, 1, 8),
      ...(e.mix === undefined ? {} : { mix: parseMix(String(e.mix)) }),
      zipf,
      symbols: whole('symbols', e.symbols, SEED_SYMBOL_COUNT, SEED_SYMBOL_COUNT),
    };
  });
  const wide = phases.findIndex((p) => p.symbols > DEMO_SEED_SYMBOLS);
  if (wide >= 0)
    throw new Error(`phases[${wide}].symbols must be at most ${DEMO_SEED_SYMBOLS}, the symbols seeded`);
  const total = phases.reduce((s, p) => s + p.durationSeconds, 0);
  if (total > MAX_TOTAL_SECONDS) throw new Error(`phases: ${total} s in all; at most ${MAX_TOTAL_SECONDS}`);
  return phases;
}

/** scalePhases stretches or shrinks the phases to `totalSeconds` in all, keeping their proportions. */
export function scalePhases(phases: readonly DemoPhase[], totalSeconds: number): DemoPhase[] {
  const total = phases.reduce((s, p) => s + p.durationSeconds, 0);
  return phases.map((p) => ({
    ...p,
    durationSeconds: Math.max(1, Math.round((p.durationSeconds * totalSeconds) / total)),
  }));
}
