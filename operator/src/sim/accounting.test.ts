import { describe, expect, it } from 'vitest';
import { DEFAULT_TUNING_SPEC } from '../tuning/tuning-spec-from-profile.ts';
import { sloMisses } from './accounting.ts';
import { SEED_STATIC } from './controllers.ts';
import { parseScenario } from './scenario.ts';
import { simulate } from './simulate.ts';

const slo = DEFAULT_TUNING_SPEC.slo; // p95 200 ms, errors 0.1 %, hit rate 85 %
const noHitRateObjective = { ...slo, cacheHitRate: 0 };

describe('sloMisses', () => {
  it.each([
    [
      'all met',
      slo,
      { p95Ms: 150, errorRate: 0, hitRate: 0.9 },
      { p95: false, errorRate: false, hitRate: false },
    ],
    [
      'p95 above its target',
      slo,
      { p95Ms: 250, errorRate: 0, hitRate: 0.9 },
      { p95: true, errorRate: false, hitRate: false },
    ],
    [
      'errors above theirs',
      slo,
      { p95Ms: 150, errorRate: 0.002, hitRate: 0.9 },
      { p95: false, errorRate: true, hitRate: false },
    ],
    [
      'hit rate below its objective',
      slo,
      { p95Ms: 150, errorRate: 0, hitRate: 0.8 },
      { p95: false, errorRate: false, hitRate: true },
    ],
    [
      'a profile without a hit-rate objective never misses it',
      noHitRateObjective,
      { p95Ms: 150, errorRate: 0, hitRate: 0.1 },
      { p95: false, errorRate: false, hitRate: false },
    ],
  ])('%s', (_name, objectives, tick, expected) => {
    expect(sloMisses(objectives, tick)).toEqual(expected);
  });
});

describe('a run judged on every declared objective', () => {
  it('counts the minutes a fast, error-free service misses its hit-rate objective', () => {
    // 60 s TTLs at a light load: most lookups expire before their next read, so the hit rate sits
    // near 52 % while two pods answer well inside the latency and error objectives.
    const scenario = parseScenario({
      name: 'short-ttl',
      durationMinutes: 30,
      redis: { ttlSeconds: 60 },
      load: { points: [{ minute: 0, rps: 300 }] },
    });
    const run = simulate(scenario, SEED_STATIC);
    expect(run.series.every((p) => p.p95Ms < slo.p95LatencyMs && p.errorRate < slo.errorRate)).toBe(true);
    expect(run.totals.hitRateViolationMinutes).toBe(30);
    expect(run.totals.sloViolationMinutes).toBe(30);
  });
});
