/** Leader election between real candidates on a real API server, with short timings (3 s / 2 s / 0.5 s). */
import { CoordinationV1Api, V1MicroTime } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type ControlPlane, startControlPlane } from '../../../test/cluster/control-plane.ts';
import { createNamespace } from '../../../test/cluster/kube.ts';
import { createOperatorMetrics, type OperatorMetrics } from '../telemetry/metrics.ts';
import { LeaderElector } from './leader-election.ts';
import { kubeConfigVia, PartitionableProxy } from './partitionable-proxy.ts';

const leaseDurationMs = 3000;
const renewDeadlineMs = 2000;
const retryPeriodMs = 500;
/** Scheduling, request latency and the candidate's retry jitter on two busy cores. */
const marginMs = 2000;

interface Candidate {
  identity: string;
  elector: LeaderElector;
  metrics: OperatorMetrics;
  startedAt: number | undefined;
  stoppedLeading: boolean;
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

  function candidate(name: string, identity: string, kubeConfig = cp.kubeConfig): Candidate {
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
    });
    const entry: Candidate = {
      identity,
      elector,
      metrics,
      startedAt: undefined,
      stoppedLeading: false,
      done: undefined as never,
    };
    entry.done = elector.run({
      onStartedLeading: () => {
        entry.startedAt = performance.now();
      },
      onStoppedLeading: () => {
        entry.stoppedLeading = true;
      },
    });
    candidates.push(entry);
    return entry;
  }

  async function twoCandidates() {
    const name = `operator-${++leaseCounter}`;
    const pair = [candidate(name, `${name}-a`), candidate(name, `${name}-b`)];
    await vi.waitFor(() => expect(pair.some((c) => c.elector.isLeader())).toBe(true), {
      timeout: 10_000,
      interval: 50,
    });
    const leader = pair.find((c) => c.elector.isLeader()) as Candidate;
    const standby = pair.find((c) => c !== leader) as Candidate;
    return { name, leader, standby };
  }

  const gauge = async (c: Candidate) => (await c.metrics.leader.get()).values[0]?.value;
  const holderOf = async (name: string) =>
    (await coordination.readNamespacedLease({ name, namespace })).spec?.holderIdentity;

  it('lets exactly one of two candidates lead, and says so in the lease and the leader gauge', async () => {
    const { name, leader, standby } = await twoCandidates();
    // Several renewal rounds: the standby must stay a standby while the leader renews.
    await new Promise((resolve) => setTimeout(resolve, leaseDurationMs + 1000));
    expect(leader.elector.isLeader()).toBe(true);
    expect(standby.elector.isLeader()).toBe(false);
    expect(standby.startedAt).toBeUndefined();
    expect(await holderOf(name)).toBe(leader.identity);
    expect(await gauge(leader)).toBe(1);
    expect(await gauge(standby)).toBe(0);
    leader.elector.stop();
    standby.elector.stop();
  });

  it('hands over within one lease duration when the leader stops renewing without releasing', async () => {
    const { name, leader, standby } = await twoCandidates();
    const stoppedAt = performance.now();
    leader.elector.stop();
    await leader.done;
    await vi.waitFor(() => expect(standby.elector.isLeader()).toBe(true), {
      timeout: leaseDurationMs + marginMs + 5000,
      interval: 50,
    });
    const takeoverMs = (standby.startedAt ?? Number.NaN) - stoppedAt;
    expect(takeoverMs).toBeLessThan(leaseDurationMs + marginMs);
    expect(await holderOf(name)).toBe(standby.identity);
    expect(leader.stoppedLeading).toBe(false);
    const lease = await coordination.readNamespacedLease({ name, namespace });
    expect(lease.spec?.leaseTransitions).toBe(1);
    standby.elector.stop();
  });

  it('hands over at once when the leader releases the lease', async () => {
    const { name, leader, standby } = await twoCandidates();
    const releasedAt = performance.now();
    await leader.elector.release();
    await leader.done;
    expect(leader.elector.isLeader()).toBe(false);
    expect(await gauge(leader)).toBe(0);
    await vi.waitFor(() => expect(standby.elector.isLeader()).toBe(true), { timeout: 10_000, interval: 50 });
    // Well under a lease duration: the standby did not wait for expiry.
    expect((standby.startedAt ?? Number.NaN) - releasedAt).toBeLessThan(retryPeriodMs * 1.2 + 1000);
    expect(await holderOf(name)).toBe(standby.identity);
    standby.elector.stop();
  });

  it('calls onStoppedLeading when it cannot renew past the renew deadline', async () => {
    const name = `operator-${++leaseCounter}`;
    const only = candidate(name, `${name}-a`);
    await vi.waitFor(() => expect(only.elector.isLeader()).toBe(true), { timeout: 10_000, interval: 50 });
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
    const tookAt = performance.now();
    await vi.waitFor(() => expect(only.stoppedLeading).toBe(true), {
      timeout: renewDeadlineMs + marginMs + 5000,
      interval: 50,
    });
    expect(performance.now() - tookAt).toBeLessThan(renewDeadlineMs + retryPeriodMs + marginMs);
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
      const name = `operator-${++leaseCounter}`;
      const only = candidate(
        name,
        `${name}-a`,
        kubeConfigVia(cp.kubeConfig, `https://127.0.0.1:${proxy.port}`),
      );
      await vi.waitFor(() => expect(only.elector.isLeader()).toBe(true), { timeout: 10_000, interval: 50 });
      const cutAt = performance.now();
      proxy.partition(mode);
      await vi.waitFor(() => expect(only.stoppedLeading).toBe(true), { timeout: 15_000, interval: 50 });
      // The last renewal was at most a retry period before the cut; hanging requests are cut short.
      expect(performance.now() - cutAt).toBeLessThan(renewDeadlineMs + retryPeriodMs + marginMs);
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
