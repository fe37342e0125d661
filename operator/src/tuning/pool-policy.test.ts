import { describe, expect, it } from 'vitest';
import { allocateConnectionBudget, recommendPoolSize } from './pool-policy.ts';
import { probabilityWaitExceeds } from './queueing.ts';
import { cpuTargets, healthySnapshot, specWith, TEST_SPEC } from './test-fixtures.ts';

const spec = TEST_SPEC;

describe('recommendPoolSize', () => {
  it.each<[string, number, number, number]>([
    // name, queries/s, active connections (→ hold time), expected pool
    // design load: the 1000 rps prior at the 70 % CPU target = 700 rps per replica
    ['light DB use (0.21 busy)', 60, 0.6, 3],
    ['the fixture load (2.5 busy, hold 30 ms)', 240, 7.2, 7],
    ['slow queries (7.6 busy, hold 90 ms)', 240, 21.6, 14],
    ['a cold cache (10 busy, 4 × the queries)', 960, 28.8, 15],
  ])('sizes the pool for %s', (_name, qps, active, expected) => {
    const need = recommendPoolSize(
      spec,
      healthySnapshot(1000, { dbQueriesPerSecond: qps, dbActiveConnections: active }),
      [],
      50,
      cpuTargets(70),
    );
    expect(need?.poolSize).toBe(expected);
    expect(need?.reason).toMatch(/Erlang-C needs/);
    // The Erlang-C servers (pool − 1 spare) meet the wait target; one fewer does not.
    const designQps = 700 * (qps / 2000);
    const hold = active / qps;
    const meets = (c: number) =>
      probabilityWaitExceeds(c, designQps, hold, 0.01) <= 0.05 && (designQps * hold) / c <= 0.8;
    expect(meets(expected - 1)).toBe(true);
    expect(meets(expected - 2)).toBe(false);
  });

  it('grows with hold time (Little’s law)', () => {
    const sizes = [0.01, 0.03, 0.06, 0.12].map(
      (hold) =>
        recommendPoolSize(
          spec,
          healthySnapshot(1000, { dbQueriesPerSecond: 240, dbActiveConnections: 240 * hold }),
          [],
          50,
          cpuTargets(70),
        )?.poolSize ?? 0,
    );
    expect(sizes).toEqual([...sizes].sort((a, b) => a - b));
    expect(new Set(sizes).size).toBe(4);
  });

  it('keeps a current pool that is big enough and not far too big', () => {
    const need = recommendPoolSize(spec, healthySnapshot(), [], 9, cpuTargets(70));
    expect(need?.poolSize).toBe(9);
    expect(need?.reason).toMatch(/keep it/);
  });

  it('never goes below the deadlock floor', () => {
    const nested = specWith({
      database: { ...spec.database, connectionsHeldPerRequest: 2, workersPerReplica: 4 },
    });
    const need = recommendPoolSize(
      nested,
      healthySnapshot(1000, { dbQueriesPerSecond: 1, dbActiveConnections: 0.01 }),
      [],
      1,
      cpuTargets(70),
    );
    expect(need?.poolSize).toBe(5); // 4 workers × (2 − 1) + 1
  });

  it('proposes nothing without DB traffic', () => {
    expect(
      recommendPoolSize(spec, healthySnapshot(1000, { dbQueriesPerSecond: 0 }), [], 10, cpuTargets(70)),
    ).toBeUndefined();
  });
});

describe('allocateConnectionBudget', () => {
  it.each<
    [string, number, number, number, number, { poolSize: number; maxOverflow: number; maxReplicas: number }]
  >([
    [
      'roomy budget: overflow takes what is left at the ceiling',
      1000,
      8,
      4,
      3,
      { poolSize: 8, maxOverflow: 30, maxReplicas: 20 },
    ],
    [
      'default budget: no overflow, ceiling from the budget',
      100,
      8,
      4,
      3,
      { poolSize: 8, maxOverflow: 0, maxReplicas: 12 },
    ],
    [
      'tight budget: the pool is cut so the load’s replicas fit',
      40,
      12,
      4,
      6,
      { poolSize: 9, maxOverflow: 0, maxReplicas: 4 },
    ],
    [
      'tight budget, but never below a stable pool',
      40,
      12,
      4,
      9,
      { poolSize: 10, maxOverflow: 0, maxReplicas: 3 },
    ],
  ])('%s', (_name, maxConnections, pool, loadReplicas, busy, expected) => {
    const s = specWith({ database: { ...spec.database, maxConnections } });
    const allocation = allocateConnectionBudget({
      spec: s,
      poolSize: pool,
      loadReplicas,
      minReplicas: 2,
      designBusyConnections: busy,
    });
    expect(allocation).toMatchObject(expected);
    expect(allocation.maxReplicas * (allocation.poolSize + allocation.maxOverflow)).toBeLessThanOrEqual(
      maxConnections - 3,
    );
  });

  it.each<
    [
      string,
      number,
      number,
      { poolSize: number; maxReplicas: number },
      { poolSize: number; maxReplicas: number },
    ]
  >([
    // name, pool wanted, forecast ceiling, current, expected; budget 37, the peak needs 3 replicas
    [
      'a binding ceiling keeps its replicas: the pool does not grow back into them',
      11,
      6,
      { poolSize: 9, maxReplicas: 4 },
      { poolSize: 9, maxReplicas: 4 },
    ],
    [
      'a binding ceiling lets the pool grow as far as it still fits',
      11,
      6,
      { poolSize: 7, maxReplicas: 4 },
      { poolSize: 9, maxReplicas: 4 },
    ],
    [
      'a ceiling above the forecast is not binding: the pool grows',
      11,
      3,
      { poolSize: 9, maxReplicas: 4 },
      { poolSize: 11, maxReplicas: 3 },
    ],
    [
      'but a pool below a stable queue grows to it whatever the ceiling holds',
      11,
      8,
      { poolSize: 4, maxReplicas: 8 },
      { poolSize: 6, maxReplicas: 6 },
    ],
    [
      'a pool that shrinks is not held',
      8,
      6,
      { poolSize: 9, maxReplicas: 4 },
      { poolSize: 8, maxReplicas: 4 },
    ],
  ])('%s', (_name, pool, forecastReplicas, current, expected) => {
    const s = specWith({ database: { ...spec.database, maxConnections: 40 } });
    const allocation = allocateConnectionBudget({
      spec: s,
      poolSize: pool,
      loadReplicas: 3,
      minReplicas: 2,
      designBusyConnections: 5.2,
      forecastReplicas,
      current,
    });
    expect(allocation).toMatchObject(expected);
    expect(allocation.maxReplicas * (allocation.poolSize + allocation.maxOverflow)).toBeLessThanOrEqual(37);
  });
});
