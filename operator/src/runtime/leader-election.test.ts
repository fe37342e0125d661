/**
 * Leader election between real candidates on a real API server. Their schedule (retries, lease
 * duration, renew deadline) runs on one ManualClock that the test moves a retry period at a time,
 * so no test sleeps through a lease and none asserts wall-clock timings: only what happened by
 * which time on the candidates' clock. Requests are real, and waited for.
 */
import { CoordinationV1Api, V1MicroTime } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type ControlPlane, startControlPlane } from '../../../test/cluster/control-plane.ts';
import { createNamespace } from '../../../test/cluster/kube.ts';
import { createOperatorMetrics, type OperatorMetrics } from '../telemetry/metrics.ts';
import { ManualClock } from './clock.ts';
import { LeaderElector } from './leader-election.ts';
import { kubeConfigVia, PartitionableProxy } from './partitionable-proxy.ts';

const leaseDurationMs = 3000;
const renewDeadlineMs = 2000;
const retryPeriodMs = 500;
/** One step of the clock: a retry period with its largest jitter, so every sleeping candidate wakes. */
const tickMs = retryPeriodMs * 1.2;
/** How long one step's requests may take on two busy cores (not a timing under test). */
const requestsSettle = { timeout: 15_000, interval: 10 };

interface Candidate {
  identity: string;
  elector: LeaderElector;
  metrics: OperatorMetrics;
  /** startedAt is the clock's time at onStartedLeading. */
  startedAt: number | undefined;
  stoppedLeading: boolean;
  running: boolean;
  done: Promise<void>;
}

describe('LeaderElector on a real API server', () => {
  let cp: ControlPlane;
  let coordination: CoordinationV1Api;
  const namespace = 'leader-election';
  let leaseCounter = 0;
  const candidates: Candidate[] = [];

  beforeAll(async () => {
    cp = await startControlPlane();
    coordination = cp.kubeConfig.makeApiClient(CoordinationV1Api);
    await createNamespace(cp.kubeConfig, namespace);
  });

  afterAll(async () => {
    for (const candidate of candidates) candidate.elector.stop();
    await cp?.stop();
  });

  function candidate(
    clock: ManualClock,
    name: string,
    identity: string,
    kubeConfig = cp.kubeConfig,
  ): Candidate {
    const metrics = createOperatorMetrics(new Registry());
    const elector = new LeaderElector({
      kubeConfig,
      namespace,
      name,
      identity,
      leaseDurationMs,
      renewDeadlineMs,
      retryPeriodMs,
      metrics,
      clock,
    });
    const entry: Candidate = {
      identity,
      elector,
      metrics,
      startedAt: undefined,
      stoppedLeading: false,
      running: true,
      done: undefined as never,
    };
    entry.done = elector
      .run({
        onStartedLeading: () => {
          entry.startedAt = clock.now();
        },
        onStoppedLeading: () => {
          entry.stoppedLeading = true;
        },
      })
      .finally(() => {
        entry.running = false;
      });
    candidates.push(entry);
    return entry;
  }

  /** settle waits until every running candidate has finished its attempt and sleeps on the clock. */
  async function settle(clock: ManualClock, of: readonly Candidate[]): Promise<void> {
    await vi.waitFor(
      () => expect(clock.pendingTimers()).toBe(of.filter((c) => c.running).length),
      requestsSettle,
    );
  }

  /** tick moves the clock one step and lets the candidates act on it. */
  async function tick(clock: ManualClock, of: readonly Candidate[]): Promise<void> {
    clock.advance(tickMs);
    await settle(clock, of);
  }

  async function twoCandidates() {
    const clock = new ManualClock(Date.parse('2026-12-01T12:00:00Z'));
    const name = `operator-${++leaseCounter}`;
    const pair = [candidate(clock, name, `${name}-a`), candidate(clock, name, `${name}-b`)];
    await settle(clock, pair);
    const leaders = pair.filter((c) => c.elector.isLeader());
    expect(leaders).toHaveLength(1);
    const leader = leaders[0] as Candidate;
    const standby = pair.find((c) => c !== leader) as Candidate;
    return { clock, name, pair, leader, standby };
  }

  const gauge = async (c: Candidate) => (await c.metrics.leader.get()).values[0]?.value;
  const holderOf = async (name: string) =>
    (await coordination.readNamespacedLease({ name, namespace })).spec?.holderIdentity;

  it('lets exactly one of two candidates lead, and says so in the lease and the leader gauge', async () => {
    const { clock, name, pair, leader, standby } = await twoCandidates();
    // Twice a lease duration of renewals: the standby must stay a standby while the leader renews.
    for (let t = 0; t < 2 * leaseDurationMs; t += tickMs) await tick(clock, pair);
    expect(leader.elector.isLeader()).toBe(true);
    expect(standby.elector.isLeader()).toBe(false);
    expect(standby.startedAt).toBeUndefined();
    expect(await holderOf(name)).toBe(leader.identity);
    expect(await gauge(leader)).toBe(1);
    expect(await gauge(standby)).toBe(0);
    leader.elector.stop();
    standby.elector.stop();
  });

  it('hands over after one lease duration on the clock when the leader stops renewing without releasing', async () => {
    const { clock, name, pair, leader, standby } = await twoCandidates();
    await tick(clock, pair);
    const stoppedAt = clock.now();
    leader.elector.stop();
    await leader.done;
    while (!standby.elector.isLeader() && clock.now() - stoppedAt < 3 * leaseDurationMs)
      await tick(clock, pair);
    const takeoverMs = (standby.startedAt ?? Number.NaN) - stoppedAt;
    // The standby counts from when it last saw the lease change: at most a step before the stop.
    expect(takeoverMs).toBeGreaterThanOrEqual(leaseDurationMs - tickMs);
    expect(takeoverMs).toBeLessThanOrEqual(leaseDurationMs + tickMs);
    expect(await holderOf(name)).toBe(standby.identity);
    expect(leader.stoppedLeading).toBe(false);
    const lease = await coordination.readNamespacedLease({ name, namespace });
    expect(lease.spec?.leaseTransitions).toBe(1);
    // The Lease is stamped by the candidate's clock.
    expect(new Date(lease.spec?.renewTime ?? 0).getTime()).toBe(clock.date().getTime());
    standby.elector.stop();
  });

  it('hands over at the next attempt when the leader releases the lease', async () => {
    const { clock, name, pair, leader, standby } = await twoCandidates();
    await leader.elector.release();
    await leader.done;
    expect(leader.elector.isLeader()).toBe(false);
    expect(await gauge(leader)).toBe(0);
    await tick(clock, pair);
    // One retry period, not a lease duration: the standby did not wait for expiry.
    expect(standby.elector.isLeader()).toBe(true);
    expect(await holderOf(name)).toBe(standby.identity);
    standby.elector.stop();
  });

  it('calls onStoppedLeading when it cannot renew past the renew deadline', async () => {
    const clock = new ManualClock();
    const name = `operator-${++leaseCounter}`;
    const only = candidate(clock, name, `${name}-a`);
    await settle(clock, [only]);
    expect(only.elector.isLeader()).toBe(true);
    // Another party takes the lease by force and keeps it fresh for a minute.
    const lease = await coordination.readNamespacedLease({ name, namespace });
    await coordination.replaceNamespacedLease({
      name,
      namespace,
      body: {
        ...lease,
        spec: {
          ...lease.spec,
          holderIdentity: 'usurper',
          leaseDurationSeconds: 60,
          renewTime: new V1MicroTime(),
        },
      },
    });
    const tookAt = clock.now();
    while (only.running && clock.now() - tookAt < 3 * renewDeadlineMs) await tick(clock, [only]);
    expect(only.stoppedLeading).toBe(true);
    expect(clock.now() - tookAt).toBeLessThanOrEqual(renewDeadlineMs + tickMs);
    await only.done;
    expect(only.elector.isLeader()).toBe(false);
    expect(await gauge(only)).toBe(0);
    expect(await holderOf(name)).toBe('usurper');
  });

  it.each([
    { mode: 'refuse' as const, what: 'refuses connections' },
    { mode: 'blackhole' as const, what: 'never answers' },
  ])('gives the lease up within the renew deadline when the API server $what', async ({ mode }) => {
    const proxy = new PartitionableProxy(Number(new URL(cp.server).port));
    await proxy.listen();
    try {
      const clock = new ManualClock();
      const name = `operator-${++leaseCounter}`;
      const only = candidate(
        clock,
        name,
        `${name}-a`,
        kubeConfigVia(cp.kubeConfig, `https://127.0.0.1:${proxy.port}`),
      );
      await settle(clock, [only]);
      expect(only.elector.isLeader()).toBe(true);
      const cutAt = clock.now();
      proxy.partition(mode);
      // A request that never answers is cut short on real time (an I/O timeout), then the schedule goes on.
      while (only.running && clock.now() - cutAt < 3 * renewDeadlineMs) await tick(clock, [only]);
      expect(only.stoppedLeading).toBe(true);
      expect(clock.now() - cutAt).toBeLessThanOrEqual(renewDeadlineMs + tickMs);
      await only.done;
      expect(only.elector.isLeader()).toBe(false);
    } finally {
      await proxy.close();
    }
  });

  it('rejects timings that cannot work', () => {
    expect(
      () =>
        new LeaderElector({
          kubeConfig: cp.kubeConfig,
          namespace,
          name: 'x',
          identity: 'x',
          leaseDurationMs: 5000,
          renewDeadlineMs: 6000,
        }),
    ).toThrow(/leaseDurationMs > renewDeadlineMs/);
  });
});
