import { describe, expect, it } from 'vitest';
import { allenCunneenFactor, REQUEST_TIMEOUT_MS, type ReplicaLoad, serveReplica } from './latency-model.ts';

const base: ReplicaLoad = {
  requestsPerSecond: 600,
  hitRate: 0.87,
  cpuMsPerHit: 0.4,
  cpuMsPerMiss: 3.5,
  cpuCores: 1,
  workers: 4,
  hitLatencyMs: 8,
  missLatencyMs: 40,
  queryMs: 30,
  poolConnections: 20,
  grantedConnections: 20,
};

describe('replica latency model', () => {
  it('p95 grows with load and overload fails requests', () => {
    const p95s = [200, 600, 1000, 1200].map((rps) => serveReplica({ ...base, requestsPerSecond: rps }).p95Ms);
    expect(p95s).toEqual([...p95s].sort((a, b) => a - b));
    const overloaded = serveReplica({ ...base, requestsPerSecond: 3000 });
    expect(overloaded.cpuUtilization).toBeGreaterThan(1);
    expect(overloaded.failedShare).toBeGreaterThan(0.3);
    expect(overloaded.p95Ms).toBe(REQUEST_TIMEOUT_MS);
  });

  it('busy connections follow Little’s law: misses/s × query time', () => {
    expect(serveReplica(base).busyConnections).toBeCloseTo(600 * 0.13 * 0.03, 6);
  });

  it.each<[string, Partial<ReplicaLoad>, (o: ReturnType<typeof serveReplica>) => boolean]>([
    [
      'a small pool makes requests wait',
      { poolConnections: 3, grantedConnections: 3 },
      (o) => o.meanPoolWaitMs > 5 && o.failedShare === 0,
    ],
    [
      'a saturated pool times requests out',
      { poolConnections: 2, grantedConnections: 2 },
      (o) => o.failedShare > 0,
    ],
    [
      'DB refusals fail requests fast',
      { poolConnections: 20, grantedConnections: 3 },
      (o) => o.failedShare > 0.01 && o.meanPoolWaitMs === 0,
    ],
    [
      'no granted connection fails every miss',
      { grantedConnections: 0 },
      (o) => Math.abs(o.failedShare - 0.13) < 1e-9,
    ],
  ])('%s', (_name, overrides, check) => {
    expect(check(serveReplica({ ...base, ...overrides }))).toBe(true);
  });

  it('a better hit rate lowers CPU and latency', () => {
    const low = serveReplica({ ...base, hitRate: 0.7 });
    const high = serveReplica({ ...base, hitRate: 0.95 });
    expect(high.cpuUtilization).toBeLessThan(low.cpuUtilization);
    expect(high.p95Ms).toBeLessThan(low.p95Ms);
  });

  it('the DB’s CPU, shared by all replicas, slows queries as it fills, and the pool times out what it cannot carry', () => {
    // 600 rps × 13 % misses = 78 queries/s of each replica, 5 ms of the DB's CPU each: one
    // replica takes 0.2 of its 2 cores, four 1.56, six more than it has.
    const fleet = (replicas: number) =>
      serveReplica({
        ...base,
        database: { cores: 2, cpuMsPerQuery: 5, queriesPerSecond: 78 * replicas, connections: 20 * replicas },
      });
    const none = serveReplica(base);
    const [light, busy, full] = [1, 4, 6].map((r) => fleet(r));
    expect(light?.p95Ms).toBeCloseTo(none.p95Ms, -1);
    expect(busy?.p95Ms).toBeGreaterThan((light?.p95Ms ?? 0) * 1.2);
    expect(busy?.busyConnections).toBeGreaterThan(none.busyConnections);
    expect(busy?.failedShare).toBe(0);
    expect(full?.failedShare).toBeGreaterThan(0.01);
    // No more connections than cores: no query waits at the DB, however many arrive.
    const capped = serveReplica({
      ...base,
      requestsPerSecond: 300,
      database: { cores: 2, cpuMsPerQuery: 20, queriesPerSecond: 90, connections: 2 },
      poolConnections: 2,
      grantedConnections: 2,
    });
    expect(capped.busyConnections).toBeCloseTo(300 * 0.13 * 0.03, 6);
  });

  it('a query with a fixed floor has a shorter tail than an exponential one of the same mean', () => {
    const slowQueries = { ...base, requestsPerSecond: 100, hitRate: 0.2, queryMs: 100 };
    const exponential = serveReplica({ ...slowQueries, queryFixedShare: 0 });
    const floored = serveReplica({ ...slowQueries, queryFixedShare: 0.8 });
    expect(floored.p95Ms).toBeLessThan(exponential.p95Ms);
    expect(floored.busyConnections).toBeCloseTo(exponential.busyConnections, 9);
  });

  it('a pool in front of a DB short of CPU is one queue: it waits and saturates at the DB’s CPU, not at its connections', () => {
    // Every request a miss: 5 connections of 18.5 ms queries could carry 270/s; the DB's 1.6
    // cores at 15 ms of CPU a query carry at most 107/s.
    const risk = (missesPerSecond: number, database: boolean) =>
      serveReplica({
        ...base,
        requestsPerSecond: missesPerSecond,
        hitRate: 0,
        queryMs: 18.5,
        poolConnections: 5,
        grantedConnections: 5,
        ...(database
          ? { database: { cores: 1.6, cpuMsPerQuery: 15, queriesPerSecond: missesPerSecond, connections: 5 } }
          : {}),
      });
    expect(risk(90, false).meanPoolWaitMs).toBeLessThan(1);
    expect(risk(90, true).meanPoolWaitMs).toBeGreaterThan(10);
    expect(risk(90, true).failedShare).toBe(0);
    expect(risk(90, true).busyConnections).toBeGreaterThan(risk(90, false).busyConnections * 1.5);
    expect(risk(120, false).failedShare).toBe(0);
    expect(risk(120, true).failedShare).toBeGreaterThan(0.01);
  });

  it.each<[string, number, number]>([
    ['an exponential query waits as Erlang-C says', 0, 1],
    ['the calibrated fixed share', 0.4, 0.68],
    ['a fixed query waits half as long (M/D/c)', 1, 0.5],
  ])('Allen–Cunneen: %s', (_name, share, factor) => {
    expect(allenCunneenFactor(share)).toBeCloseTo(factor, 9);
  });
});
