/**
 * Faults in the live loop, on real components (see live-env.ts): a stale series and a query that
 * returns two series change nothing and name the signal; a Redis master of the 6-node cluster
 * stopped during a maxmemory apply makes the profile Degraded naming the node, and the next cycle
 * after it returns converges it; kube-apiserver stopped in the middle of a cycle and started again
 * applies nothing twice and loses nothing; the lease moving from one operator replica to another
 * applies nothing twice, and the new leader keeps the cooldown from the history it rebuilt; an
 * operator process killed after a change and before its status write loses it to no one.
 *
 * Every maxmemory decision here comes from real evictions: the tests write values larger than
 * the nodes' memory into Redis and read random keys. The profiles use the default PromQL a user
 * gets: the engine's rates read low while the test Prometheus is younger than their windows, and
 * the maxmemory decision rests on Redis INFO, which the operator reads itself.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { CoreV1Api } from '@kubernetes/client-node';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Decision,
  LAST_CHANGE_ANNOTATION,
  type PerformanceProfile,
} from '../../operator/src/api/v1alpha1/index.ts';
import type { RunningOperator } from '../../operator/src/controller/operator.ts';
import { freePort, waitFor } from '../cluster/processes.ts';
import { kubectlApplyYaml } from './fixtures.ts';
import {
  CLUSTER_START_MIB,
  condition,
  evictionLoad,
  type LiveEnv,
  MIB,
  maxmemoryAt,
  PINNED_EXCEPT_MAXMEMORY,
  PINNED_STACK_KNOBS,
  REDIS_CLUSTER_CONFIG_MAP,
  startLiveEnv,
} from './live-env.ts';

const ns = 'faults';
const PASSWORD = 'live-faults-redis-password-31c9';
/** Named timeouts: what a user may wait for. */
const evaluationMs = 10_000;
const appliedWithinMs = 4 * evaluationMs;
/** The standalone servers start here, as the cluster does: a memory-bound cache. */
const START_MIB = CLUSTER_START_MIB;
/** Leases long enough that the leader keeps its lease while kube-apiserver restarts. */
/** (kube-apiserver takes up to half a minute to be ready again on a busy machine.) */
const LEASE = { namespace: ns, leaseDurationMs: 100_000, renewDeadlineMs: 90_000, retryPeriodMs: 500 };

let env: LiveEnv;
let leader: RunningOperator;
let standby: RunningOperator;
const leaderLog: string[] = [];
const standbyLog: string[] = [];
/** What each fault test injected and found, printed at the end (the fault table of docs/concepts.md). */
const figures: { fault: string; changes: number; duplicated: number; lost: number }[] = [];

const waitForProfile = (name: string, what: string, check: (p: PerformanceProfile) => boolean) =>
  env.waitForProfile(name, what, check, appliedWithinMs);

/** changesOf counts the history entries per knob: a change applied twice shows as 2. */
function changesPerKnob(history: readonly Decision[] | undefined): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const d of history ?? []) counts[d.knob] = (counts[d.knob] ?? 0) + 1;
  return counts;
}

async function evictedKeys(client: Redis): Promise<number> {
  return Number(/evicted_keys:(\d+)/.exec(String(await client.info('stats')))?.[1]);
}

/** standaloneClient connects to the standalone server `name` with the password. */
function standaloneClient(name: string): Redis {
  const server = env.standalone.get(name);
  if (!server) throw new Error(`no standalone Redis named ${name}`);
  const client = new Redis({ host: server.host, port: server.port, password: PASSWORD });
  client.on('error', () => {});
  return client;
}

/**
 * onOperatorInfo calls `act` once, when the operator's `count`-th INFO reaches the node (the
 * operator sends `INFO` in capitals; ioredis's ready check sends `info`). The first measurement
 * of a profile reads INFO twice, a second apart, then rebuilds the history from Prometheus before
 * it acts: a fault injected at the second INFO lands between measuring and acting.
 */
async function onOperatorInfo(
  host: string,
  port: number,
  count: number,
  act: () => void,
): Promise<{ fired: () => boolean; close(): void }> {
  // redis-cli, not ioredis: ioredis marks a connection as monitoring only a microtask after
  // MONITOR's OK, so a monitored command read in the same chunk as that OK meets an empty command
  // queue and throws "Command queue state error" where no listener catches it (seen under CI's
  // write load). redis-cli prints the server's lines as they come, and ends with the node.
  const cli = spawn('redis-cli', ['-h', host, '-p', String(port), 'monitor'], {
    env: { ...process.env, REDISCLI_AUTH: PASSWORD },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  let seen = 0;
  let fired = false;
  const lines = createInterface({ input: cli.stdout });
  const started = new Promise<void>((resolve, reject) => {
    cli.once('error', reject);
    cli.once('exit', (code) => reject(new Error(`redis-cli monitor on ${port} exited with ${code}`)));
    lines.on('line', (line) => {
      if (line === 'OK') return resolve();
      // The measurement's INFO has no section (`… "INFO"`); discovery asks the seed for `INFO
      // cluster`, and ioredis's ready check sends `info`.
      if (!line.endsWith('] "INFO"') || fired) return;
      seen++;
      if (seen < count) return;
      fired = true;
      act();
    });
  });
  await started;
  return {
    fired: () => fired,
    close: () => {
      lines.close();
      cli.kill();
    },
  };
}

beforeAll(async () => {
  env = await startLiveEnv({
    namespace: ns,
    password: PASSWORD,
    standalone: { 'odd-redis': START_MIB, 'restart-redis': START_MIB, 'lease-redis': START_MIB },
    stacks: [
      { name: 'stale-api' },
      { name: 'multi-api' },
      { name: 'cache-api' },
      { name: 'restart-api', knobs: PINNED_STACK_KNOBS },
      { name: 'lease-api', knobs: PINNED_STACK_KNOBS },
      { name: 'crash-api', knobs: PINNED_STACK_KNOBS },
    ],
  });
  // Two replicas behind one Lease, as the operator's Deployment runs them.
  leader = await env.startOperator('faults-a', { leaderElection: LEASE, logLines: leaderLog });
  await waitFor('faults-a leads', async () => leader.isLeader() || undefined, { timeoutMs: 20_000 });
  standby = await env.startOperator('faults-b', { leaderElection: LEASE, logLines: standbyLog });
}, 240_000);

afterAll(async () => {
  await env?.stop();
  console.log(`fault figures: ${JSON.stringify(figures)}`);
  mkdirSync('.testenv', { recursive: true });
  writeFileSync('.testenv/live-faults-operator.log', env?.logLines.join('') ?? '');
});

describe('unknown signals', () => {
  let load: { stop(): Promise<void> };
  beforeAll(async () => {
    const client = standaloneClient('odd-redis');
    load = evictionLoad(client);
    await waitFor('odd-redis evicting', async () => ((await evictedKeys(client)) > 0 ? true : undefined), {
      timeoutMs: 30_000,
    });
  });
  afterAll(async () => await load?.stop());

  it('a series no longer updated goes stale: no change, and the condition names the signal', async () => {
    // The exporter serves database_connections_active with the time of its last update, as a
    // stuck exporter or federation does: Prometheus still returns it, but its sample ages. (New
    // pods' series: a timestamp older than the scraped samples of the old ones would be dropped.)
    const exporter = env.exporters.get('stale-api');
    if (!exporter) throw new Error('no exporter');
    exporter.registry.removeSingleMetric('database_connections_active');
    const frozenAt = Date.now();
    exporter.setTimestamped(
      ['x', 'y'].map((pod) => ({
        name: 'database_connections_active',
        labels: { pod: `stale-api-${pod}` },
        value: 1,
        timestampMs: frozenAt,
      })),
    );
    // Older than the profile's staleness bound of 30 s before the profile exists, so it never
    // sees the series fresh (under the eviction load it would act at once).
    await env.prometheus.waitForSeries(
      `time() - max(timestamp(database_connections_active{job="stale-api"})) > 31`,
      60_000,
    );
    await env.profiles.create(
      env.profileFor('stale-api', 'Auto', 'odd-redis', { queries: {}, stalenessSeconds: 30 }),
    );
    const p = await waitForProfile('stale-api', 'the stale signal named', (p) =>
      /stale \(newest sample over 30 s old\): [^;]*dbActiveConnections/.test(
        condition(p, 'MetricsAvailable')?.message ?? '',
      ),
    );
    expect(condition(p, 'MetricsAvailable')).toMatchObject({ status: 'False', reason: 'MetricsStale' });
    expect(condition(p, 'MetricsAvailable')?.message).toMatch(/stale [^:]*: [^;]*poolUsagePercent/);
    expect(p.status?.lastSnapshot?.stale).toBe(true);
    await new Promise((r) => setTimeout(r, evaluationMs + 2000));
    expect(await env.maxmemoryOf('odd-redis')).toBe(START_MIB * MIB);
    expect(await env.hpaOf('stale-api')).toMatchObject({ minReplicas: 2, maxReplicas: 4 });
    expect((await env.profiles.get(ns, 'stale-api')).status?.history).toBeUndefined();
    figures.push({ fault: 'stale series', changes: 0, duplicated: 0, lost: 0 });
  }, 120_000);

  it('two series where one is expected: no change, and the condition names the signal', async () => {
    // A query without sum(): one series per pod. stale-api goes first, so that only one profile
    // reads odd-redis at a time.
    await env.profiles.delete(ns, 'stale-api').catch(() => undefined);
    await env.profiles.create(
      env.profileFor('multi-api', 'Auto', 'odd-redis', {
        queries: {
          dbActiveConnections: 'database_connections_active{namespace="$namespace",job="$deployment"}',
        },
      }),
    );
    const p = await waitForProfile('multi-api', 'the multi-series signal named', (p) =>
      /several series where one is expected: [^;]*dbActiveConnections/.test(
        condition(p, 'MetricsAvailable')?.message ?? '',
      ),
    );
    expect(condition(p, 'MetricsAvailable')).toMatchObject({ status: 'False', reason: 'MetricsUnavailable' });
    await new Promise((r) => setTimeout(r, evaluationMs + 2000));
    // The condition says the cause in a few words; its Warning Event names the Prometheus asked.
    expect(
      (await env.eventsOf('multi-api')).some(
        (e) => e.reason === 'MetricsUnavailable' && e.note.includes(`Prometheus at ${env.prometheus.url}`),
      ),
    ).toBe(true);
    expect(await env.maxmemoryOf('odd-redis')).toBe(START_MIB * MIB);
    expect(await env.hpaOf('multi-api')).toMatchObject({ minReplicas: 2, maxReplicas: 4 });
    expect((await env.profiles.get(ns, 'multi-api')).status?.history).toBeUndefined();
    await env.profiles.delete(ns, 'multi-api');
    figures.push({ fault: 'two series for one signal', changes: 0, duplicated: 0, lost: 0 });
  }, 120_000);
});

describe('a Redis master stopped during a maxmemory apply', () => {
  it('is Degraded naming the node, loses nothing, and the next cycle after it returns converges it', async () => {
    const seedPort = env.cluster.nodes[0]?.port;
    const roles = await env.cluster.roles();
    const [victim] = [...roles].find(([port, role]) => role === 'master' && port !== seedPort) ?? [];
    if (victim === undefined) throw new Error('no master besides the seed');
    const down = `127.0.0.1:${victim}`;
    const loader = new Cluster([{ host: '127.0.0.1', port: seedPort ?? 0 }], {
      redisOptions: { password: PASSWORD },
    });
    loader.on('error', () => {});
    const load = evictionLoad(loader);
    const probe = new Redis({ host: '127.0.0.1', port: seedPort ?? 0, password: PASSWORD });
    probe.on('error', () => {});
    let trigger: Awaited<ReturnType<typeof onOperatorInfo>> | undefined;
    try {
      await waitFor('the cluster evicting', async () => ((await evictedKeys(probe)) > 0 ? true : undefined), {
        timeoutMs: 60_000,
      });
      // Killed once the operator has measured it, before the operator sets maxmemory on it.
      trigger = await onOperatorInfo('127.0.0.1', victim, 2, () => void env.cluster.stopNode(victim));
      await env.profiles.create(env.profileFor('cache-api', 'Auto', 'cluster', { queries: {} }));
      const degraded = await waitForProfile(
        'cache-api',
        'Degraded naming the stopped master',
        (p) =>
          condition(p, 'Degraded')?.status === 'True' &&
          (condition(p, 'Degraded')?.message ?? '').includes(down),
      );
      expect(trigger.fired()).toBe(true);
      expect(condition(degraded, 'Degraded')?.reason).toBe('RedisNotConverged');
      const entries = (degraded.status?.history ?? []).filter((d) => d.knob === 'redisMaxmemoryMiB');
      expect(entries).toHaveLength(1);
      const raised = entries[0]?.to ?? 0;
      expect(entries[0]).toMatchObject({ from: CLUSTER_START_MIB, outcome: 'Applied' });
      expect(raised).toBeGreaterThan(CLUSTER_START_MIB);
      // Set on the five nodes that answered, and persisted for the one that did not.
      const others = env.cluster.nodes.filter((n) => n.port !== victim);
      expect(await Promise.all(others.map((n) => maxmemoryAt(n.host, n.port, PASSWORD)))).toEqual(
        Array(5).fill(raised * MIB),
      );
      expect(await env.redisConfigMap()).toBe(`maxmemory ${raised}mb\n`);

      await env.cluster.startNode(victim);
      const converged = await waitForProfile(
        'cache-api',
        'converged after the master returned',
        (p) => condition(p, 'Degraded')?.status === 'False',
      );
      expect(await env.clusterMaxmemory()).toEqual(Array(6).fill(raised * MIB));
      expect(await env.redisConfigMap()).toBe(`maxmemory ${raised}mb\n`);
      const events = await env.eventsOf('cache-api');
      expect(events.some((e) => e.reason === 'Converged' && e.note.includes('on 6 of 6 Redis nodes'))).toBe(
        true,
      );
      // Nothing applied twice: one maxmemory change, and no knob changed more than once.
      expect(changesPerKnob(converged.status?.history).redisMaxmemoryMiB).toBe(1);
      expect(Math.max(...Object.values(changesPerKnob(converged.status?.history)))).toBe(1);
      figures.push({
        fault: 'Redis master stopped during a maxmemory apply',
        changes: converged.status?.history?.length ?? 0,
        duplicated: 0,
        lost: 0,
      });
      await env.profiles.delete(ns, 'cache-api');
    } finally {
      trigger?.close();
      probe.disconnect();
      await load.stop();
    }
  }, 180_000);
});

describe('kube-apiserver restarted mid-cycle', () => {
  it('applies no change twice and loses none: the operator resumes and records what it applied', async () => {
    const client = standaloneClient('restart-redis');
    const load = evictionLoad(client);
    const server = env.standalone.get('restart-redis');
    if (!server) throw new Error('no restart-redis');
    let trigger: Awaited<ReturnType<typeof onOperatorInfo>> | undefined;
    let stopped: Promise<void> | undefined;
    let restarted = false;
    try {
      const probe = standaloneClient('restart-redis');
      await waitFor(
        'restart-redis evicting',
        async () => ((await evictedKeys(probe)) > 0 ? true : undefined),
        {
          timeoutMs: 30_000,
        },
      );
      probe.disconnect();
      // Stopped at the operator's first INFO: after it observed the target and took it over, and
      // before it acts (a second reading follows a second later) and writes status.
      trigger = await onOperatorInfo(server.host, server.port, 1, () => {
        stopped = env.cp.stopApiServer();
      });
      await env.profiles.create(
        env.profileFor('restart-api', 'Auto', 'restart-redis', {
          queries: {},
          knobs: PINNED_EXCEPT_MAXMEMORY,
        }),
      );
      await waitFor('the API server stopped mid-cycle', async () => (stopped ? true : undefined), {
        timeoutMs: appliedWithinMs,
      });
      await stopped;
      // The cut cycle fails where it next needs the API server (the Redis password, then status)
      // and is retried; nothing it did is written twice when the API server is back.
      await new Promise((r) => setTimeout(r, 3000));
      await env.cp.startApiServer();
      restarted = true;
      // The reconcile retries with backoff while the API server is away: up to a minute after.
      const p = await env.waitForProfile(
        'restart-api',
        'the change recorded',
        (p) => (p.status?.history ?? []).some((d) => d.knob === 'redisMaxmemoryMiB'),
        90_000,
      );
      const raised = p.status?.history?.find((d) => d.knob === 'redisMaxmemoryMiB')?.to ?? 0;
      expect(raised).toBeGreaterThan(START_MIB);
      expect(
        leaderLog.some(
          (l) => l.includes('"profile":"faults/restart-api"') && l.includes('reconcile failed: retrying'),
        ),
      ).toBe(true);
      expect(p.status?.history?.find((d) => d.knob === 'redisMaxmemoryMiB')).toMatchObject({
        from: START_MIB,
        to: raised,
        outcome: 'Applied',
      });
      const events = await env.eventsOf('restart-api');
      expect(
        events.filter((e) => e.reason === 'Applied' && e.note.startsWith('redisMaxmemoryMiB')),
      ).toHaveLength(1);
      // Two more evaluations under the same evictions: the cooldown holds, nothing moves again.
      await new Promise((r) => setTimeout(r, 2 * evaluationMs + 2000));
      const after = await env.profiles.get(ns, 'restart-api');
      expect(await env.maxmemoryOf('restart-redis')).toBe(raised * MIB);
      expect(changesPerKnob(after.status?.history).redisMaxmemoryMiB).toBe(1);
      expect(Math.max(...Object.values(changesPerKnob(after.status?.history)))).toBe(1);
      expect(leader.isLeader()).toBe(true);
      figures.push({
        fault: 'kube-apiserver restarted mid-cycle',
        changes: after.status?.history?.length ?? 0,
        duplicated: 0,
        lost: 0,
      });
    } finally {
      trigger?.close();
      await stopped;
      // The tests after this one need the API server, whatever this one found.
      if (stopped && !restarted) await env.cp.startApiServer();
      await load.stop();
    }
  }, 180_000);
});

describe('the lease moving to the other replica', () => {
  it('applies no change twice, and the new leader keeps the cooldown from the history it rebuilt', async () => {
    const client = standaloneClient('lease-redis');
    const load = evictionLoad(client);
    try {
      await env.profiles.create(
        env.profileFor('lease-api', 'Auto', 'lease-redis', { queries: {}, knobs: PINNED_EXCEPT_MAXMEMORY }),
      );
      const p = await waitForProfile('lease-api', 'maxmemory raised by faults-a', (p) =>
        (p.status?.history ?? []).some((d) => d.knob === 'redisMaxmemoryMiB'),
      );
      const raised = p.status?.history?.find((d) => d.knob === 'redisMaxmemoryMiB')?.to ?? 0;
      expect(raised).toBeGreaterThan(START_MIB);
      const historyBefore = p.status?.history;
      // faults-a stops (a rollout of the operator): it releases the lease and faults-b takes it.
      await leader.stop();
      await waitFor('faults-b leads', async () => standby.isLeader() || undefined, { timeoutMs: 20_000 });
      await waitFor(
        'faults-b rebuilt the history of lease-api',
        async () =>
          standbyLog.find(
            (l) => l.includes('"rebuilt history"') && l.includes('"profile":"faults/lease-api"'),
          ),
        { timeoutMs: appliedWithinMs },
      );
      // Two evaluations by faults-b under the same evictions: it wants more memory, and the
      // cooldown it counts from the change faults-a made holds it.
      await new Promise((r) => setTimeout(r, 2 * evaluationMs + 2000));
      const rebuilt = standbyLog.find(
        (l) => l.includes('"rebuilt history"') && l.includes('faults/lease-api'),
      );
      const parsed = JSON.parse(rebuilt ?? '{}') as { changes?: number; snapshots?: number };
      expect(parsed.changes).toBe(historyBefore?.length);
      expect(parsed.snapshots).toBeGreaterThan(0);
      const held = standbyLog.filter(
        (l) =>
          l.includes('"decided"') &&
          l.includes('faults/lease-api') &&
          /redisMaxmemoryMiB \d+→\d+ hold: [^"]*cooldown/.test(l),
      );
      expect(held.length).toBeGreaterThan(0);
      const after = await env.profiles.get(ns, 'lease-api');
      expect(after.status?.history).toEqual(historyBefore);
      expect(await env.maxmemoryOf('lease-redis')).toBe(raised * MIB);
      figures.push({
        fault: 'lease moved to the other replica',
        changes: after.status?.history?.length ?? 0,
        duplicated: 0,
        lost: 0,
      });
    } finally {
      await load.stop();
    }
  }, 180_000);
});

/** The admission policy that holds back every status write of crash-api, as a dead process would. */
const HOLD_STATUS = `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: { name: hold-crash-api-status }
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
      - apiGroups: [perfpilot.dev]
        apiVersions: ['*']
        operations: [UPDATE]
        resources: [performanceprofiles/status]
  matchConditions:
    - name: crash-api-only
      expression: "request.name == 'crash-api'"
  validations:
    - expression: "false"
      message: the test holds back status writes of crash-api
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: { name: hold-crash-api-status }
spec:
  policyName: hold-crash-api-status
  validationActions: [Deny]
`;

describe('an operator process killed between a change and its status write', () => {
  const bin = fileURLToPath(new URL('../../bin/perfpilot.js', import.meta.url));
  const children = new Set<ChildProcess>();
  /** operatorProcess runs `perfpilot operator` on the namespace, its log in .testenv. */
  async function operatorProcess(identity: string): Promise<ChildProcess> {
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [
        bin,
        'operator',
        `--kubeconfig=${env.cp.kubeconfigPath}`,
        `--metrics-port=${port}`,
        `--health-port=${await freePort()}`,
        `--identity=${identity}`,
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, WATCH_NAMESPACE: ns, POD_NAMESPACE: ns, LOG_LEVEL: 'info' },
      },
    );
    // A clean checkout has no .testenv until something creates it.
    mkdirSync('.testenv', { recursive: true });
    const log = createWriteStream(`.testenv/live-faults-${identity}.log`);
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    children.add(child);
    child.once('exit', () => children.delete(child));
    return child;
  }
  afterAll(() => {
    for (const child of children) child.kill('SIGKILL');
  });

  it('the next process records the change it finds on the Redis ConfigMap, and makes it not again', async () => {
    // The in-process replicas step aside: the processes below are the only operators.
    await standby.stop();
    await kubectlApplyYaml(env.cp, 'hold-status.yaml', HOLD_STATUS);
    // The policy takes effect once the API server has loaded it.
    await new Promise((r) => setTimeout(r, 3000));
    const seedPort = env.cluster.nodes[0]?.port ?? 0;
    const loader = new Cluster([{ host: '127.0.0.1', port: seedPort }], {
      redisOptions: { password: PASSWORD },
    });
    loader.on('error', () => {});
    const load = evictionLoad(loader);
    try {
      const first = await operatorProcess('crash-1');
      const created = await env.profiles.create(
        env.profileFor('crash-api', 'Auto', 'cluster', { queries: {}, knobs: PINNED_EXCEPT_MAXMEMORY }),
      );
      // The change is applied with its record; its status write is refused.
      const record = await waitFor(
        'the record of the maxmemory change on the Redis ConfigMap',
        async () => {
          const cm = await env.cp.kubeConfig
            .makeApiClient(CoreV1Api)
            .readNamespacedConfigMap({ namespace: ns, name: REDIS_CLUSTER_CONFIG_MAP });
          const text = cm.metadata?.annotations?.[LAST_CHANGE_ANNOTATION];
          return text?.includes(created.metadata.uid ?? '-') ? text : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 100 },
      );
      first.kill('SIGKILL');
      const change = (JSON.parse(record) as { changes: Decision[] }).changes[0];
      expect(change).toMatchObject({
        knob: 'redisMaxmemoryMiB',
        from: CLUSTER_START_MIB,
        outcome: 'Applied',
      });
      const raised = change?.to ?? 0;
      expect(await env.clusterMaxmemory()).toEqual(Array(6).fill(raised * MIB));
      expect((await env.profiles.get(ns, 'crash-api')).status?.history).toBeUndefined();

      await env.cp.kubectl(['delete', 'validatingadmissionpolicybinding', 'hold-crash-api-status']);
      await operatorProcess('crash-2');
      // crash-2 takes the Lease once crash-1's expires (it was not released).
      const p = await env.waitForProfile(
        'crash-api',
        'the change recorded by crash-2',
        (p) => (p.status?.history ?? []).length > 0,
        90_000,
      );
      expect(p.status?.history).toEqual([change]);
      const events = await env.eventsOf('crash-api');
      expect(events.filter((e) => e.note.includes('recorded late'))).toHaveLength(1);
      expect(events.find((e) => e.note.includes('recorded late'))?.instance).toBe('crash-2');
      // Two more evaluations under the same evictions: the cooldown counts from the recorded change.
      await new Promise((r) => setTimeout(r, 2 * evaluationMs + 2000));
      const after = await env.profiles.get(ns, 'crash-api');
      expect(after.status?.history).toEqual([change]);
      expect(await env.clusterMaxmemory()).toEqual(Array(6).fill(raised * MIB));
      figures.push({
        fault: 'operator killed between a change and its status write',
        changes: 1,
        duplicated: 0,
        lost: 0,
      });
    } finally {
      await load.stop();
    }
  }, 180_000);
});
