import { describe, expect, it } from 'vitest';
import { CacheDynamics } from './cache-dynamics.ts';
import { parseScenario } from './scenario.ts';

const MIB = 1024 * 1024;
const scenario = (redis: Record<string, unknown>) =>
  parseScenario({
    name: 'cache',
    durationMinutes: 600,
    redis: { keys: 1_000_000, ttlSeconds: 0, ...redis },
    load: {
      points: [
        { minute: 0, rps: 1000 },
        { minute: 600, rps: 4000 },
      ],
    },
  });

/** Hit rate and used memory per minute from `from` to `to`, at `rps` and `maxMiB`. */
function run(cache: CacheDynamics, from: number, to: number, rps: number, maxMiB: number) {
  const states = [];
  for (let minute = from; minute < to; minute += 0.25) states.push(cache.tick(minute, 15, rps, maxMiB * MIB));
  return states;
}

describe('CacheDynamics', () => {
  it('after the key universe is replaced the hit rate collapses, then recovers to the steady state without using more memory', () => {
    const cache = new CacheDynamics(scenario({ universeReplacedAtMinutes: [60] }), 1120);
    const before = run(cache, 0, 60, 1500, 512).at(-1);
    const after = run(cache, 60, 240, 1500, 512);
    expect(before?.hitRate).toBeGreaterThan(0.85);
    expect(after[0]?.hitRate).toBeLessThan(0.05);
    expect(after[0]?.evictedKeysPerSecond).toBeGreaterThan(1000);
    expect(after.at(-1)?.hitRate).toBeCloseTo(before?.hitRate ?? 0, 3);
    expect(Math.max(...after.map((s) => s.usedMemoryBytes))).toBeLessThanOrEqual(512 * MIB);
  });

  it('a working set that grows with load needs more memory for the same hit rate', () => {
    const fixed = new CacheDynamics(scenario({}), 1120);
    const growing = new CacheDynamics(scenario({ keysLoadExponent: 1 }), 1120);
    expect(growing.tick(0, 15, 1000, 512 * MIB).hitRate).toBeCloseTo(
      fixed.tick(0, 15, 1000, 512 * MIB).hitRate,
      2,
    );
    const atPeak = (cache: CacheDynamics) => cache.tick(599, 15, 4000, 512 * MIB).hitRate;
    expect(atPeak(growing)).toBeLessThan(atPeak(fixed) - 0.05);
  });
});
