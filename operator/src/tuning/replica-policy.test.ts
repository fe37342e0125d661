import { describe, expect, it } from 'vitest';
import { estimateReplicaCapacity, recommendReplicaBounds } from './replica-policy.ts';
import { cpuTargets, healthySnapshot, specWith, TEST_SPEC } from './test-fixtures.ts';

const spec = TEST_SPEC;

describe('replica bounds', () => {
  it('uses the seed prior of 1000 rps per replica until it has evidence', () => {
    expect(estimateReplicaCapacity(spec, [healthySnapshot()])).toEqual({
      requestsPerSecondAtFullCpu: 1000,
      source: 'prior',
    });
  });

  it('estimates capacity from observed rps per replica against CPU, ignoring SLO-breaking minutes', () => {
    const observed = [1, 2, 3].map((i) =>
      healthySnapshot(i * 60, { requestsPerSecond: 1500, readyReplicas: 3, cpuUtilization: 0.4 }),
    );
    const broken = healthySnapshot(240, { requestsPerSecond: 6000, cpuUtilization: 1, p95LatencyMs: 900 });
    expect(estimateReplicaCapacity(spec, [...observed, broken])).toEqual({
      requestsPerSecondAtFullCpu: 1250,
      source: 'observed',
    });
  });

  it.each<[string, number, number, number, number]>([
    // trough rps, peak rps → min, max (capacity prior 1000 at 70 % target = 700 rps per replica)
    ['quiet service keeps two for availability', 100, 300, 2, 3],
    ['trough of 2000 rps needs 3', 2000, 4000, 3, 12],
    ['a trough within the HPA’s tolerance above two replicas’ target keeps 2', 1500, 3000, 2, 9],
    ['a trough beyond it needs 3', 1550, 3000, 3, 9],
    ['peak far above the ceiling is capped at it', 1000, 20_000, 2, 20],
  ])('%s', (_name, trough, peak, min, max) => {
    // CPU in step with load at 1000 rps per replica, so the capacity estimate equals the prior.
    const at = (t: number, rps: number) =>
      healthySnapshot(t, { requestsPerSecond: rps, readyReplicas: 3, cpuUtilization: rps / 3000 });
    const bounds = recommendReplicaBounds(
      spec,
      at(180, trough),
      [at(60, trough), at(120, peak)],
      cpuTargets(70),
    );
    expect([bounds.minReplicas, bounds.maxReplicas]).toEqual([min, max]);
  });

  it('on the prior, the replicas the HPA runs at its target are a need the ceiling keeps', () => {
    // 5 pods at the 70 % target serve 1,500 rps (430 rps per replica at full CPU); the prior of
    // 1,000 alone would ask for 3 and cap the fleet below what it runs.
    const now = healthySnapshot(60, { requestsPerSecond: 1500, readyReplicas: 5, cpuUtilization: 0.7 });
    const bounds = recommendReplicaBounds(spec, now, [], cpuTargets(70));
    expect(bounds.capacitySource).toBe('prior');
    expect(bounds.peakReplicas).toBe(5);
    expect(bounds.maxReplicas).toBeGreaterThanOrEqual(5);
  });

  it('never sets minReplicas below the PDB', () => {
    const bounds = recommendReplicaBounds(
      specWith({ pdbMinAvailable: 4 }),
      healthySnapshot(60, { requestsPerSecond: 10 }),
      [],
      cpuTargets(70),
    );
    expect(bounds.minReplicas).toBe(4);
  });
});
